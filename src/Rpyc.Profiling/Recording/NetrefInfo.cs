using System.Diagnostics;

namespace Rpyc.Telemetry;

/// <summary>Which side of the connection an object reference is counted on.</summary>
public enum NetrefSide
{
    /// <summary>A proxy on this side for an object of the peer.</summary>
    Proxy,

    /// <summary>An object of this side that the peer holds a proxy for (passed by reference).</summary>
    Exported,
}

/// <summary>One proxy, or one object passed by reference, followed by an <see cref="RpycTelemetry"/> with <see cref="RpycTelemetryOptions.TrackNetrefs"/>.</summary>
public sealed class NetrefInfo
{
    private long _accesses;
    private long _methodCalls;
    private long _attributeAccesses;
    private long _releasedTimestamp;

    internal NetrefInfo(long id, NetrefSide side, int connectionId, string typeName, long instanceId, bool isRoot, long createdTimestamp)
    {
        Id = id;
        Side = side;
        ConnectionId = connectionId;
        TypeName = typeName;
        InstanceId = instanceId;
        IsRoot = isRoot;
        CreatedTimestamp = createdTimestamp;
    }

    /// <summary>The telemetry's number for it, from 1 (shown as <c>NetRef #n</c>).</summary>
    public long Id { get; }

    /// <summary>Proxy on this side, or this side's object exported to the peer.</summary>
    public NetrefSide Side { get; }

    /// <summary>The telemetry's number for the connection.</summary>
    public int ConnectionId { get; }

    /// <summary>The object's type as <c>module.Class</c> (the id_pack's name_pack).</summary>
    public string TypeName { get; }

    /// <summary>The owner's instance id (Python's <c>id(obj)</c>; 0 for a class).</summary>
    public long InstanceId { get; }

    /// <summary>Whether this is the peer's root object (never released by DEL, by design).</summary>
    public bool IsRoot { get; }

    /// <summary>When it was created or exported (<see cref="Stopwatch.GetTimestamp"/> ticks).</summary>
    public long CreatedTimestamp { get; }

    /// <summary>When it was released, or 0 while alive.</summary>
    public long ReleasedTimestamp => Volatile.Read(ref _releasedTimestamp);

    /// <summary>Whether it has not been released yet.</summary>
    public bool IsAlive => ReleasedTimestamp == 0;

    /// <summary>Requests made through the proxy (always 0 for exported objects).</summary>
    public long Accesses => Interlocked.Read(ref _accesses);

    /// <summary>Of <see cref="Accesses"/>: method calls (callattr, call).</summary>
    public long MethodCalls => Interlocked.Read(ref _methodCalls);

    /// <summary>Of <see cref="Accesses"/>: everything else (getattr, setattr, str, cmp, ...).</summary>
    public long AttributeAccesses => Interlocked.Read(ref _attributeAccesses);

    /// <summary>Time since creation, up to the release if released.</summary>
    public TimeSpan Age => Stopwatch.GetElapsedTime(CreatedTimestamp, IsAlive ? Stopwatch.GetTimestamp() : ReleasedTimestamp);

    internal void Accessed() => Interlocked.Increment(ref _accesses);

    internal void Classify(bool isMethodCall) =>
        Interlocked.Increment(ref isMethodCall ? ref _methodCalls : ref _attributeAccesses);

    internal void Released(long timestamp) => Interlocked.CompareExchange(ref _releasedTimestamp, timestamp, 0);

    /// <summary>The original rpycbench form: <c>NetRef&lt;Class&gt; id=n age=1.23s calls=n attrs=n</c>.</summary>
    public override string ToString() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"NetRef<{TypeName}> id={Id} age={Age.TotalSeconds:F2}s calls={MethodCalls} attrs={AttributeAccesses}");
}
