using System.Diagnostics;
using System.Globalization;

namespace Rpyc.Figures.Peers;

/// <summary>
/// A server in a child process that prints <c>PORT n</c> on stdout once it listens on 127.0.0.1.
/// Disposing stops it (closing its stdin first when it stops on EOF), kills whatever is left of its
/// process tree, and waits for it.
/// </summary>
internal sealed class ServerProcess : IDisposable
{
    private static readonly TimeSpan s_gracefulStop = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly StderrTail _stderr;
    private readonly bool _stopsOnStdinClose;

    private ServerProcess(string name, Process process, int port, int echoPort, StderrTail stderr, bool stopsOnStdinClose)
    {
        Name = name;
        _process = process;
        Port = port;
        EchoPort = echoPort;
        _stderr = stderr;
        _stopsOnStdinClose = stopsOnStdinClose;
    }

    public string Name { get; }

    public int Port { get; }

    /// <summary>The raw 16-byte TCP echo the server process also serves (<c>ECHO n</c>), or 0.</summary>
    public int EchoPort { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    public string RecentStderr => _stderr.ToString();

    /// <param name="name">How errors name the server.</param>
    /// <param name="info">The command; stdout and stderr are redirected here.</param>
    /// <param name="timeout">How long to wait for <c>PORT n</c>.</param>
    /// <param name="stopsOnStdinClose">Whether the server exits when its stdin closes (stdin is then redirected and held).</param>
    public static ServerProcess Start(string name, ProcessStartInfo info, TimeSpan timeout, bool stopsOnStdinClose)
    {
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.RedirectStandardInput = stopsOnStdinClose;
        info.UseShellExecute = false;
        Process process = Process.Start(info) ?? throw new FiguresException($"Could not start {name}.");
        ChildProcesses.Track(process);
        var stderr = new StderrTail();
        // Completed by the reader thread: the port, or 0 when stdout closed first.
        var announced = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        // Printed before PORT, so set before the wait below returns.
        int echoPort = 0;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                announced.TrySetResult(0);
            }
            else if (e.Data.StartsWith("ECHO ", StringComparison.Ordinal) && int.TryParse(e.Data.AsSpan(5), CultureInfo.InvariantCulture, out int echo))
            {
                Volatile.Write(ref echoPort, echo);
            }
            else if (e.Data.StartsWith("PORT ", StringComparison.Ordinal) && int.TryParse(e.Data.AsSpan(5), CultureInfo.InvariantCulture, out int p))
            {
                announced.TrySetResult(p);
            }
        };
        process.ErrorDataReceived += (_, e) => stderr.Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        int bound = announced.Task.Wait(timeout) ? announced.Task.Result : 0;
        if (bound == 0)
        {
            ChildProcesses.Kill(process);
            process.Dispose();
            throw new FiguresException($"{name} did not print 'PORT <n>' within {timeout.TotalSeconds:0} s. stderr: {stderr}");
        }
        return new ServerProcess(name, process, bound, Volatile.Read(ref echoPort), stderr, stopsOnStdinClose);
    }

    /// <exception cref="FiguresException">The server died.</exception>
    public void EnsureAlive()
    {
        if (_process.HasExited)
        {
            throw new FiguresException($"{Name} died during the run. stderr: {_stderr}");
        }
    }

    public void Dispose()
    {
        if (_stopsOnStdinClose)
        {
            try
            {
                _process.StandardInput.Close();
                _process.WaitForExit(s_gracefulStop);
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException)
            {
                // Already gone: the kill below reaps it.
            }
        }
        // Also takes any worker or forked child still alive.
        ChildProcesses.Kill(_process);
        _process.Dispose();
    }
}

/// <summary>The last lines a child wrote to stderr, for error messages.</summary>
internal sealed class StderrTail
{
    private readonly Queue<string> _lines = new();

    public void Add(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_lines)
        {
            _lines.Enqueue(line);
            while (_lines.Count > 20)
            {
                _lines.Dequeue();
            }
        }
    }

    public override string ToString()
    {
        lock (_lines)
        {
            return _lines.Count == 0 ? "(empty)" : string.Join(Environment.NewLine, _lines);
        }
    }
}
