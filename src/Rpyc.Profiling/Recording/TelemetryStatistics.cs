namespace Rpyc.Telemetry;

/// <summary>A consistent-enough snapshot of an <see cref="RpycTelemetry"/>'s counters (each one is exact and atomic).</summary>
public sealed class TelemetryStatistics
{
    /// <summary>Every operation: round trips, one-way messages and the peer's requests handled here.</summary>
    public long TotalCalls { get; init; }

    /// <summary>Requests sent and waited for: network round trips.</summary>
    public long RoundTrips { get; init; }

    /// <summary>Requests sent without waiting (DEL, CLOSE).</summary>
    public long OneWayMessages { get; init; }

    /// <summary>The peer's requests handled by this side (callbacks, or a server's work, and the peer's DELs).</summary>
    public long IncomingRequests { get; init; }

    /// <summary>Operations that failed (remote exceptions, timeouts, broken connections); the <c>StopIteration</c> ending a remote loop is not counted.</summary>
    public long Errors { get; init; }

    /// <summary>Frame bytes sent: requests and replies to the peer's requests.</summary>
    public long BytesSent { get; init; }

    /// <summary>Frame bytes received: replies, the peer's requests and <see cref="UnmatchedReplyBytes"/>.</summary>
    public long BytesReceived { get; init; }

    /// <summary>Replies nobody waited for (answers to DEL, late replies after a timeout), when the connection reports them.</summary>
    public long UnmatchedReplies { get; init; }

    /// <summary>The frame bytes of <see cref="UnmatchedReplies"/>.</summary>
    public long UnmatchedReplyBytes { get; init; }

    /// <summary>Proxies created on this side.</summary>
    public long NetrefsCreated { get; init; }

    /// <summary>Proxies released on this side, of those counted in <see cref="NetrefsCreated"/> (not those made before attaching or a reset).</summary>
    public long NetrefsReleased { get; init; }

    /// <summary>Proxies still alive when their connection closed (both sides drop them without DEL).</summary>
    public long NetrefsDroppedOnClose { get; init; }

    /// <summary>Proxies alive on this side: created, minus released, minus dropped with a closed connection.</summary>
    public long ActiveNetrefs => NetrefsCreated - NetrefsReleased - NetrefsDroppedOnClose;

    /// <summary>Requests made through proxies.</summary>
    public long NetrefAccesses { get; init; }

    /// <summary>Objects of this side newly passed to the peer by reference.</summary>
    public long ObjectsExported { get; init; }

    /// <summary>Exported objects the peer released, of those counted in <see cref="ObjectsExported"/>.</summary>
    public long ObjectsReleased { get; init; }

    /// <summary>Exported objects still held when their connection closed.</summary>
    public long ExportsDroppedOnClose { get; init; }

    /// <summary>Exported objects the peer still holds.</summary>
    public long ActiveExports => ObjectsExported - ObjectsReleased - ExportsDroppedOnClose;

    /// <summary>Nesting depth of the calling thread's operations in progress (0 when none).</summary>
    public int CurrentStackDepth { get; init; }

    /// <summary>The deepest nesting seen (1 when there were only top-level calls).</summary>
    public int MaxStackDepth { get; init; }

    /// <summary>Operations at least <see cref="RpycTelemetryOptions.SlowCallThreshold"/> long.</summary>
    public long SlowCalls { get; init; }

    /// <summary>Operations at least <see cref="RpycTelemetryOptions.DeepStackThreshold"/> deep.</summary>
    public long DeepStacks { get; init; }

    /// <summary>Sum of the round trips' durations.</summary>
    public TimeSpan TotalRoundTripTime { get; init; }

    /// <summary>Average round trip duration (zero without round trips).</summary>
    public TimeSpan AverageCallDuration => RoundTrips == 0 ? TimeSpan.Zero : TotalRoundTripTime / RoundTrips;

    /// <summary>Operation records kept in the log.</summary>
    public long RecordsKept { get; init; }

    /// <summary>Operations counted but not kept because the log was full (<see cref="RpycTelemetryOptions.MaxRecords"/>).</summary>
    public long RecordsDropped { get; init; }
}
