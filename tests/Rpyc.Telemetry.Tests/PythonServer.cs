using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Rpyc.Telemetry.Tests;

/// <summary>
/// tests/python/demo_server.py (a stock rpyc ThreadedServer) run by Debian's /usr/bin/python3 on
/// 127.0.0.1 and a port chosen by the OS, shared by a test collection. Fails (never skips) with
/// the install command when python3-rpyc is missing, as STYLE.md section 8 requires.
/// </summary>
public sealed class PythonServerFixture : IDisposable
{
    public const string Interpreter = "/usr/bin/python3";
    public const string InstallCommand = "apt-get install -y python3-rpyc";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource<int> _port = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PythonServerFixture()
    {
        if (!File.Exists(Interpreter))
        {
            throw new InvalidOperationException($"{Interpreter} does not exist: these tests need Debian's Python with rpyc. Install it with `{InstallCommand}`.");
        }
        string script = Path.Combine(AppContext.BaseDirectory, "python", "demo_server.py");
        var start = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(script)!,
        };
        foreach (string argument in new[] { "-u", script, "--host", "127.0.0.1", "--port", "0" })
        {
            start.ArgumentList.Add(argument);
        }
        _process = new Process { StartInfo = start, EnableRaisingEvents = true };
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.Exited += (_, _) =>
        {
            _process.WaitForExit();
            _port.TrySetException(new InvalidOperationException(
                $"The Python peer exited with code {_process.ExitCode} before listening (is rpyc installed? `{InstallCommand}`). Its output:\n{Output}"));
        };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        try
        {
            Port = _port.Task.WaitAsync(TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
            WaitUntilListening();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public int Port { get; }

    // rpyc binds in Server.__init__ (the port is printed then) but listens only in start().
    private void WaitUntilListening()
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            try
            {
                probe.Connect("127.0.0.1", Port);
                return;
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline)
            {
                // Back off by waiting on the process itself: an exit ends the wait at once.
                if (_process.WaitForExit(25))
                {
                    throw new InvalidOperationException($"The Python peer exited with code {_process.ExitCode}. Its output:\n{Output}");
                }
            }
        }
    }

    /// <summary>Options with the envelope of the installed rpyc (5.x or 6.x).</summary>
    public RpycConnectOptions Options { get; } = new() { ProtocolVersion = ProbeVersion() };

    private static RpycProtocolVersion ProbeVersion()
    {
        var start = new ProcessStartInfo(Interpreter) { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import rpyc; print(rpyc.__version__)");
        using Process process = Process.Start(start)!;
        string version = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return version.StartsWith("6.", StringComparison.Ordinal) ? RpycProtocolVersion.V6 : RpycProtocolVersion.V5;
    }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            if (_output.Length < 64 * 1024)
            {
                _output.AppendLine(line);
            }
        }
        if (line.StartsWith("PORT ", StringComparison.Ordinal) && int.TryParse(line.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int port))
        {
            _port.TrySetResult(port);
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
        }
        _process.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class PythonServerCollection : ICollectionFixture<PythonServerFixture>
{
    public const string Name = "Python rpyc server (telemetry)";
}
