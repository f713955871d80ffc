namespace Rpyc.Bench;

// Transfers, custom counters and timings.
public sealed partial class BenchmarkContext
{
    private readonly LatencyRecorder _transfers;
    private readonly List<double> _transferRates = [];
    private readonly Dictionary<string, long> _counters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LatencyRecorder> _timings = new(StringComparer.Ordinal);
    private long _transferBytes;
    private long _transferTicks;

    /// <summary>
    /// Times one transfer of <paramref name="bytes"/> until the returned scope is disposed. Each
    /// successful transfer adds one bytes-per-second sample (see <see cref="ContextBandwidth"/>);
    /// report a failed one with <see cref="RecordRequest"/>(<c>false</c>) inside the scope. Transfers
    /// are counted apart from requests.
    /// </summary>
    /// <param name="bytes">The bytes the transfer moves.</param>
    /// <returns>A scope; dispose it once the transfer completed.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bytes"/> is negative.</exception>
    /// <example>
    /// <code>
    /// using (bench.MeasureBandwidth(data.Length))
    /// {
    ///     bench.RecordRequest(conn.RootNetref.CallMethod("upload", data) is long n &amp;&amp; n == data.Length);
    /// }
    /// </code>
    /// </example>
    public BandwidthScope MeasureBandwidth(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        t_outcome = null;
        return new BandwidthScope(this, Clock.Now, bytes);
    }

    /// <summary>Adds <paramref name="delta"/> to the named counter (created at zero).</summary>
    /// <param name="name">The counter's name.</param>
    /// <param name="delta">The amount to add; may be negative.</param>
    /// <returns>The counter's new value.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null or empty.</exception>
    public long Increment(string name, long delta = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        lock (_sync)
        {
            _counters.TryGetValue(name, out long value);
            value += delta;
            _counters[name] = value;
            return value;
        }
    }

    /// <summary>Times a named section of code until the returned scope is disposed.</summary>
    /// <param name="name">The timing's name; every scope of one name adds to its statistics.</param>
    /// <returns>A scope; dispose it at the end of the section.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null or empty.</exception>
    public TimingScope MeasureTiming(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        return new TimingScope(this, name, Clock.Now);
    }

    /// <summary>Adds a duration measured elsewhere to the named timing.</summary>
    /// <param name="name">The timing's name.</param>
    /// <param name="duration">The duration.</param>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null or empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="duration"/> is negative.</exception>
    public void RecordTiming(string name, TimeSpan duration)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(duration, TimeSpan.Zero);
        AddTiming(name, Clock.FromSeconds(duration.TotalSeconds));
    }

    internal void EndTransfer(long startTicks, long bytes)
    {
        // At least one tick, so an instant transfer still yields a finite rate.
        long elapsed = Math.Max(1, Clock.Now - startTicks);
        bool success = t_outcome ?? true;
        t_outcome = null;
        lock (_sync)
        {
            if (!success)
            {
                _transfers.RecordFailure();
                return;
            }
            _transfers.Record(elapsed);
            _transferBytes += bytes;
            _transferTicks += elapsed;
            _transferRates.Add(bytes / Clock.ToSeconds(elapsed));
        }
    }

    internal void AddTiming(string name, long elapsedTicks)
    {
        lock (_sync)
        {
            if (!_timings.TryGetValue(name, out LatencyRecorder? recorder))
            {
                recorder = new LatencyRecorder(_latency.KeepsSamples);
                _timings.Add(name, recorder);
            }
            recorder.Record(elapsedTicks);
        }
    }

    /// <summary>One timed transfer; dispose it to record.</summary>
    public readonly struct BandwidthScope : IDisposable
    {
        private readonly BenchmarkContext _owner;
        private readonly long _start;
        private readonly long _bytes;

        internal BandwidthScope(BenchmarkContext owner, long start, long bytes)
        {
            _owner = owner;
            _start = start;
            _bytes = bytes;
        }

        /// <summary>Records the transfer.</summary>
        public void Dispose() => _owner?.EndTransfer(_start, _bytes);
    }

    /// <summary>One timed section of a named timing; dispose it to record.</summary>
    public readonly struct TimingScope : IDisposable
    {
        private readonly BenchmarkContext _owner;
        private readonly string _name;
        private readonly long _start;

        internal TimingScope(BenchmarkContext owner, string name, long start)
        {
            _owner = owner;
            _name = name;
            _start = start;
        }

        /// <summary>Records the section's duration.</summary>
        public void Dispose() => _owner?.AddTiming(_name, Clock.Now - _start);
    }
}
