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
    public static IDisposable Start(string target, string host, int port, out int boundPort)
    {
        switch (target)
        {
            case TargetCatalog.RpycThreaded:
            {
                var server = new ThreadedServer(() => new BenchService(), new RpycServerOptions { Host = host, Port = port });
                server.Start();
                boundPort = server.Port;
                return server;
            }
            case TargetCatalog.RpycForking:
            {
                ForkingServer server = ForkingServer.Create<BenchService>(new RpycServerOptions { Host = host, Port = port });
                server.Start();
                boundPort = server.Port;
                return server;
            }
            case TargetCatalog.HttpThreaded:
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
}
