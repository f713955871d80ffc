namespace Rpyc.Bench;

/// <summary>Tuning of a <see cref="DelayRelay"/>; the defaults suit every named profile.</summary>
public sealed class DelayRelayOptions
{
    /// <summary>
    /// How long before each delivery the writer stops sleeping and spins. The spin absorbs the
    /// scheduler's wake-up latency after <c>clock_nanosleep</c> (tens of microseconds on a busy host,
    /// more under heavy load); it costs up to that much CPU per delivered chunk. Default <c>null</c>:
    /// adapt it to the measured oversleep (its 95th percentile, within 10-300 us).
    /// </summary>
    public TimeSpan? SpinMargin { get; init; }

    /// <summary>Bytes the rate limit's token bucket banks while idle. Default 0: strict pacing at the rate.</summary>
    public long BurstBytes { get; init; }

    /// <summary>
    /// Bytes in flight per direction beyond the link's own bandwidth-delay product before the relay
    /// stops reading: the depth of the bottleneck's queue. Default 1 MiB.
    /// </summary>
    public long QueueSlackBytes { get; init; } = 1 << 20;

    /// <summary>
    /// The bandwidth-delay allowance per direction when the profile has no rate limit (an unlimited link
    /// has no product to size from). Default 32 MiB.
    /// </summary>
    public long UnlimitedRateWindowBytes { get; init; } = 32 << 20;

    /// <summary>
    /// Taken off each one-way delay, to cancel the relay's own path cost: a relayed chunk crosses
    /// loopback twice and wakes the relay's reader, so without compensation a round trip through the
    /// relay costs the round-trip time plus the direct loopback round trip plus this hop (15-70 us
    /// measured on a busy 2-core host). Default <c>null</c>: measured once per process before the
    /// first relay starts (half the hop, at most 100 us; see <see cref="DelayRelay.DelayCompensation"/>),
    /// so that a ping through a relay playing r costs r plus the direct loopback ping.
    /// <see cref="TimeSpan.Zero"/>: the relay never delivers early.
    /// </summary>
    public TimeSpan? DelayCompensation { get; init; }

    /// <summary>Seeds the jitter, for a reproducible run; <c>null</c> draws a random seed.</summary>
    public int? Seed { get; init; }

    internal void Validate()
    {
        if (SpinMargin is TimeSpan spin && (spin < TimeSpan.Zero || spin > TimeSpan.FromMilliseconds(100)))
        {
            throw new ArgumentOutOfRangeException(nameof(SpinMargin), SpinMargin, "The spin margin must be between 0 and 100 ms.");
        }
        if (BurstBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(BurstBytes), BurstBytes, "The burst must not be negative.");
        }
        if (QueueSlackBytes < 64 * 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(QueueSlackBytes), QueueSlackBytes, "The queue slack must be at least 64 KiB, one chunk.");
        }
        if (DelayCompensation is TimeSpan compensation && (compensation < TimeSpan.Zero || compensation > TimeSpan.FromMilliseconds(1)))
        {
            throw new ArgumentOutOfRangeException(nameof(DelayCompensation), DelayCompensation, "The delay compensation must be between 0 and 1 ms.");
        }
        if (UnlimitedRateWindowBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(UnlimitedRateWindowBytes), UnlimitedRateWindowBytes, "The window must not be negative.");
        }
    }
}
