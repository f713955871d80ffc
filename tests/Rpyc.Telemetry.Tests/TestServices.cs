namespace Rpyc.Telemetry.Tests;

/// <summary>The .NET service the wire tests run against.</summary>
public sealed class TelemetryTestService(Action<RpycConnection>? onConnect = null) : RpycService
{
    public override void OnConnect(RpycConnection connection)
    {
        base.OnConnect(connection);
        onConnect?.Invoke(connection);
    }

    [Exposed] public string Ping() => "pong";

    [Exposed] public long Add(long a, long b) => a + b;

    [Exposed] public object? Echo(object? value) => value;

    [Exposed] public List<object> GetList() => [1L, "two", new byte[] { 3 }, 4.5, 5L];

    [Exposed] public List<object> GetRange(long n) => [.. Enumerable.Range(0, (int)n).Select(i => (object)(long)i)];

    [Exposed] public void Fail(string message) => throw new ArgumentException(message);

    [Exposed] public long CallBack(Func<long, long> fn, long x) => fn(x) + 1;

    // Releases the caller's callable at once (DEL before the reply), so the trace is deterministic.
    [Exposed] public long CallAndRelease(Netref fn, long x)
    {
        using (fn)
        {
            return (long)fn.Call(x)! + 1;
        }
    }

    [Exposed] public Node GetNode() => new(3);

    [Exposed] public Node Tree { get; } = new(3);
}

/// <summary>A chain of objects reached by attribute: <c>root.tree.child.child.value</c>.</summary>
public sealed class Node(int depth)
{
    [Exposed] public Node? Child { get; } = depth > 0 ? new Node(depth - 1) : null;

    [Exposed] public long Value { get; } = depth;

    [Exposed] public string Describe() => $"node {depth}";
}

/// <summary>A .NET ThreadedServer on 127.0.0.1 and a port chosen by the OS, shared by a test collection.</summary>
public sealed class DotnetServerFixture : IDisposable
{
    private readonly ThreadedServer _server;

    public DotnetServerFixture()
    {
        _server = new ThreadedServer(() => new TelemetryTestService(), new RpycServerOptions { Port = 0 });
        _server.Start();
    }

    public int Port => _server.Port;

    public void Dispose() => _server.Dispose();
}

[CollectionDefinition(Name)]
public sealed class DotnetServerCollection : ICollectionFixture<DotnetServerFixture>
{
    public const string Name = ".NET rpyc server";
}
