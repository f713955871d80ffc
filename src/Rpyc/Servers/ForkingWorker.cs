using System.ComponentModel;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.Loader;

namespace Rpyc.Servers;

/// <summary>
/// The entry point of a <see cref="ForkingServer"/> worker process: loads the service type, warms
/// the protocol path up, then waits for exactly one connection and serves it until it closes.
/// <see cref="Run(string[])"/> is the <c>rpyc-worker</c> executable's; <see cref="Run{TService}(string[])"/>
/// is the entry point of a worker that an application compiles with its service, for example a
/// NativeAOT-published one, which starts in milliseconds instead of a runtime start and JIT.
/// </summary>
/// <example>
/// A worker program for <c>CalculatorService</c>, published with <c>PublishAot</c> and named by
/// <see cref="ForkingServerOptions.WorkerPath"/>:
/// <code>
/// return Rpyc.Servers.ForkingWorker.Run&lt;CalculatorService&gt;(args);
/// </code>
/// </example>
[EditorBrowsable(EditorBrowsableState.Advanced)]
public static class ForkingWorker
{
    /// <summary>Runs the worker with the arguments <see cref="ForkingServer"/> passes.</summary>
    /// <param name="args">The command line.</param>
    /// <returns>The process exit code.</returns>
    public static int Run(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (!TryParse(args, out WorkerArguments? parsed))
        {
            return 2;
        }
        // Read first: the server writes the TLS settings as the process starts and closes the pipe.
        if (!TryReadTls(parsed, out Transport.ServerTls? tls))
        {
            return 2;
        }
        Func<RpycService> factory = LoadServiceFactory(parsed.AssemblyPath, parsed.TypeName, out Type serviceType);
        return Serve(parsed, factory, serviceType, tls);
    }

