namespace Rpyc.Bench;

/// <summary>
/// The clock-free model of one direction of a link: given when a chunk arrived and how long it is,
/// when it must be delivered. The rate limit is a token bucket: the link serializes bytes at the rate,
/// with <see cref="BurstBytes"/> of credit banked while idle; a chunk leaves the bucket when its last
/// byte is through, then takes the one-way delay plus jitter. Delivery times never decrease, so jitter
/// never reorders bytes. Not thread-safe: one reader owns it.
/// </summary>
internal sealed class LinkSchedule
{
    private readonly long _oneWayTicks;
    private readonly long _jitterTicks;
    private readonly double _ticksPerByte;
    private readonly long _burstTicks;
    private readonly Random _random;
    private long _linkFree = long.MinValue;
    private long _lastDelivery = long.MinValue;

    /// <param name="profile">The network.</param>
    /// <param name="ticksPerSecond">The clock's resolution (ticks per second).</param>
    /// <param name="burstBytes">Bytes the bucket banks while idle (0: strict pacing).</param>
    /// <param name="random">Draws the jitter; seeded in tests.</param>
    /// <param name="compensation">Taken off each one-way delay: the relay's own path cost (never below zero).</param>
    public LinkSchedule(NetworkProfile profile, long ticksPerSecond, long burstBytes = 0, Random? random = null, TimeSpan compensation = default)
    {
        ArgumentNullException.ThrowIfNull(profile);
        _oneWayTicks = ToTicks(profile.OneWayDelay - compensation, ticksPerSecond);
        _jitterTicks = ToTicks(profile.Jitter, ticksPerSecond);
        _ticksPerByte = profile.RateBitsPerSecond is long rate ? 8.0 * ticksPerSecond / rate : 0;
        _burstTicks = (long)(burstBytes * _ticksPerByte);
        BurstBytes = burstBytes;
        _random = random ?? new Random();
    }

    /// <summary>Bytes of credit the bucket banks while the link is idle.</summary>
    public long BurstBytes { get; }

    /// <summary>Returns the time a chunk of <paramref name="bytes"/> that arrived at <paramref name="arrival"/> is due.</summary>
    public long Schedule(long arrival, int bytes)
    {
        long sent = arrival;
        if (_ticksPerByte > 0)
        {
            // The bucket is full again after an idle spell of BurstBytes at the rate: never bank more.
            _linkFree = Math.Max(_linkFree, arrival - _burstTicks);
            _linkFree += (long)Math.Round(bytes * _ticksPerByte);
            sent = Math.Max(arrival, _linkFree);
        }
        long delay = _oneWayTicks;
        if (_jitterTicks > 0)
        {
            delay += _random.NextInt64(-_jitterTicks, _jitterTicks + 1);
        }
        delay = Math.Max(0, delay);
        _lastDelivery = Math.Max(_lastDelivery, sent + delay);
        return _lastDelivery;
    }

    private static long ToTicks(TimeSpan span, long ticksPerSecond) =>
        (long)Math.Round(span.Ticks * (double)ticksPerSecond / TimeSpan.TicksPerSecond);
}
