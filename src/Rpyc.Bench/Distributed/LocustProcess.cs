using System.Diagnostics;

namespace Rpyc.Bench;

// One Locust process (master or worker): its output drained into a short tail for error messages
// (a full pipe would block it), waited on with a bound and a cancellation, and killed with its
// children when disposed, whatever state it is in.
internal sealed class LocustProcess : IDisposable
{
    private const int TailLines = 20;
    private readonly Process _process;
    private readonly Queue<string> _tail = new();

    private LocustProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int ExitCode => _process.HasExited ? _process.ExitCode : -1;

    public string Tail
    {
        get
        {
            lock (_tail)
            {
                return string.Join(Environment.NewLine, _tail);
            }
        }
    }

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
            _process.WaitForExit();
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
        _process.WaitForExit();
        return true;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_tail)
        {
            _tail.Enqueue(line);
            while (_tail.Count > TailLines)
            {
                _tail.Dequeue();
            }
        }
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
