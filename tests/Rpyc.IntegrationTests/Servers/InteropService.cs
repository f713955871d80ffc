using System.Numerics;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// The .NET twin of tests/python/demo_server.py, served by the .NET ThreadedServer and
/// ForkingServer to stock Python clients. Public with a public parameterless constructor: the
/// ForkingServer's worker processes load it from the test assembly and create one per connection.
/// </summary>
public sealed class InteropService : RpycService
{
    private RpycConnection? _connection;

    /// <summary>Set by the in-process tests that want to see the last callback failure.</summary>
    public string? LastCallbackError { get; private set; }

    public override void OnConnect(RpycConnection connection) => _connection = connection;

    [Exposed]
    public string Ping() => "pong";

    [Exposed]
    public object? Echo(object? data) => data;

    [Exposed]
    public long Upload(byte[] data) => data.Length;

    /// <summary>A large argument borrowed from the connection's pool for the call (PooledBytes).</summary>
    [Exposed]
    public static long MemorySum(ReadOnlyMemory<byte> data)
    {
        long sum = 0;
        foreach (byte b in data.Span)
        {
            sum += b;
        }
        return sum;
    }

    [Exposed]
    public byte[] Download(int n)
    {
        var data = new byte[n];
        for (int i = 0; i < n; i++)
        {
            data[i] = (byte)((i * 7) & 0xFF);
        }
        return data;
    }

    [Exposed]
    public InteropThing GetObject(string name = "obj") => new(name);

    [Exposed]
    public void Fail(string msg) => throw new ArgumentException(msg);

    [Exposed]
    public List<object?> GetList() => [1L, "two", new byte[] { 51 }];

    [Exposed]
    public Dictionary<string, object?> GetDict() => new() { ["a"] = 1L, ["b"] = 2L };

    [Exposed]
    public long CallMe(Func<long, long> fn, long x) => fn(x);

    [Exposed]
    public object? CallDynamic(dynamic fn, long x) => fn(x);

    /// <summary>Calls the callback and reports what it raised, as seen by .NET.</summary>
    [Exposed]
    public string CallAndCatch(Func<long, long> fn, long x)
    {
        try
        {
            return $"returned {fn(x)}";
        }
        catch (RpycRemoteException ex)
        {
            LastCallbackError = ex.RemoteTypeName;
            return $"{ex.RemoteTypeName}: {PyValue.Str(ex.RemoteArgs.Count > 0 ? ex.RemoteArgs[0] : null)}";
        }
    }

    [Exposed]
    public BigInteger Add(BigInteger a, BigInteger b) => a + b;

    [Exposed]
    public (long A, long B, long C) Kw(long a, long b = 2, long c = 3) => (a, b, c);

    [Exposed]
    public string TypeName(object? v) => v?.GetType().Name ?? "NoneType";

    [Exposed]
    public async Task<long> SlowAdd(long a, long b)
    {
        await Task.Delay(20);
        return a + b;
    }

    [Exposed]
    public long LocalObjectCount() => _connection?.LocalObjectCount ?? -1;

    [Exposed]
    public long Pid() => Environment.ProcessId;

    [Exposed]
    public double Sleep(double seconds)
    {
        Thread.Sleep(TimeSpan.FromSeconds(seconds));
        return seconds;
    }

    /// <summary>Kills the serving process: only ever called on the ForkingServer (one process per connection).</summary>
    [Exposed]
    public void Crash() => Environment.FailFast("InteropService.crash() was called: simulated worker crash.");

    /// <summary>Public but not exposed: a peer must not reach it.</summary>
    public string NotExposed() => "must not be reachable";
}

/// <summary>The object <c>get_object(name)</c> returns by reference.</summary>
public sealed class InteropThing(string name)
{
    [Exposed]
    public string Method(long x) => $"{name}:{2 * x}";

    [Exposed]
    public string GetName() => name;

    [Exposed]
    public string Label => "thing-" + name;

    /// <summary>Public but not exposed: refused with AttributeError.</summary>
    public string Secret => "hidden";

    public override string ToString() => $"<Thing {name}>";
}
