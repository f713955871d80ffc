using System.Runtime.InteropServices;

namespace Rpyc.Bench;

/// <summary>
/// Starts a .NET target's server inside the current process: what <c>rpycbench serve</c> and the
/// <c>rpycbench-host</c> child process run, and what hosts run when
/// <see cref="ServerHostOptions.InProcess"/> is set.
/// </summary>
public static class LocalServer
{
    /// <summary>
    /// Serves a target until stopped: prints <c>PORT &lt;n&gt;</c> on <paramref name="output"/> once a
    /// request would be answered, then waits for <paramref name="cancellationToken"/>, SIGTERM or (with
    /// <paramref name="watchStdin"/>) the end of standard input, and stops the server. A client
    /// variant (<see cref="TargetInfo.Server"/>) serves its server target; a Python target runs
    /// its peer in a child process. This is <c>rpycbench serve</c> and <c>rpycbench-host</c>.
    /// </summary>
    /// <param name="target">Any catalog target.</param>
    /// <param name="host">Address to bind.</param>
    /// <param name="port">Port, 0 for a free one.</param>
    /// <param name="receiveSpin"><see cref="RpycConnectOptions.ReceiveSpin"/> of a .NET RPyC server's connections.</param>
    /// <param name="watchStdin">Stop when standard input closes (the suite's hosts hold it open).</param>
    /// <param name="output">Where the <c>PORT</c> line goes.</param>
    /// <param name="error">Where the start message and errors go.</param>
    /// <param name="cancellationToken">Stops serving.</param>
    /// <returns>0 once stopped, 1 when the server could not start.</returns>
    /// <exception cref="ArgumentException">Unknown target.</exception>
    public static int Serve(string target, string host, int port, TimeSpan receiveSpin, bool watchStdin, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        TargetInfo info = TargetCatalog.Get(TargetCatalog.Get(target).Server);
        TuneServingProcess(info);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (watchStdin)
        {
            new Thread(() =>
            {
                try
                {
                    // Only the end matters (the parent going): it never writes here, so nothing is kept.
                    Console.In.ReadToEnd();
                }
                catch (IOException)
                {
                }
                finally
                {
                    stop.Cancel();
                }
            })
            { IsBackground = true, Name = "stdin-watch" }.Start();
        }
        // SIGTERM (kill, systemd, a container stop) ends the server as Ctrl-C does.
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal =>
        {
            signal.Cancel = true;
            stop.Cancel();
        });
        IDisposable server;
        int bound;
        try
        {
            WarnBeyondLoopback(info, host, error);
            if (info.IsPython)
            {
                ServerHost python = ServerHost.Start(info.Name, host, port);
                (server, bound) = (python, python.Port);
            }
            else
            {
                server = Start(info.Name, host, port, receiveSpin, out bound);
            }
        }
        catch (Exception ex) when (ex is ServerStartException or PythonPeerMissingException or System.Net.Sockets.SocketException or IOException)
        {
            error.WriteLine($"{info.Name}: {ex.Message}");
            return 1;
        }
        using (server)
        {
            output.WriteLine($"PORT {bound.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
            output.Flush();
            error.WriteLine($"serving {info.Name} ({info.Implementation}) on {RemoteEndpoint.HostPort(host, bound)}; Ctrl-C stops.");
            error.Flush();
            BenchTls.Announce(info.Name, bound, error);
            stop.Token.WaitHandle.WaitOne();
        }
        return 0;
    }

    // The .NET RPyC servers warn when they bind beyond loopback (RpycServer); rpyc's Python servers,
    // Flask, Kestrel and the raw TCP server do not, and answer anyone who reaches them all the same.
    private static void WarnBeyondLoopback(TargetInfo info, string host, TextWriter error)
    {
        System.Net.IPAddress address = RpycServer.ResolveBindAddress(host);
        if (!System.Net.IPAddress.IsLoopback(address) && (info.IsPython || info.Protocol != "rpyc"))
        {
            error.WriteLine($"{info.Name}: binding {address}: RPyC and this suite's servers have no authentication, so anyone who can reach this port can call the server.");
        }
    }

    /// <summary>
    /// Whether a .NET server can bind <paramref name="host"/>: an IP address, <c>localhost</c> or a name
    /// that resolves (to its first IPv4 or IPv6 address), as every target's server reads it.
    /// </summary>
    /// <param name="host">The address or name.</param>
    /// <param name="error">Why not, otherwise: a sentence naming the host.</param>
    /// <returns>Whether it resolves.</returns>
    public static bool TryResolveHost(string host, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(host);
        try
        {
            if (host.Trim().Length == 0)
            {
                error = "The host is empty.";
                return false;
            }
            RpycServer.ResolveBindAddress(host);
            error = null;
            return true;
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ArgumentException)
        {
            error = $"'{host}' is neither an IP address nor a host name that resolves ({ex.Message}).";
            return false;
        }
    }

