using Rpyc.Protocol;

namespace Rpyc.Telemetry;

/// <summary>
/// The observer an <see cref="RpycTelemetry"/> attaches to one connection: it carries the
/// connection's number so the hot path needs no lookup, and forwards every event.
/// </summary>
/// <remarks>
/// Records keep their observer, and records outlive connections (a server attaching to each of its
/// connections): the observer holds the connection weakly, so that a closed connection, its buffers
/// and its tables can be collected while its records stay; its peer name is copied.
/// </remarks>
internal sealed class TelemetryObserver(RpycTelemetry telemetry, RpycConnection connection, int connectionId) : ConnectionObserver
{
    private readonly WeakReference<RpycConnection> _connection = new(connection);

    // 1 while a GETROOT is in flight: the first proxy created meanwhile is the peer's root.
    private int _rootPending;

    // Proxies and exports of this connection still alive: dropped together when it closes.
    public long AliveProxies;
    public long AliveExports;

    // The telemetry state whose log last kept a record or netref of this connection, and whether the
    // connection has closed or been detached: its peer name is kept while either says it is needed.
    // Both change under the telemetry's peer-name lock.
    public RpycTelemetry.TelemetryState? KeptIn;
    public bool Gone;

    public RpycTelemetry Telemetry => telemetry;

    public int ConnectionId => connectionId;

    public string PeerName { get; } = connection.PeerName;

    // A connection collected is closed: nothing else held it, so nobody waits on it.
    public bool IsConnectionClosed => !_connection.TryGetTarget(out RpycConnection? target) || target.IsClosed;

    public void SetRootPending(bool pending) => Volatile.Write(ref _rootPending, pending ? 1 : 0);

    public bool TakeRootPending() => Volatile.Read(ref _rootPending) != 0 && Interlocked.Exchange(ref _rootPending, 0) != 0;

    public override object? RequestStarting(RpycConnection connection, HandlerId handler, string? target, string? name, bool sync) =>
        telemetry.OnRequestStarting(this, handler, target, name, sync);

    public override void RequestSent(object? state, int frameBytes)
    {
        if (state is CallRecord record)
        {
            telemetry.OnRequestSent(record, frameBytes);
        }
    }

    public override void RequestCompleted(object? state, long replyBytes, bool createdNetref, Exception? error)
    {
        if (state is CallRecord record)
        {
            telemetry.OnRequestCompleted(record, replyBytes, createdNetref, error);
        }
    }

    public override object? IncomingStarting(RpycConnection connection, HandlerId handler, string? target, string? name, long frameBytes) =>
        telemetry.OnIncomingStarting(this, handler, target, name, frameBytes);

    public override void IncomingCompleted(object? state, int replyBytes, Exception? error) =>
        telemetry.OnIncomingCompleted(this, state as CallRecord, replyBytes, error);

    public override void UnmatchedReplyReceived(RpycConnection connection, long frameBytes) =>
        telemetry.OnUnmatchedReply(frameBytes);

    public override void NetrefCreated(RpycConnection connection, string typeName, long instanceId) =>
        telemetry.OnNetrefCreated(this, typeName, instanceId);

    public override void NetrefAccessed(RpycConnection connection, string typeName, long instanceId) =>
        telemetry.OnNetrefAccessed(this, typeName, instanceId);

    public override void NetrefReleased(RpycConnection connection, string typeName, long instanceId) =>
        telemetry.OnNetrefReleased(this, typeName, instanceId);

    public override void LocalObjectExported(RpycConnection connection, string typeName, long instanceId) =>
        telemetry.OnLocalObjectExported(this, typeName, instanceId);

    public override void LocalObjectReleased(RpycConnection connection, string typeName, long instanceId) =>
        telemetry.OnLocalObjectReleased(this, typeName, instanceId);
}
