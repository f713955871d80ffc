using Rpyc.Transport;

namespace Rpyc.Tests;

/// <summary>A client and a server connection over an in-memory duplex pair, the server serving on its own thread.</summary>
internal sealed class ConnectionPair : IDisposable
{
    private readonly Thread _serverThread;

    public ConnectionPair(RpycService service, RpycProtocolVersion version, RpycConnectOptions? options = null, TimeSpan? clientTimeout = null)
    {
        (MemoryTransport a, MemoryTransport b) = MemoryTransport.CreatePair();
        options ??= RpycConnectOptions.Default;
        Server = new RpycConnection(a, options, service, version: null);
        Client = new RpycConnection(b, new RpycConnectOptions { ProtocolVersion = version, SyncRequestTimeout = clientTimeout ?? TimeSpan.FromSeconds(10) }, null, version);
        _serverThread = new Thread(() =>
        {
            try
            {
                Server.ServeAll();
            }
            catch (RpycException)
            {
            }
        })
        { IsBackground = true };
        _serverThread.Start();
    }

    public RpycConnection Server { get; }

    public RpycConnection Client { get; }

    public void Dispose()
    {
        Client.Dispose();
        Server.Dispose();
        _serverThread.Join(TimeSpan.FromSeconds(5));
    }
}

public sealed class PairService : RpycService
{
    public List<string> Calls { get; } = [];

    [Exposed] public string Ping() => "pong";

    [Exposed] public long Add(long a, long b = 10) => a + b;

    [Exposed] public PyTuple Kw(long a, long b = 2, long c = 3) => new(a, b, c);

    [Exposed] public long Sum(params long[] values) => values.Sum();

    [Exposed] public object? Echo(object? value) => value;

    [Exposed] public void Fail(string message) => throw new ArgumentException(message);

    [Exposed] public List<object?> GetList() => [1L, "two", new byte[] { 3 }];

    [Exposed] public Dictionary<string, long> GetDict() => new() { ["a"] = 1 };

    [Exposed] public long CallBack(Func<long, long> fn, long x) => fn(x) + 1;

    [Exposed] public object? CallDynamic(dynamic fn, long x) => fn(x);

    [Exposed] public async Task<long> SlowDouble(long x)
    {
        await Task.Yield();
        return 2 * x;
    }

    [Exposed("custom_name")] public string Renamed() => "renamed";

    public string NotExposed() => "secret";

    public string exposed_legacy() => "legacy";
}
