using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Rpyc.Bench;

/// <summary>
/// A benchmark server run for the length of a <c>using</c> block, in its own process by default.
/// The constructor returns once a real request got a valid reply (not merely an open port);
/// <see cref="Dispose"/> stops the whole process tree. Hosts still running when the process exits
/// are stopped too.
/// </summary>
/// <example>
/// <code>
/// using var server = new RpycServerHost("127.0.0.1", 0, RpycServerMode.Threaded);
/// using BenchClient client = server.Target.Connect();
/// client.Ping();
/// </code>
/// </example>
public abstract class ServerHost : IDisposable
{
    private static readonly ConcurrentDictionary<ServerHost, bool> s_live = new();
    private readonly Process? _process;
    private readonly IDisposable? _inProcess;
    private readonly ErrorLines? _stderr;
    private int _disposed;

    static ServerHost()
    {
        // A host left running when the client exits (an exception, SIGTERM) must not outlive it.
        AppDomain.CurrentDomain.ProcessExit += (_, _) => StopAll();
    }

    /// <summary>Starts the server and waits until it answers.</summary>
    /// <param name="info">The target served.</param>
    /// <param name="host">Address to bind.</param>
    /// <param name="port">Port, 0 for a free one.</param>
    /// <param name="options">Start options.</param>
    /// <exception cref="ServerStartException">The server did not start or did not answer in time.</exception>
    private protected ServerHost(TargetInfo info, string host, int port, ServerHostOptions? options)
    {
        options ??= ServerHostOptions.Default;
        Info = info;
        Host = host;
        // A client variant (a profiled or Python client) measures another target's server.
        TargetInfo server = TargetCatalog.Get(info.Server);
        s_live[this] = true;
        try
        {
            if (options.InProcess && !server.IsPython)
            {
                _inProcess = LocalServer.Start(server.Name, host, port, options.ReceiveSpin, out int bound);
                Port = bound;
                ProcessId = Environment.ProcessId;
            }
            else
            {
                ProcessStartInfo start = server.IsPython ? PythonStartInfo(server, host, port, options) : DotnetStartInfo(server, host, port, options);
                // A child inherits the CPU mask of the thread that starts it, before it starts a thread of its own.
                _process = options.ServerCpu is int cpu ? CpuPlacement.StartPinned(cpu, () => Process.Start(start)) : Process.Start(start);
                if (_process is null)
                {
                    throw new ServerStartException($"{info.Name}: could not start {start.FileName}.");
                }
                ProcessId = _process.Id;
                _stderr = ErrorLines.Attach(_process);
                Port = ReadPortLine(_process, _stderr, options.StartTimeout);
            }
            string connectHost = host == "0.0.0.0" ? "127.0.0.1" : host;
            Target = BenchTarget.Create(info.Name, info.Protocol, connectHost, Port);
            WaitUntilAnswering(info.Server == info.Name ? Target : BenchTarget.Create(server.Name, server.Protocol, connectHost, Port), options.StartTimeout);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The target served (a client variant's own entry: its server is <see cref="TargetInfo.Server"/>).</summary>
    public TargetInfo Info { get; }

    /// <summary>The bound address.</summary>
    public string Host { get; }

    /// <summary>The bound port.</summary>
    public int Port { get; }

    /// <summary>The server's process id (this process's when run in-process).</summary>
    public int ProcessId { get; }

    /// <summary>Whether the server runs in its own process.</summary>
    public bool IsOutOfProcess => _process is not null;

    internal IDisposable? InProcessServer => _inProcess;

    /// <summary>Connect clients here.</summary>
    public BenchTarget Target { get; } = null!;

    /// <summary>Whether the server process has exited (always <c>false</c> in-process).</summary>
    public bool HasExited
    {
        get
        {
            try
            {
                return _process?.HasExited ?? false;
            }
            catch (InvalidOperationException)
            {
                return true;
            }
        }
    }

    /// <summary>
    /// What the server wrote to stderr, for error messages: its first and last lines, with a count of
    /// those left out between, each line cut to its first 2,000 characters.
    /// </summary>
    public string StandardErrorTail => _stderr?.Join(Environment.NewLine) ?? "";

    /// <summary>Starts the server of any target.</summary>
    /// <param name="target">The target's name (see <see cref="TargetCatalog"/>).</param>
    /// <param name="host">Address to bind.</param>
    /// <param name="port">Port, 0 for a free one.</param>
    /// <param name="options">Start options.</param>
    /// <returns>The running host.</returns>
    /// <exception cref="ServerStartException">The server did not start.</exception>
    public static ServerHost Start(string target, string host = "127.0.0.1", int port = 0, ServerHostOptions? options = null) => target switch
    {
        TargetCatalog.RpycThreaded => new RpycServerHost(host, port, RpycServerMode.Threaded, options),
        TargetCatalog.RpycForking => new RpycServerHost(host, port, RpycServerMode.Forking, options),
        TargetCatalog.HttpThreaded => new HttpServerHost(host, port, options),
        TargetCatalog.HttpThreadedHttpClient => new HttpServerHost(TargetCatalog.HttpThreadedHttpClient, host, port, options),
        TargetCatalog.TcpRaw => new TcpRawServerHost(host, port, options),
        TargetCatalog.PyRpycThreaded => new PythonServerHost(PythonServerKind.RpycThreaded, host, port, options),
        TargetCatalog.PyRpycForking => new PythonServerHost(PythonServerKind.RpycForking, host, port, options),
        TargetCatalog.PyFlaskThreaded => new PythonServerHost(PythonServerKind.FlaskThreaded, host, port, options),
        _ when TargetCatalog.IsKnown(target) => new VariantServerHost(TargetCatalog.Get(target), host, port, options),
        _ => throw new ArgumentException($"Unknown target '{target}'; known targets: {string.Join(", ", TargetCatalog.All.Select(t => t.Name))}.", nameof(target)),
    };

    // The first "PORT <n>" line on stdout is the bound port. The rest of stdout is read to its end,
    // so that a chatty server never blocks on a full pipe, and kept only as ErrorLines keeps it.
    private int ReadPortLine(Process process, ErrorLines stderr, TimeSpan timeout)
    {
        var port = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        ErrorLines stdout = ErrorLines.AttachOutput(process, line =>
        {
            if (line.StartsWith("PORT ", StringComparison.Ordinal) && int.TryParse(line.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            {
                port.TrySetResult(n);
            }
        });
        _ = stdout.Ended.ContinueWith(_ => port.TrySetResult(-1), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        bool answered = port.Task.Wait(timeout);
        if (!answered || port.Task.Result <= 0)
        {
            if (answered)
            {
                // Stdout ended without the port: the server is going, and the last lines of its
                // stderr, which say why, may still be in the pipe.
                stderr.WaitForExit(TimeSpan.FromSeconds(5));
            }
            string why = HasExited ? $"exited with code {SafeExitCode(process)}" : $"printed no PORT line within {timeout.TotalSeconds:0} s";
            throw new ServerStartException($"{Info.Name}: the server process {why}.{StderrSuffix()}");
        }
        return port.Task.Result;
    }

    private void WaitUntilAnswering(BenchTarget probe, TimeSpan timeout)
    {
        long deadline = Clock.Now + Clock.FromSeconds(timeout.TotalSeconds);
        Exception? last = null;
        while (Clock.Now < deadline)
        {
            if (HasExited)
            {
                throw new ServerStartException($"{Info.Name}: the server process exited with code {SafeExitCode(_process!)} before answering.{StderrSuffix()}");
            }
            try
            {
                using BenchClient client = probe.Connect();
                client.Ping();
                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                last = ex;
            }
            Thread.Sleep(20);
        }
        throw new ServerStartException($"{Info.Name}: no valid reply to ping within {timeout.TotalSeconds:0} s: {last?.Message}{StderrSuffix()}", last);
    }

    private string StderrSuffix()
    {
        string tail = StandardErrorTail;
        return tail.Length == 0 ? "" : $" Server stderr:{Environment.NewLine}{tail}";
    }

    private static int SafeExitCode(Process process)
    {
        try
        {
            process.WaitForExit(1000);
            return process.ExitCode;
        }
        catch (InvalidOperationException)
        {
            return -1;
        }
    }

    private static ProcessStartInfo NewStartInfo(string fileName)
    {
        var start = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        return start;
    }

    /// <summary>The runtime setting the hosts of the RPyC server targets are started with (see <see cref="DotnetStartInfo"/>).</summary>
    public const string TieredPgoVariable = "DOTNET_TieredPGO";

    /// <summary>
    /// The runtime setting a .NET server host pinned to one CPU is started with, "1" (an explicit
    /// setting wins). A runtime that starts on one CPU multiplies its tiering delay by ten (1 s
    /// instead of 100 ms after the last tier-0 compile) before it compiles hot methods again. With
    /// <c>--pin same-cpu</c>, http_threaded's host then burned 0.57 s of CPU in ".NET Tiered
    /// Compilation" (perf) a second after its own run ended, while tcp_raw was measured, whose "other
    /// programs" read 0.085-0.157 cores; with the multiplier at 1, 0.018-0.038. Its tiering is then
    /// as on the two CPUs unpinned.
    /// </summary>
    public const string TieringDelayMultiplierVariable = "DOTNET_TC_DelaySingleProcMultiplier";

    /// <summary>Whether a .NET target's server host runs without dynamic PGO (<see cref="TieredPgoVariable"/>), as measured best for it; an explicit setting wins.</summary>
    /// <param name="info">The target.</param>
    /// <returns><c>true</c> for the RPyC servers, when the environment does not set it.</returns>
    public static bool RunsWithoutDynamicPgo(TargetInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return info.Server is TargetCatalog.RpycForking or TargetCatalog.RpycThreaded && Environment.GetEnvironmentVariable(TieredPgoVariable) is null;
    }

    /// <summary>
    /// Whether a .NET target's server runs without dynamic PGO, as started with
    /// <paramref name="options"/>: a host process as <see cref="RunsWithoutDynamicPgo(TargetInfo)"/>
    /// says; with <see cref="ServerHostOptions.InProcess"/> the server runs in this process, with this
    /// process's setting (<see cref="TieredPgoVariable"/>, else the runtimeconfig's
    /// <c>System.Runtime.TieredPGO</c>, else on).
    /// </summary>
    /// <param name="info">The target.</param>
    /// <param name="options">How its server is started.</param>
    /// <returns><c>true</c> when the RPyC server's code runs without dynamic PGO.</returns>
    public static bool RunsWithoutDynamicPgo(TargetInfo info, ServerHostOptions options)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.InProcess)
        {
            return RunsWithoutDynamicPgo(info);
        }
        return info.Server is TargetCatalog.RpycForking or TargetCatalog.RpycThreaded && !ThisProcessUsesDynamicPgo();
    }

    // The runtime reads DOTNET_TieredPGO first (0 or 1), then the runtimeconfig knob; on by default
    // since .NET 8.
    internal static bool ThisProcessUsesDynamicPgo() => Environment.GetEnvironmentVariable(TieredPgoVariable)?.Trim() switch
    {
        "0" => false,
        "1" => true,
        _ => AppContext.GetData("System.Runtime.TieredPGO") is not (false or "false" or "False" or "0"),
    };

    // A ForkingServer's own process only accepts and hands connections to workers: code that runs
    // once per connection, so it reaches each tier only after tens of connections, and with dynamic
    // PGO it is compiled twice (instrumented tier 1, then tier 1). Measured with DOTNET_JitStdOutFile
    // over connections 61-160 back to back: 1,289 methods compiled with it, 613 without, and the
    // server tree's CPU per connection 37 against 33 ms: JIT work on the 2 cores the workers and
    // clients share, in the middle of the measured phases. Dynamic PGO buys this process nothing
    // measurable (the workers serve the calls), so its host runs without it; an explicit setting wins.
    // A ThreadedServer's host too. Its once-per-connection code (PendingConnections.Add,
    // ConnectionThreads.Run, ThreadedServer.OnAccepted) was still at instrumented tier 0 after six
    // runs with dynamic PGO, and connect + first call p99/p50 was 10.1 and 3.2 in a default pair
    // with it against 2.6 and 2.6 without. Its ping is a wash: with PGO the first run was 1.25-1.34x
    // the floor's in the same time slices in five suites, 1.09-1.19x once settled; without, 1.05-1.12x
    // in two suites and 1.18-1.33x in three (--pin split-cpus, 3 runs). Kestrel's host keeps it:
    // without, its ping measured no better (1.75x the floor against 1.77x).
    private static ProcessStartInfo DotnetStartInfo(TargetInfo info, string host, int port, ServerHostOptions options)
    {
        ProcessStartInfo start = NewStartInfo(ServerProgramLocator.DotnetHost());
        foreach (string arg in ServerProgramLocator.ExecArguments(options.ServerProgram))
        {
            start.ArgumentList.Add(arg);
        }
        foreach (string arg in new[] { info.Name, "--host", host, "--port", port.ToString(CultureInfo.InvariantCulture), "--watch-stdin" })
        {
            start.ArgumentList.Add(arg);
        }
        if (BenchTls.IsTlsTarget(info.Name))
        {
            BenchTls.ShareWith(start);
        }
        if (RunsWithoutDynamicPgo(info))
        {
            start.Environment[TieredPgoVariable] = "0";
        }
        if (options.ServerCpu is not null && Environment.GetEnvironmentVariable(TieringDelayMultiplierVariable) is null)
        {
            start.Environment[TieringDelayMultiplierVariable] = "1";
        }
        // Always passed (zero included): the host's own default is serve's, not the suite's option.
        if (info.Protocol is "rpyc" or "tcp")
        {
            start.ArgumentList.Add("--receive-spin-us");
            start.ArgumentList.Add(options.ReceiveSpin.TotalMicroseconds.ToString(CultureInfo.InvariantCulture));
        }
        return start;
    }

    private static ProcessStartInfo PythonStartInfo(TargetInfo info, string host, int port, ServerHostOptions options)
    {
        PythonPeers.EnsureAvailable(options.PythonPath, info.Name == TargetCatalog.PyFlaskThreaded);
        string script = PythonPeers.Script(options.PythonScriptDirectory, info.Name == TargetCatalog.PyFlaskThreaded ? "flask_server.py" : "rpyc_server.py");
        ProcessStartInfo start = NewStartInfo(options.PythonPath);
        start.ArgumentList.Add("-u");
        start.ArgumentList.Add(script);
        start.ArgumentList.Add("--host");
        start.ArgumentList.Add(host);
        start.ArgumentList.Add("--port");
        start.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add("--watch-stdin");
        if (info.Name == TargetCatalog.PyRpycForking)
        {
            start.ArgumentList.Add("--forking");
        }
        return start;
    }

    /// <summary>Stops every host still running (used at process exit and on Ctrl-C).</summary>
    public static void StopAll()
    {
        foreach (ServerHost host in s_live.Keys)
        {
            host.Dispose();
        }
    }

    /// <summary>Stops the server: kills its whole process tree, or stops the in-process server.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        s_live.TryRemove(this, out _);
        _inProcess?.Dispose();
        if (_process is not null)
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                }
                _process.WaitForExit(5000);
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone.
            }
            _process.Dispose();
        }
        GC.SuppressFinalize(this);
    }
}

