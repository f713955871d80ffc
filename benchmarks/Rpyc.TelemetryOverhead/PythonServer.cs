using System.Diagnostics;
using System.Globalization;

namespace Rpyc.TelemetryOverhead;

/// <summary>tests/python/demo_server.py under Debian's /usr/bin/python3, on 127.0.0.1 and a free port.</summary>
internal sealed class PythonServer : IDisposable
{
    private const string Interpreter = "/usr/bin/python3";
    private readonly Process _process;

    private PythonServer(Process process, int port, string version)
    {
        _process = process;
        Port = port;
        Version = version;
        Options = new RpycConnectOptions { ProtocolVersion = version.StartsWith("6.", StringComparison.Ordinal) ? RpycProtocolVersion.V6 : RpycProtocolVersion.V5 };
    }

    public int Port { get; }

    public string Version { get; }

    public RpycConnectOptions Options { get; }

    public static PythonServer Start()
    {
        string version = Run("-c", "import rpyc; print(rpyc.__version__)");
        string script = Path.Combine(AppContext.BaseDirectory, "python", "demo_server.py");
        var start = new ProcessStartInfo(Interpreter) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in new[] { "-u", script, "--host", "127.0.0.1", "--port", "0" })
        {
            start.ArgumentList.Add(argument);
        }
        Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Interpreter}.");
        string? line = process.StandardOutput.ReadLine();
        if (line is null || !line.StartsWith("PORT ", StringComparison.Ordinal))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"demo_server.py did not print its port (got '{line}'). Install rpyc with `apt-get install -y python3-rpyc`.");
        }
        int port = int.Parse(line.AsSpan(5), CultureInfo.InvariantCulture);
        // rpyc binds in Server.__init__ (the port is printed then) but listens only in start().
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
            try
            {
                probe.Connect("127.0.0.1", port);
                break;
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline && !process.WaitForExit(25))
            {
            }
        }
        return new PythonServer(process, port, version);
    }

    private static string Run(params string[] arguments)
    {
        var start = new ProcessStartInfo(Interpreter) { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Interpreter}.");
        string output = process.StandardOutput.ReadToEnd().Trim();
        process.WaitForExit();
        return output;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }
        _process.WaitForExit();
        _process.Dispose();
    }
}
