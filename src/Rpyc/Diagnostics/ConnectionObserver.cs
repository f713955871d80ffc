using Rpyc.Protocol;

namespace Rpyc.Telemetry;

/// <summary>
/// Receives every protocol event of the connections it is attached to, from the connection itself,
/// so counts are facts about the wire. Detached (<c>null</c>), the call path pays one null check.
/// Methods may run on any thread, including the finalizer thread (releases of collected proxies).
/// </summary>
internal abstract class ConnectionObserver
{
    /// <summary>A request this side is about to send; the result is handed back to the other calls about it.</summary>
    public virtual object? RequestStarting(RpycConnection connection, HandlerId handler, string? target, string? name, bool sync) => null;

    /// <summary>The request's frame left, <paramref name="frameBytes"/> long.</summary>
    public virtual void RequestSent(object? state, int frameBytes)
    {
    }

    /// <summary>The reply arrived (or the request failed); one-way requests complete right after sending with 0 reply bytes.</summary>
    public virtual void RequestCompleted(object? state, long replyBytes, bool createdNetref, Exception? error)
    {
    }

    /// <summary>The peer's request is about to be handled on this thread (a callback when this thread is waiting).</summary>
    public virtual object? IncomingStarting(RpycConnection connection, HandlerId handler, string? target, string? name, long frameBytes) => null;

    /// <summary>The peer's request was handled and answered with <paramref name="replyBytes"/> (0 for CLOSE).</summary>
    public virtual void IncomingCompleted(object? state, int replyBytes, Exception? error)
    {
    }

    /// <summary>
    /// A reply or exception arrived for a request nobody waits for (the answer to a DEL, or a reply
    /// after a timeout), <paramref name="frameBytes"/> long; the connection drops it.
    /// </summary>
    public virtual void UnmatchedReplyReceived(RpycConnection connection, long frameBytes)
    {
    }

    /// <summary>A proxy for a peer object was created on this side.</summary>
    public virtual void NetrefCreated(RpycConnection connection, string typeName, long instanceId)
    {
    }

    /// <summary>A request was made through a proxy.</summary>
    public virtual void NetrefAccessed(RpycConnection connection, string typeName, long instanceId)
    {
    }

    /// <summary>A proxy was released (disposed or collected).</summary>
    public virtual void NetrefReleased(RpycConnection connection, string typeName, long instanceId)
    {
    }

    /// <summary>This side passed a new object by reference: the peer now holds a proxy for it.</summary>
    public virtual void LocalObjectExported(RpycConnection connection, string typeName, long instanceId)
    {
    }

    /// <summary>The peer released its last reference to an object of this side.</summary>
    public virtual void LocalObjectReleased(RpycConnection connection, string typeName, long instanceId)
    {
    }
}
