namespace Rpyc.Bench;

/// <summary>
/// Starts a .NET target's server inside the current process: what <c>rpycbench serve</c> runs,
/// and what hosts run when <see cref="ServerHostOptions.InProcess"/> is set.
/// </summary>
public static class LocalServer
{
    /// <summary>Starts the server of a .NET target.</summary>
    /// <param name="target"><c>rpyc_threaded</c>, <c>rpyc_forking</c>, <c>http_threaded</c> or <c>tcp_raw</c>.</param>
    /// <param name="host">Address to bind.</param>
    /// <param name="port">Port, 0 for a free one.</param>
    /// <param name="boundPort">The bound port.</param>
    /// <returns>The running server; dispose it to stop.</returns>
    /// <exception cref="ArgumentException">Not a .NET target.</exception>
    public static IDisposable Start(string target, string host, int port, out int boundPort) =>
        Start(target, host, port, TimeSpan.Zero, out boundPort);

    /// <summary>Starts the server of a .NET target.</summary>
    /// <param name="target"><c>rpyc_threaded</c>, <c>rpyc_forking</c>, <c>http_threaded</c> or <c>tcp_raw</c>.</param>
    /// <param name="host">Address to bind.</param>
    /// <param name="port">Port, 0 for a free one.</param>
    /// <param name="receiveSpin"><see cref="RpycConnectOptions.ReceiveSpin"/> of an RPyC server's connections; other servers ignore it.</param>
    /// <param name="boundPort">The bound port.</param>
    /// <returns>The running server; dispose it to stop.</returns>
    /// <exception cref="ArgumentException">Not a .NET target.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="receiveSpin"/> is negative or above <see cref="RpycConnectOptions.MaxReceiveSpin"/>.</exception>
    public static IDisposable Start(string target, string host, int port, TimeSpan receiveSpin, out int boundPort)
    {
        switch (target)
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
                ForkingServer server = ForkingServer.Create<BenchService>(RpycOptions(host, port, receiveSpin));
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
                var server = new TcpRawServer(host, port);
                boundPort = server.Port;
                return server;
            }
            default:
                throw new ArgumentException($"'{target}' is not a .NET target.", nameof(target));
        }
    }

    private static RpycServerOptions RpycOptions(string host, int port, TimeSpan receiveSpin) => new()
    {
        Host = host,
        Port = port,
        ConnectionOptions = receiveSpin == TimeSpan.Zero ? RpycConnectOptions.Default : new RpycConnectOptions { ReceiveSpin = receiveSpin },
    };
}
