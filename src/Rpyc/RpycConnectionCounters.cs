namespace Rpyc;

/// <summary>
/// Traffic of one connection, counted at the protocol layer (so round trips are exact, not
/// estimated from proxies). Snapshots are consistent enough for reporting; each field is atomic.
/// </summary>
public sealed class RpycConnectionCounters
{
    private long _syncRequests;
    private long _oneWayRequests;
    private long _incomingRequests;
    private long _framesSent;
    private long _framesReceived;
    private long _bytesSent;
    private long _bytesReceived;

    /// <summary>Requests this side sent and waited for: network round trips.</summary>
    public long SyncRequests => Interlocked.Read(ref _syncRequests);

    /// <summary>Requests sent without waiting for the reply (DEL, CLOSE).</summary>
    public long OneWayRequests => Interlocked.Read(ref _oneWayRequests);

    /// <summary>Requests the peer sent to this side (callbacks, releases).</summary>
    public long IncomingRequests => Interlocked.Read(ref _incomingRequests);

    /// <summary>Frames written.</summary>
    public long FramesSent => Interlocked.Read(ref _framesSent);

    /// <summary>Frames read.</summary>
    public long FramesReceived => Interlocked.Read(ref _framesReceived);

    /// <summary>Bytes written, frame headers and trailers included.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Bytes read, frame headers and trailers included.</summary>
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    internal void RequestSent(bool sync)
    {
        if (sync)
        {
            Interlocked.Increment(ref _syncRequests);
        }
        else
        {
            Interlocked.Increment(ref _oneWayRequests);
        }
    }

    internal void IncomingRequest() => Interlocked.Increment(ref _incomingRequests);

    internal void FrameSent(int bytes)
    {
        Interlocked.Increment(ref _framesSent);
        Interlocked.Add(ref _bytesSent, bytes);
    }

    internal void FrameReceived(long bytes)
    {
        Interlocked.Increment(ref _framesReceived);
        Interlocked.Add(ref _bytesReceived, bytes);
    }
}