    /// <summary>
    /// Runs the worker for a service compiled into this program, loading no assembly: the entry
    /// point of a worker published with NativeAOT, or of an application that runs itself as its
    /// own worker (<see cref="ForkingServerOptions.WorkerPath"/>).
    /// </summary>
    /// <typeparam name="TService">The service the <see cref="ForkingServer"/> serves; its name must match the server's.</typeparam>
    /// <param name="args">The command line.</param>
    /// <returns>The process exit code: 0 once the connection closed, 2 for a command line that is not the server's or that asks for TLS this program was published without (<c>Rpyc.Tls.IsSupported</c>).</returns>
    public static int Run<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.All)] TService>(string[] args)
        where TService : RpycService, new()
    {
        ArgumentNullException.ThrowIfNull(args);
        if (!TryParse(args, out WorkerArguments? parsed))
        {
            return 2;
        }
        if (!string.Equals(parsed.TypeName, typeof(TService).FullName, StringComparison.Ordinal))
        {
            Console.Error.WriteLine($"rpyc-worker: this worker serves {typeof(TService).FullName}, not {parsed.TypeName}.");
            return 2;
        }
        return TryReadTls(parsed, out Transport.ServerTls? tls) ? Serve(parsed, static () => new TService(), typeof(TService), tls) : 2;
    }

    /// <summary>
    /// Whether <paramref name="args"/> is the command line a <see cref="ForkingServer"/> starts its
    /// workers with: an application that is its own worker (<see cref="ForkingServerOptions.WorkerPath"/>
    /// naming its executable) checks this first in <c>Main</c>, as Python's multiprocessing <c>spawn</c> does.
    /// </summary>
    /// <param name="args">The command line.</param>
    /// <returns><c>true</c> when the process should run <see cref="Run{TService}(string[])"/>.</returns>
    /// <example>
    /// <code>
    /// if (ForkingWorker.IsWorkerCommandLine(args))
    /// {
    ///     return ForkingWorker.Run&lt;CalculatorService&gt;(args);
    /// }
    /// </code>
    /// </example>
    /// <remarks>
    /// True for a worker command line of any worker protocol version: one of another version still
    /// goes to <c>Run</c>, which says why it cannot serve it, instead of starting the application.
    /// </remarks>
    public static bool IsWorkerCommandLine(string[] args) =>
        args is [WorkerArguments.Marker, _, ..];

    private static bool TryParse(string[] args, [NotNullWhen(true)] out WorkerArguments? parsed)
    {
        if (args is [WorkerArguments.Marker, string version, ..] && version != WorkerArguments.MarkerVersion)
        {
            // A worker and a server of different Rpyc versions would not understand each other's
            // control channel (version 2: the worker acknowledges the connection it is given).
            Console.Error.WriteLine($"rpyc-worker: the server speaks worker protocol {version}, this worker {WorkerArguments.MarkerVersion}: use a worker built from the server's Rpyc version.");
            parsed = null;
            return false;
        }
        try
        {
            parsed = WorkerArguments.Parse(args);
            return true;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or OverflowException)
        {
            Console.Error.WriteLine($"rpyc-worker: {ex.Message}");
            parsed = null;
            return false;
        }
    }

    // False, with the reason on standard error, when the server asks for TLS and this program was
    // published without it (Transport.TlsSupport).
    private static bool TryReadTls(WorkerArguments parsed, out Transport.ServerTls? tls)
    {
        tls = null;
        if (!parsed.Tls)
        {
            return true;
        }
        if (!Transport.TlsSupport.IsSupported)
        {
            Console.Error.WriteLine($"rpyc-worker: {Transport.TlsSupport.NotSupported("The server's --tls").Message}");
            return false;
        }
        tls = new Transport.ServerTls(Transport.ServerTls.Deserialize(Console.OpenStandardInput()));
        return true;
    }

    private static int Serve(WorkerArguments parsed, Func<RpycService> factory, Type serviceType, Transport.ServerTls? tls)
    {
        Warmup(serviceType);
        // tls is null whenever the switch is off (TryReadTls); testing the switch as well lets the
        // trimmer drop WarmupTls and AcceptTls, and SslStream with them.
        if (tls is not null && Transport.TlsSupport.IsSupported)
        {
            WarmupTls(tls);
        }
        using var control = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            control.Connect(ControlEndPoint(parsed.ControlPath));
        }
        catch (SocketException)
        {
            // The server stopped while this worker was starting: nothing to serve.
            return 0;
        }
        Socket? client;
        using (HeapWarmup.Start())
        {
            client = FdPassing.Receive(control);
        }
        if (client is null)
        {
            // The server stopped before giving this worker a connection.
            return 0;
        }
        try
        {
            // The server keeps its copy of the connection until told this one holds it (FdPassing.HandOver).
            FdPassing.AcknowledgeTaken(control);
        }
        catch (SocketException)
        {
            // The server stopped meanwhile: the connection is this worker's alone; serve it.
        }
        LoopbackPlacement.MoveOffPeerCpu(client);
        TimeSpan firstFrame = parsed.HandshakeTimeout;
        RpycConnection? accepted = tls is null || !Transport.TlsSupport.IsSupported ? RpycConnection.Accept(client, parsed.Options, factory()) : AcceptTls(client, tls, parsed, ref firstFrame, factory);
        if (accepted is null)
        {
            return 0;
        }
        using RpycConnection connection = accepted;
        // The server closes the control channel when it stops: close this connection gracefully then.
        var watcher = new Thread(() =>
        {
            try
            {
                control.Receive(new byte[1]);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Also disposed: the connection ended, and Serve returned, before this thread got
                // here (a client that sent one frame and hung up). Unhandled, it ended the worker.
            }
            connection.Close();
        })
        { IsBackground = true, Name = "rpyc-worker-control" };
        watcher.Start();
        try
        {
            ServeLoop.Run(connection, firstFrame, parsed.IdleTimeout);
        }
        finally
        {
            connection.Close();
        }
        return 0;
    }

    // The TLS handshake, here in the worker (see ForkingServer.Tls.cs), within the first frame's
    // budget; null when it failed, which is logged through the server (this process's stderr).
    private static RpycConnection? AcceptTls(Socket client, Transport.ServerTls tls, WorkerArguments parsed, ref TimeSpan firstFrame, Func<RpycService> factory)
    {
        string peer;
        try
        {
            peer = client.RemoteEndPoint?.ToString() ?? "?";
        }
        catch (SocketException)
        {
            peer = "?";
        }
        long start = Stopwatch.GetTimestamp();
        Transport.TlsTransport transport;
        try
        {
            transport = Transport.TlsTransport.Accept(client, tls, parsed.HandshakeTimeout, peer);
        }
        catch (System.Security.Authentication.AuthenticationException ex)
        {
            Console.Error.WriteLine(ex.Message);
            return null;
        }
        TimeSpan left = parsed.HandshakeTimeout - Stopwatch.GetElapsedTime(start);
        firstFrame = left > TimeSpan.FromMilliseconds(1) ? left : TimeSpan.FromMilliseconds(1);
        try
        {
            return new RpycConnection(transport, parsed.Options, factory(), version: null);
        }
        catch
        {
            transport.Dispose();
            throw;
        }
    }

    // A control address starting with '@' names a socket in Linux's abstract namespace ('\0' in
    // sockaddr_un): no file, so nothing is left behind however the server ends. Command lines
    // cannot carry a NUL byte, hence the '@', as ss(8) prints them.
    internal const string AbstractPrefix = "@";

    internal static UnixDomainSocketEndPoint ControlEndPoint(string controlPath) =>
        new(controlPath.StartsWith(AbstractPrefix, StringComparison.Ordinal) ? "\0" + controlPath[AbstractPrefix.Length..] : controlPath);

    private static Func<RpycService> LoadServiceFactory(string assemblyPath, string typeName, out Type type)
    {
        Assembly assembly = LoadUserAssembly(assemblyPath);
        type = assembly.GetType(typeName, throwOnError: true)!;
        if (!typeof(RpycService).IsAssignableFrom(type))
        {
            throw new InvalidOperationException($"{typeName} does not derive from RpycService.");
        }
        Type serviceType = type;
        return () => (RpycService)Activator.CreateInstance(serviceType)!;
    }

    // The user's assembly gets its own dependencies from its .deps.json, but shares Rpyc with
    // this process so RpycService is one type on both sides.
    private static Assembly LoadUserAssembly(string path)
    {
        string full = Path.GetFullPath(path);
        foreach (Assembly loaded in AssemblyLoadContext.Default.Assemblies)
        {
            if (!loaded.IsDynamic && string.Equals(loaded.Location, full, StringComparison.Ordinal))
            {
                return loaded;
            }
        }
        var resolver = new AssemblyDependencyResolver(full);
        AssemblyLoadContext.Default.Resolving += (context, name) =>
        {
            string? resolved = resolver.ResolveAssemblyToPath(name);
            return resolved is null ? null : context.LoadFromAssemblyPath(resolved);
        };
        return AssemblyLoadContext.Default.LoadFromAssemblyPath(full);
    }

    // JIT the request path before taking a connection, so the client's first call does not pay
    // for it (a cold .NET process needs tens of milliseconds for its first RPC).
    private static void Warmup(Type serviceType)
    {
        // Reflection over the user's type, without creating an instance (constructors may have effects).
        _ = Services.TypeExposure.For(serviceType);
        // Over a real loopback socket pair, so the socket paths are compiled too.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(1);
        using var client = RpycConnection.Connect("127.0.0.1", ((System.Net.IPEndPoint)listener.LocalEndPoint!).Port);
        using var server = RpycConnection.Accept(listener.Accept(), RpycConnectOptions.Default, new RpycService());
        var serving = new Thread(() =>
        {
            try
            {
                server.ServeAll();
            }
            catch (RpycException)
            {
            }
        })
        { IsBackground = true };
        serving.Start();
        // The paths a Python client takes: GETROOT, INSPECT, GETATTR + CALL + DEL, CALLATTR, PING.
        // Precompiled code (NativeAOT) has nothing to JIT: one pass runs the lazy initialisations.
        int passes = System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeCompiled ? 20 : 1;
        for (int i = 0; i < passes; i++)
        {
            Netref root = client.RootNetref;
            client.SyncRequest(Protocol.HandlerId.Inspect, new PyTuple(root.IdPack.ToTuple()));
            using (var method = (Netref)root.GetAttr("get_service_name")!)
            {
                method.Call();
            }
            root.CallMethod("get_service_aliases");
            client.Ping();
        }
        client.Close();
        serving.Join(TimeSpan.FromSeconds(2));
    }

    // One TLS handshake and round trip over loopback with this server's settings, so the client's
    // handshake does not pay for loading OpenSSL and compiling SslStream (Python's ssl_connect gives
    // the whole handshake its 3 s connect timeout). A server that requires client certificates
    // refuses this anonymous client after most of the work is done; that is enough.
    private static void WarmupTls(Transport.ServerTls tls)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(1);
        var serving = new Thread(() =>
        {
            try
            {
                using Socket accepted = listener.Accept();
                Transport.TlsTransport transport = Transport.TlsTransport.Accept(accepted, tls, TimeSpan.FromSeconds(10), "warmup");
                using var server = new RpycConnection(transport, RpycConnectOptions.Default, new RpycService(), version: null);
                server.ServeAll();
            }
            catch (Exception ex) when (ex is RpycException or System.Security.Authentication.AuthenticationException or SocketException or IOException)
            {
            }
        })
        { IsBackground = true };
        serving.Start();
        var options = new RpycConnectOptions
        {
            ConnectTimeout = TimeSpan.FromSeconds(10),
            SyncRequestTimeout = TimeSpan.FromSeconds(10),
            Tls = new RpycTlsClientOptions { DangerousAcceptAnyServerCertificate = true },
        };
        try
        {
            using RpycConnection client = RpycConnection.Connect("127.0.0.1", ((System.Net.IPEndPoint)listener.LocalEndPoint!).Port, options);
            client.Ping();
            client.Close();
        }
        catch (RpycException)
        {
        }
        serving.Join(TimeSpan.FromSeconds(10));
    }

    internal sealed record WorkerArguments(string ControlPath, string AssemblyPath, string TypeName, RpycConnectOptions Options, TimeSpan HandshakeTimeout, TimeSpan IdleTimeout)
    {
        /// <summary>Whether the server passes TLS settings on standard input (<c>--tls stdin</c>).</summary>
        public bool Tls { get; init; }

        public static string[] Format(string controlPath, Type serviceType, RpycConnectOptions o) =>
            Format(controlPath, serviceType, o, new RpycServerOptions().HandshakeTimeout, Timeout.InfiniteTimeSpan);

        // First on every worker command line, so a program that is also its own worker can tell.
        public const string Marker = "--rpyc-worker";
        // 2: the worker acknowledges the descriptor it receives (FdPassing.AcknowledgeTaken).
        public const string MarkerVersion = "2";

        public static string[] Format(string controlPath, Type serviceType, RpycConnectOptions o, TimeSpan handshakeTimeout, TimeSpan idleTimeout) =>
        [
            Marker, MarkerVersion,
            "--handshake-ms", ((long)handshakeTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            "--idle-ms", (idleTimeout == Timeout.InfiniteTimeSpan ? -1 : (long)idleTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            "--control", controlPath,
            "--assembly", serviceType.Assembly.Location,
            "--type", serviceType.FullName!,
            "--timeout-ms", ((long)o.SyncRequestTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            "--compression-threshold", o.CompressionThreshold.ToString(CultureInfo.InvariantCulture),
            "--max-frame", o.MaxFrameLength.ToString(CultureInfo.InvariantCulture),
            "--max-decompressed", o.MaxDecompressedLength.ToString(CultureInfo.InvariantCulture),
            "--max-depth", o.MaxBrineDepth.ToString(CultureInfo.InvariantCulture),
            "--max-int-digits", o.MaxIntDigits.ToString(CultureInfo.InvariantCulture),
            "--max-items", o.MaxBrineItems.ToString(CultureInfo.InvariantCulture),
            "--receive-spin-ticks", o.ReceiveSpin.Ticks.ToString(CultureInfo.InvariantCulture),
            "--no-delay", o.NoDelay ? "1" : "0",
            "--flags", string.Join(',', Flags(o)),
        ];

        private static IEnumerable<string> Flags(RpycConnectOptions o)
        {
            yield return "-";
            if (o.AllowPublicAttrs)
            {
                yield return "public";
            }
            if (o.AllowSetAttr)
            {
                yield return "setattr";
            }
            if (!o.IncludeLocalTraceback)
            {
                yield return "notraceback";
            }
        }

        public static WorkerArguments Parse(string[] args)
        {
            var map = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i + 1 < args.Length; i += 2)
            {
                map[args[i]] = args[i + 1];
            }
            string Get(string key) => map.TryGetValue(key, out string? v) ? v : throw new ArgumentException($"missing {key}");
            int Int(string key) => int.Parse(Get(key), CultureInfo.InvariantCulture);
            HashSet<string> flags = [.. Get("--flags").Split(',')];
            var options = new RpycConnectOptions
            {
                SyncRequestTimeout = TimeSpan.FromMilliseconds(long.Parse(Get("--timeout-ms"), CultureInfo.InvariantCulture)),
                CompressionThreshold = Int("--compression-threshold"),
                MaxFrameLength = Int("--max-frame"),
                MaxDecompressedLength = Int("--max-decompressed"),
                MaxBrineDepth = Int("--max-depth"),
                MaxIntDigits = Int("--max-int-digits"),
                MaxBrineItems = Int("--max-items"),
                AllowPublicAttrs = flags.Contains("public"),
                AllowSetAttr = flags.Contains("setattr"),
                IncludeLocalTraceback = !flags.Contains("notraceback"),
                ReceiveSpin = TimeSpan.FromTicks(long.Parse(Get("--receive-spin-ticks"), CultureInfo.InvariantCulture)),
                NoDelay = Get("--no-delay") == "1",
            };
            long idleMs = long.Parse(Get("--idle-ms"), CultureInfo.InvariantCulture);
            return new WorkerArguments(Get("--control"), Get("--assembly"), Get("--type"), options,
                TimeSpan.FromMilliseconds(long.Parse(Get("--handshake-ms"), CultureInfo.InvariantCulture)),
                idleMs < 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(idleMs))
            {
                Tls = map.TryGetValue("--tls", out string? tls) && tls == "stdin",
            };
        }
    }
}