/// <summary>A benchmark server did not start or did not answer in time.</summary>
public sealed class ServerStartException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ServerStartException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong, with the server's stderr.</param>
    public ServerStartException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public ServerStartException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Which server an <see cref="RpycServerHost"/> runs.</summary>
public enum RpycServerMode
{
    /// <summary>A thread per connection.</summary>
    Threaded,

    /// <summary>A process per connection.</summary>
    Forking,
}

/// <summary>The .NET RPyC server (threaded or forking) with <see cref="BenchService"/>.</summary>
public sealed class RpycServerHost : ServerHost
{
    /// <summary>Starts the server and waits until it answers <c>ping</c>.</summary>
    /// <param name="host">Address to bind.</param>
    /// <param name="port">Port, 0 for a free one.</param>
    /// <param name="mode">Threaded or forking.</param>
    /// <param name="options">Start options.</param>
    /// <exception cref="ServerStartException">The server did not start.</exception>
    public RpycServerHost(string host = "127.0.0.1", int port = 0, RpycServerMode mode = RpycServerMode.Threaded, ServerHostOptions? options = null)
        : base(TargetCatalog.Get(mode == RpycServerMode.Forking ? TargetCatalog.RpycForking : TargetCatalog.RpycThreaded), host, port, options)
    {
    }
}