    /// <summary>Whether <paramref name="host"/>, as a server binds it, is a loopback address (127.0.0.0/8, ::1): reachable from this machine only.</summary>
    /// <param name="host">An address or a host name.</param>
    /// <returns><c>true</c> for a loopback address; <c>false</c> otherwise, or when it does not resolve.</returns>
    public static bool IsLoopback(string host)
    {
        ArgumentNullException.ThrowIfNull(host);
        try
        {
            return System.Net.IPAddress.IsLoopback(RpycServer.ResolveBindAddress(host));
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ArgumentException)
        {
            return false;
        }
    }

    /// <summary>The name of the runtime setting <see cref="TuneServingProcess"/> applies to a Kestrel server's process.</summary>
    public const string InlineSocketCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    // A process that only serves (rpycbench serve, rpycbench-host) runs Kestrel as its benchmarks are
    // run (TechEmpower's setup): socket completions on the epoll thread instead of one more hop to the
    // thread pool, with UnsafePreferInlineScheduling in KestrelBenchServer. Measured on the 2-core VM,
    // http_threaded ping p50 per connection went from 36-61 us (bimodal: which pool thread woke) to
    // 22-37 us, and 10-client throughput from 42k to 60k req/s. The runtime reads the variable when
    // its socket engine starts, so it is set before this process opens any socket; the suite's own
    // process (the clients, an --in-process server) keeps the default. An explicit setting wins.
    private static void TuneServingProcess(TargetInfo info)
    {
        if (info.Protocol == "http" && !info.IsPython && Environment.GetEnvironmentVariable(InlineSocketCompletionsVariable) is null)
        {
            Environment.SetEnvironmentVariable(InlineSocketCompletionsVariable, "1");
        }
    }

    /// <summary>Starts the server of a .NET target.</summary>
    /// <param name="target"><c>rpyc_threaded</c>, <c>rpyc_forking</c>, <c>http_threaded</c> or <c>tcp_raw</c>.</param>
    /// <param name="host">Address to bind.</param>
    /// <param name="port">Port, 0 for a free one.</param>
    /// <param name="boundPort">The bound port.</param>
    /// <returns>The running server; dispose it to stop.</returns>
    /// <exception cref="ArgumentException">Not a .NET target.</exception>
    public static IDisposable Start(string target, string host, int port, out int boundPort) =>
        Start(target, host, port, SuiteOptions.DefaultReceiveSpin, out boundPort);

    /// <summary>Starts the server of a .NET target.</summary>
    /// <param name="target"><c>rpyc_threaded</c>, <c>rpyc_forking</c>, <c>http_threaded</c>, <c>tcp_raw</c>, or a client variant of one (<see cref="TargetInfo.Server"/>).</param>
    /// <param name="host">Address to bind.</param>
    /// <param name="port">Port, 0 for a free one.</param>
    /// <param name="receiveSpin"><see cref="RpycConnectOptions.ReceiveSpin"/> of an RPyC server's connections; other servers ignore it.</param>
    /// <param name="boundPort">The bound port.</param>
    /// <returns>The running server; dispose it to stop.</returns>
    /// <exception cref="ArgumentException">Not a .NET target.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="receiveSpin"/> is negative or above <see cref="RpycConnectOptions.MaxReceiveSpin"/>.</exception>
    public static IDisposable Start(string target, string host, int port, TimeSpan receiveSpin, out int boundPort)
    {
        // A client variant (rpyc_threaded_profiled, pyclient_rpyc_threaded) runs its server target's server.
        switch (TargetCatalog.IsKnown(target) ? TargetCatalog.Get(target).Server : target)
        {
            case TargetCatalog.RpycThreaded:
            {
                var server = new ThreadedServer(() => new BenchService(), RpycOptions(host, port, receiveSpin));
                server.Start();
                boundPort = server.Port;
                return server;
            }
            case TargetCatalog.RpycForking:
            {
                // The workers, not this process, serve the connections: they get the connection options
                // through ForkingWorker.WorkerArguments.
                ForkingServer server = ForkingServer.Create<BenchService>(RpycOptions(host, port, receiveSpin), new ForkingServerOptions { WorkerPath = BenchWorkerLocator.Find() });
                server.Start();
                boundPort = server.Port;
                return server;
            }
            case TargetCatalog.HttpThreaded:
            case TargetCatalog.HttpThreadedHttpClient:
            {
                var server = new KestrelBenchServer(host, port);
                boundPort = server.Port;
                return server;
            }
            case TargetCatalog.TcpRaw:
            {
                var server = new TcpRawServer(host, port, receiveSpin);
                boundPort = server.Port;
                return server;
            }
            case TargetCatalog.RpycThreadedTls:
            case TargetCatalog.HttpThreadedTls:
                return BenchTls.Start(target, host, port, receiveSpin, out boundPort);
            default:
                throw new ArgumentException($"'{target}' is not a .NET target.", nameof(target));
        }
    }

    private static RpycServerOptions RpycOptions(string host, int port, TimeSpan receiveSpin) => new()
    {
        Host = host,
        Port = port,
        ConnectionOptions = new RpycConnectOptions { ReceiveSpin = receiveSpin, MaxFrameLength = BenchLimits.MaxFrameLength, MaxDecompressedLength = BenchLimits.MaxFrameLength },
    };
}
