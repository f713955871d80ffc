namespace Rpyc.Bench;

/// <summary>How server hosts start their servers.</summary>
public sealed class ServerHostOptions
{
    /// <summary>The defaults: every server in its own process.</summary>
    public static ServerHostOptions Default { get; } = new();

    /// <summary>
    /// Run .NET targets inside this process instead of a child process. Off by default: a server
    /// sharing the client's runtime (GC, thread pool, JIT) distorts both sides' numbers.
    /// </summary>
    public bool InProcess { get; init; }

    /// <summary>
    /// The program that serves .NET targets in their own process: <c>rpycbench-host.dll</c> (the
    /// Rpyc.Bench.Host project), run as <c>dotnet exec rpycbench-host.dll serve TARGET --port 0 --watch-stdin</c>;
    /// the CLI's <c>rpycbench.dll</c>, which takes the same command line, is accepted too.
    /// Default: the <c>RPYCBENCH_SERVER</c> environment variable, else <c>rpycbench-host.dll</c>
    /// beside the application.
    /// </summary>
    public string? ServerProgram { get; init; }

    /// <summary>
    /// The CPU every thread of a server process (and of the processes it starts) runs on, or
    /// <c>null</c> to leave placement to the scheduler (the default). The process is started with
    /// that mask, so no thread of it ever runs elsewhere; see <see cref="CpuPlacement"/>.
    /// </summary>
    public int? ServerCpu { get; init; }

    /// <summary>The Python interpreter of the Python peers. Default Debian's <c>/usr/bin/python3</c>.</summary>
    public string PythonPath { get; init; } = "/usr/bin/python3";

    /// <summary>Where <c>rpyc_server.py</c> and <c>flask_server.py</c> are. Default: <c>python/</c> beside the application.</summary>
    public string? PythonScriptDirectory { get; init; }

    /// <summary>How long a server may take to answer its first request. Default 60 s.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    private readonly TimeSpan _receiveSpin = TcpRawServer.DefaultReceiveSpin;

    /// <summary>
    /// How long the .NET RPyC servers' connections (<c>rpyc_threaded</c>, <c>rpyc_forking</c>:
    /// <see cref="RpycConnectOptions.ReceiveSpin"/>) and the raw TCP server's poll for the next
    /// request before they block, in or out of process. Default 50 us, the suite's
    /// (<see cref="SuiteOptions.DefaultReceiveSpin"/>); zero blocks at once. Other servers ignore it,
    /// and so do the clients of <see cref="ServerHost.Target"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative or above <see cref="RpycConnectOptions.MaxReceiveSpin"/>.</exception>
    public TimeSpan ReceiveSpin
    {
        get => _receiveSpin;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, RpycConnectOptions.MaxReceiveSpin);
            _receiveSpin = value;
        }
    }

    internal ServerHostOptions WithReceiveSpin(TimeSpan receiveSpin) => receiveSpin == ReceiveSpin ? this : With(receiveSpin, ServerCpu);

    /// <summary>These options with the server processes started on one CPU (or, with <c>null</c>, anywhere).</summary>
    /// <param name="serverCpu">The CPU, e.g. <see cref="CpuPlacement.ServerCpu"/>.</param>
    /// <returns>The options.</returns>
    public ServerHostOptions WithServerCpu(int? serverCpu) => serverCpu == ServerCpu ? this : With(ReceiveSpin, serverCpu);

    private ServerHostOptions With(TimeSpan receiveSpin, int? serverCpu) => new()
    {
        InProcess = InProcess,
        ServerProgram = ServerProgram,
        PythonPath = PythonPath,
        PythonScriptDirectory = PythonScriptDirectory,
        StartTimeout = StartTimeout,
        ReceiveSpin = receiveSpin,
        ServerCpu = serverCpu,
    };
}