/// <summary>The Kestrel minimal API server with the benchmark routes.</summary>
public sealed class HttpServerHost : ServerHost
{
    /// <summary>Starts the server and waits until <c>GET /ping</c> answers.</summary>
    /// <param name="host">Address to bind.</param>
    /// <param name="port">Port, 0 for a free one.</param>
    /// <param name="options">Start options.</param>
    /// <exception cref="ServerStartException">The server did not start.</exception>
    public HttpServerHost(string host = "127.0.0.1", int port = 0, ServerHostOptions? options = null)
        : base(TargetCatalog.Get(TargetCatalog.HttpThreaded), host, port, options)
    {
    }

    // The same server for another client of it (http_threaded_httpclient).
    internal HttpServerHost(string target, string host, int port, ServerHostOptions? options)
        : base(TargetCatalog.Get(target), host, port, options)
    {
    }
}

/// <summary>The raw TCP request/response server.</summary>
public sealed class TcpRawServerHost : ServerHost
{
    /// <summary>Starts the server and waits until it answers a ping.</summary>
    /// <param name="host">Address to bind.</param>
    /// <param name="port">Port, 0 for a free one.</param>
    /// <param name="options">Start options.</param>
    /// <exception cref="ServerStartException">The server did not start.</exception>
    public TcpRawServerHost(string host = "127.0.0.1", int port = 0, ServerHostOptions? options = null)
        : base(TargetCatalog.Get(TargetCatalog.TcpRaw), host, port, options)
    {
    }
}

