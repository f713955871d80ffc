namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// The demo service of the recorded sessions (wire notes section 13), in .NET: the recorded client
/// frames are replayed against it. The class name gives <c>get_service_name() == "DEMO"</c>.
/// </summary>
public sealed class DemoService : RpycService
{
    // The recorded server returned the same Thing to both get_object() calls (one proxy, refcount 2).
    private readonly DemoThing _thing = new("thing-1");

    [Exposed]
    public string Ping() => "pong";

    [Exposed]
    public object? Echo(object? data) => data;

    [Exposed]
    public long Upload(byte[] data) => data.Length;

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
    public DemoThing GetObject() => _thing;

    [Exposed]
    public void Fail(string msg) => throw new ArgumentException(msg);

    [Exposed]
    public List<object?> GetList() => [1L, "two", "3"u8.ToArray()];

    [Exposed]
    public long CallMe(Func<long, long> fn, long x) => fn(x);
}

/// <summary>The recorded <c>Thing</c>: exposes <c>method</c> and <c>get_name</c>, hides <c>secret</c>.</summary>
public sealed class DemoThing(string name)
{
    [Exposed]
    public string Method(long x) => $"{name}:{2 * x}";

    [Exposed]
    public string GetName() => name;

    public string Secret => "hidden";

    public override string ToString() => $"<Thing {name}>";
}
