using System.Diagnostics;
using System.Globalization;

namespace Rpyc.Figures.Peers;

/// <summary>
/// tests/python/demo_server.py (a stock rpyc ThreadedServer) on 127.0.0.1 and an ephemeral port.
/// Disposing kills the process and waits for it.
/// </summary>
internal sealed class PythonServer : IDisposable
{
    private readonly Process _process;
    private readonly StderrTail _stderr;

    private PythonServer(Process process, int port, StderrTail stderr)
    {
        _process = process;
        Port = port;
        _stderr = stderr;
    }

    public int Port { get; }

    public static PythonServer Start(string python, string repoRoot, TimeSpan timeout)
    {
        string script = Path.Combine(repoRoot, "tests", "python", "demo_server.py");
        var info = new ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-u");
        info.ArgumentList.Add(script);
        info.ArgumentList.Add("--host");
        info.ArgumentList.Add("127.0.0.1");
        info.ArgumentList.Add("--port");
        info.ArgumentList.Add("0");
        Process process = Process.Start(info) ?? throw new FiguresException($"Could not start {python} {script}.");
        ChildProcesses.Track(process);
        var stderr = new StderrTail();
        // Completed by the reader thread: the port, or 0 when stdout closed first.
        var announced = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                announced.TrySetResult(0);
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
            throw new FiguresException($"demo_server.py did not print 'PORT <n>' within {timeout.TotalSeconds:0} s. stderr: {stderr}");
        }
        return new PythonServer(process, bound, stderr);
    }

    public bool HasExited => _process.HasExited;

    public string RecentStderr => _stderr.ToString();

    public void Dispose()
    {
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