// A client variant of another target (rpyc_threaded_profiled, pyclient_*): its server target's
// server, with the variant's client as Target.
internal sealed class VariantServerHost(TargetInfo info, string host, int port, ServerHostOptions? options)
    : ServerHost(info, host, port, options);

/// <summary>Which Python peer a <see cref="PythonServerHost"/> runs.</summary>
public enum PythonServerKind
{
    /// <summary>rpyc's ThreadedServer.</summary>
    RpycThreaded,

    /// <summary>rpyc's ForkingServer.</summary>
    RpycForking,

    /// <summary>Flask on werkzeug's threaded server.</summary>
    FlaskThreaded,
}

/// <summary>A real Python peer run by Debian's <c>/usr/bin/python3</c>: rpyc threaded or forking, or Flask.</summary>
public sealed class PythonServerHost : ServerHost
{
    /// <summary>Starts the peer and waits until it answers <c>ping</c>.</summary>
    /// <param name="kind">Which peer.</param>
    /// <param name="host">Address to bind.</param>
    /// <param name="port">Port, 0 for a free one.</param>
    /// <param name="options">Start options.</param>
    /// <exception cref="PythonPeerMissingException">python3, rpyc or flask is not installed.</exception>
    /// <exception cref="ServerStartException">The server did not start.</exception>
    public PythonServerHost(PythonServerKind kind, string host = "127.0.0.1", int port = 0, ServerHostOptions? options = null)
        : base(TargetCatalog.Get(kind switch
        {
            PythonServerKind.RpycForking => TargetCatalog.PyRpycForking,
            PythonServerKind.FlaskThreaded => TargetCatalog.PyFlaskThreaded,
            _ => TargetCatalog.PyRpycThreaded,
        }), host, port, options)
    {
    }
}
