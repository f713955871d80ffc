namespace Rpyc.Profiling.Wire;

/// <summary>Settings of an <see cref="RpycWireProxy"/>.</summary>
public sealed class RpycWireProxyOptions
{
    /// <summary>The defaults: 100 ms slow calls, 100,000 kept calls, 10,000 awaited requests per side of a connection, the in-process profiler's advice thresholds.</summary>
    public static RpycWireProxyOptions Default { get; } = new();

    /// <summary>Round trips lasting at least this long are slow calls.</summary>
    public TimeSpan SlowCallThreshold { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How many calls to keep for the timelines, slow calls and advice; later ones are counted but not kept.</summary>
    public int MaxRecords { get; init; } = 100_000;

    /// <summary>
    /// How many requests of each side of a connection to await a reply for. Past it the oldest is given
    /// up: counted in <see cref="WireProfile.RequestsGivenUp"/>, no longer kept (a reply may never come:
    /// a peer that does not answer, a CLOSE, a callback the client drops), so a relay left running stays bounded.
    /// As many replies that match no request are kept per side, in case it comes; later ones are counted in
    /// <see cref="WireProfile.UnmatchedRepliesDropped"/>.
    /// </summary>
    public int MaxPendingRequests { get; init; } = 10_000;

    /// <summary>How many round trips over one remote sequence, or reads of one attribute, make a pattern worth advice.</summary>
    public int AdviceRepeatThreshold { get; init; } = 3;

    /// <summary>How many calls of the same remote method make the "batch the call" advice.</summary>
    public int AdviceBatchThreshold { get; init; } = 10;

    /// <summary>How many getattrs in a row, each on the object the previous one returned, make a long attribute chain.</summary>
    public int AdviceChainLength { get; init; } = 3;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(SlowCallThreshold, TimeSpan.Zero, nameof(SlowCallThreshold));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRecords, nameof(MaxRecords));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingRequests, 1, nameof(MaxPendingRequests));
        ArgumentOutOfRangeException.ThrowIfLessThan(AdviceRepeatThreshold, 2, nameof(AdviceRepeatThreshold));
        ArgumentOutOfRangeException.ThrowIfLessThan(AdviceBatchThreshold, 2, nameof(AdviceBatchThreshold));
        ArgumentOutOfRangeException.ThrowIfLessThan(AdviceChainLength, 2, nameof(AdviceChainLength));
    }
}
