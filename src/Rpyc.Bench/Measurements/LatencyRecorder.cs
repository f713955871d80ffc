using HdrHistogram;

namespace Rpyc.Bench;

/// <summary>
/// Records request durations (raw <see cref="Clock"/> ticks) into an HdrHistogram, so memory stays
/// bounded however long the run, plus exact count, min, max, mean and variance; optionally keeps
/// every raw sample for exact percentiles. Also counts failed requests. Not thread-safe: give each
/// client thread its own recorder and <see cref="Add"/> them afterwards.
/// </summary>
public sealed class LatencyRecorder
{
    // One hour in nanoseconds: nothing a benchmark measures lasts longer.
    private const long HighestTrackableNanos = 3_600_000_000_000;
    private static readonly double s_nanosPerTick = 1e9 / System.Diagnostics.Stopwatch.Frequency;

    private readonly LongHistogram _histogram = new(HighestTrackableNanos, 3);
    private readonly List<long>? _samples;
    private Moments _moments;
    private long _minTicks = long.MaxValue;
    private long _maxTicks = long.MinValue;

    /// <summary>Creates an empty recorder.</summary>
    /// <param name="keepSamples">Keep every raw sample (exact percentiles, memory grows with the run).</param>
    public LatencyRecorder(bool keepSamples = false)
    {
        _samples = keepSamples ? [] : null;
    }

    /// <summary>Successful requests recorded.</summary>
    public long Count => _moments.Count;

    /// <summary>Failed requests recorded.</summary>
    public long Failures { get; private set; }

    /// <summary>Whether raw samples are kept.</summary>
    public bool KeepsSamples => _samples is not null;

    /// <summary>The raw samples in ticks, in recording order, or <c>null</c> when not kept.</summary>
    public IReadOnlyList<long>? SampleTicks => _samples;

    /// <summary>Records one successful request that took <paramref name="elapsedTicks"/>.</summary>
    /// <param name="elapsedTicks">The duration in <see cref="Clock"/> ticks.</param>
    public void Record(long elapsedTicks)
    {
        if (elapsedTicks < 0)
        {
            elapsedTicks = 0;
        }
        _moments.Add(elapsedTicks);
        _minTicks = Math.Min(_minTicks, elapsedTicks);
        _maxTicks = Math.Max(_maxTicks, elapsedTicks);
        long nanos = Math.Clamp((long)(elapsedTicks * s_nanosPerTick), 1, HighestTrackableNanos);
        _histogram.RecordValue(nanos);
        _samples?.Add(elapsedTicks);
    }

    /// <summary>Counts one failed request (an exception or an invalid reply); its time is not recorded.</summary>
    public void RecordFailure() => Failures++;

    /// <summary>Counts <paramref name="count"/> failed requests at once (e.g. never sent: the connect failed).</summary>
    /// <param name="count">How many.</param>
    public void RecordFailures(long count) => Failures += Math.Max(0, count);

    /// <summary>Adds another recorder's samples and failures to this one.</summary>
    /// <param name="other">The recorder to merge; left unchanged.</param>
    public void Add(LatencyRecorder other)
    {
        ArgumentNullException.ThrowIfNull(other);
        _histogram.Add(other._histogram);
        _moments.Add(other._moments);
        if (other.Count > 0)
        {
            _minTicks = Math.Min(_minTicks, other._minTicks);
            _maxTicks = Math.Max(_maxTicks, other._maxTicks);
        }
        Failures += other.Failures;
        if (_samples is not null && other._samples is not null)
        {
            _samples.AddRange(other._samples);
        }
    }

    /// <summary>Computes the statistics of the successful requests, in seconds.</summary>
    /// <returns>Exact percentiles when samples are kept, else the histogram's.</returns>
    public Statistics ToStatistics()
    {
        if (Count == 0)
        {
            return Statistics.Empty;
        }
        if (_samples is not null && _samples.Count == Count)
        {
            return Statistics.FromSamples(_samples.Select(Clock.ToSeconds));
        }
        return new Statistics(
            Count,
            Clock.ToSeconds(_minTicks),
            Clock.ToSeconds(_maxTicks),
            Clock.ToSeconds(1) * _moments.Mean,
            Clock.ToSeconds(1) * _moments.SampleStdDev,
            new Statistics.Percentiles(At(50), At(90), At(95), At(99), At(99.9)));
    }

    // The histogram's value at a percentile, clamped into the exact [min, max] range.
    private double At(double percent) =>
        Math.Clamp(_histogram.GetValueAtPercentile(percent) / 1e9, Clock.ToSeconds(_minTicks), Clock.ToSeconds(_maxTicks));
}
