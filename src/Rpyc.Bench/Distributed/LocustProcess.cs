using System.Diagnostics;

namespace Rpyc.Bench;

// One Locust process (master or worker): both its streams drained (a full pipe would block it) and
// kept bounded for error messages, waited on with a bound and a cancellation, and killed with its
// children when disposed, whatever state it is in.
internal sealed class LocustProcess : IDisposable
{
    // After the exit, how long the last lines still in the pipes (a traceback) are waited for: a
    // grandchild may hold them open.
    private static readonly TimeSpan s_streamEndTimeout = TimeSpan.FromSeconds(5);
    private readonly Process _process;
    private readonly ErrorLines _stdout;
    private readonly ErrorLines _stderr;

    private LocustProcess(Process process)
    {
        _process = process;
        _stdout = ErrorLines.AttachOutput(process);
        _stderr = ErrorLines.Attach(process);
    }

    public int ExitCode => _process.HasExited ? _process.ExitCode : -1;

    // Stderr (Locust's log and a traceback) then stdout, each its first and last lines; the two are
    // kept apart, so that either stream's last lines are there however chatty the other.
    public string Tail => string.Join(Environment.NewLine, new[] { _stderr.Join(Environment.NewLine), _stdout.Join(Environment.NewLine) }.Where(text => text.Length > 0));

    public static LocustProcess Start(string python, IEnumerable<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo(python, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach ((string key, string value) in environment)
        {
            info.Environment[key] = value;
        }
        return new LocustProcess(Process.Start(info) ?? throw new LocustRunException($"{python} could not be started."));
    }

    // True when it exited within the bound; false on timeout or cancellation (it is still running).
    public bool WaitForExit(TimeSpan bound, CancellationToken cancellationToken)
    {
        using var exited = new ManualResetEventSlim(false);
        _process.EnableRaisingEvents = true;
        _process.Exited += (_, _) => exited.Set();
        if (_process.HasExited)
        {
            ErrorLines.WaitForExit(s_streamEndTimeout, _stderr, _stdout);
            return true;
        }
        try
        {
            if (!exited.Wait(bound, cancellationToken))
            {
                return false;
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        // The pipes' end too, bounded: the last lines, which say why it failed, may still be in them.
        ErrorLines.WaitForExit(s_streamEndTimeout, _stderr, _stdout);
        return true;
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
        _process.Dispose();
    }
}
