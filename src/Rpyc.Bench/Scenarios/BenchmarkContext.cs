namespace Rpyc.Bench;

/// <summary>
/// Measures calls inside application code, the way rpycbench's Python context manager does: wrap
/// each request in <see cref="MeasureRequest()"/> and report its outcome with
/// <see cref="RecordRequest"/>; wrap connects in <see cref="MeasureConnectionTime"/>, transfers in
/// <see cref="MeasureBandwidth"/>, and anything else in <see cref="MeasureTiming"/> or
/// <see cref="Increment"/>. <see cref="RecordSystemMetrics"/> (or <c>sampleSystemMetrics: true</c>)
/// adds this process's CPU and memory. Compare a baseline (bare calls) with the same calls made
/// through your own code. Thread-safe.
/// </summary>
/// <example>
/// <code>
/// using var bench = new BenchmarkContext("baseline", "rpyc", measureLatency: true, sampleSystemMetrics: true);
/// for (int i = 0; i &lt; 500; i++)
/// {
///     using (bench.MeasureRequest(bytesSent: data.Length, bytesReceived: data.Length))
///     {
///         object? reply = conn.RootNetref.CallMethod("echo", data);
///         bench.RecordRequest(success: reply is byte[] b &amp;&amp; b.Length == data.Length);
///     }
/// }
/// using (bench.MeasureBandwidth(big.Length))
/// {
///     conn.RootNetref.CallMethod("upload", big);
/// }
/// using (bench.MeasureTiming("validate"))
/// {
///     Validate(data);
/// }
/// bench.Increment("cache_miss");
/// ContextStatistics stats = bench.ComputeStatistics();
/// Console.WriteLine($"{stats.Latency.Mean * 1e6:F1} us, {stats.Bandwidth!.BytesPerSecond / 1e6:F1} MB/s");
/// bench.WriteJson("context.json");
/// </code>
/// </example>
public sealed partial class BenchmarkContext : IDisposable
{
    private readonly Lock _sync = new();
    private readonly LatencyRecorder _latency;
    private readonly LatencyRecorder _connections;
    private readonly long _startTicks;
    private long _endTicks;
    private long _requests;
    private long _failures;
    private long _bytesSent;
    private long _bytesReceived;
    [ThreadStatic]
    private static bool? t_outcome;

    /// <summary>Starts a context; the clock for throughput starts now.</summary>
    /// <param name="name">Its name in results.</param>
    /// <param name="protocol">The protocol measured, e.g. <c>rpyc</c> or <c>http</c>.</param>
    /// <param name="serverMode">e.g. <c>threaded</c>, or <c>null</c>.</param>
    /// <param name="measureLatency">Record request durations (otherwise only counts).</param>
    /// <param name="keepSamples">Keep every raw sample (requests, connects, transfers, timings).</param>
    /// <param name="sampleSystemMetrics">
    /// Sample this process's CPU time and resident memory every 100 ms on a background thread until
    /// the context is disposed (see <see cref="ContextStatistics.SystemMetrics"/>).
    /// </param>
    /// <exception cref="ArgumentException"><paramref name="name"/> or <paramref name="protocol"/> is empty.</exception>
    public BenchmarkContext(string name, string protocol, string? serverMode = null, bool measureLatency = true, bool keepSamples = false, bool sampleSystemMetrics = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(protocol);
        Name = name;
        Protocol = protocol;
        ServerMode = serverMode;
        MeasureLatency = measureLatency;
        SamplesSystemMetrics = sampleSystemMetrics;
        _latency = new LatencyRecorder(keepSamples);
        _connections = new LatencyRecorder(keepSamples);
        _transfers = new LatencyRecorder(keepSamples);
        _startTicks = Clock.Now;
        _startCpuSeconds = _lastCpuSeconds = _lastSampleCpuSeconds = ProcessCpuSeconds();
        _lastSampleTicks = _lastCpuTicks = _startTicks;
        if (sampleSystemMetrics)
        {
            _sampler = StartSampler();
        }
    }

    /// <summary>The context's name.</summary>
    public string Name { get; }

    /// <summary>The protocol measured.</summary>
    public string Protocol { get; }

    /// <summary>The server mode, or <c>null</c>.</summary>
    public string? ServerMode { get; }

    /// <summary>Whether request durations are recorded.</summary>
    public bool MeasureLatency { get; }

    /// <summary>Whether a background sampler records this process's CPU and memory.</summary>
    public bool SamplesSystemMetrics { get; }

    /// <summary>Times one request until the returned scope is disposed.</summary>
    /// <returns>A scope; call <see cref="RecordRequest"/> inside it.</returns>
    /// <remarks>A scope in which <see cref="RecordRequest"/> was not called counts as a success.</remarks>
    public RequestScope MeasureRequest()
    {
        t_outcome = null;
        return new RequestScope(this, Clock.Now, 0, 0);
    }

    /// <summary>
    /// Times one request that sends and receives a known number of bytes; a successful request adds
    /// them to <see cref="ContextStatistics.BytesSent"/> and <see cref="ContextStatistics.BytesReceived"/>.
    /// </summary>
    /// <param name="bytesSent">Payload bytes the request sends.</param>
    /// <param name="bytesReceived">Payload bytes its reply brings back.</param>
    /// <returns>A scope; call <see cref="RecordRequest"/> inside it.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A byte count is negative.</exception>
    /// <remarks>The bytes of a request reported failed are not counted.</remarks>
    public RequestScope MeasureRequest(long bytesSent, long bytesReceived)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytesSent);
        ArgumentOutOfRangeException.ThrowIfNegative(bytesReceived);
        t_outcome = null;
        return new RequestScope(this, Clock.Now, bytesSent, bytesReceived);
    }

    /// <summary>Reports the outcome of the current request or transfer (the innermost open scope on this thread).</summary>
    /// <param name="success">Whether it succeeded.</param>
    public void RecordRequest(bool success = true) => t_outcome = success;

    /// <summary>Times one connect until the returned scope is disposed.</summary>
    /// <returns>A scope; dispose it once the connection answered.</returns>
    public ConnectionScope MeasureConnectionTime() => new(this, Clock.Now);

    internal void EndRequest(long startTicks, long bytesSent, long bytesReceived)
    {
        long elapsed = Clock.Now - startTicks;
        bool success = t_outcome ?? true;
        t_outcome = null;
        lock (_sync)
        {
            _requests++;
            if (!success)
            {
                _failures++;
                _latency.RecordFailure();
                return;
            }
            _bytesSent += bytesSent;
            _bytesReceived += bytesReceived;
            if (MeasureLatency)
            {
                _latency.Record(elapsed);
            }
        }
    }

    internal void EndConnection(long startTicks)
    {
        long elapsed = Clock.Now - startTicks;
        lock (_sync)
        {
            _connections.Record(elapsed);
        }
    }

    /// <summary>The raw measurements so far (a snapshot).</summary>
    /// <returns>Counts and the recorders' copies.</returns>
    public ContextMeasurements GetResults()
    {
        lock (_sync)
        {
            return new ContextMeasurements(Name, Protocol, ServerMode, _requests, _failures, Copy(_latency), Copy(_connections), Clock.ToSeconds((_endTicks == 0 ? Clock.Now : _endTicks) - _startTicks))
            {
                BytesSent = _bytesSent,
                BytesReceived = _bytesReceived,
                Transfers = _transfers.Count + _transfers.Failures > 0
                    ? new ContextTransfers(_transferBytes, Clock.ToSeconds(_transferTicks), Copy(_transfers), [.. _transferRates])
                    : null,
                Counters = new SortedDictionary<string, long>(_counters, StringComparer.Ordinal),
                Timings = _timings.ToDictionary(kv => kv.Key, kv => Copy(kv.Value), StringComparer.Ordinal),
                SystemMetrics = SnapshotSystemMetrics(),
            };
        }
    }

    /// <summary>Computes the statistics of everything measured so far.</summary>
    /// <returns>
    /// Latency and connection statistics, counts, success rate, throughput, bytes, bandwidth,
    /// custom counters and timings, and system metrics.
    /// </returns>
    public ContextStatistics ComputeStatistics()
    {
        ContextMeasurements m = GetResults();
        return new ContextStatistics(m.Name, m.Protocol, m.ServerMode, m.Requests, m.Failures, m.Latency.ToStatistics(), m.Connections.ToStatistics(), m.Seconds)
        {
            BytesSent = m.BytesSent,
            BytesReceived = m.BytesReceived,
            Bandwidth = m.Transfers is { } t ? ContextBandwidth.From(t) : null,
            Counters = m.Counters,
            Timings = new SortedDictionary<string, Statistics>(m.Timings.ToDictionary(kv => kv.Key, kv => kv.Value.ToStatistics()), StringComparer.Ordinal),
            SystemMetrics = m.SystemMetrics,
        };
    }

    /// <summary>
    /// Renders <see cref="ComputeStatistics"/> as JSON: requests (with bytes), latency, connection
    /// time, bandwidth, counters, timings, <c>cpu_usage</c> and <c>memory_usage</c>. Seconds, bytes,
    /// bytes per second, culture-invariant numbers, <c>null</c> for a value that does not exist.
    /// </summary>
    /// <returns>Indented JSON.</returns>
    public string ToJson() => ComputeStatistics().ToJson();

    /// <summary>Writes <see cref="ToJson"/> to a file (UTF-8, no BOM).</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    public void WriteJson(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        File.WriteAllText(path, ToJson(), new System.Text.UTF8Encoding(false));
    }

    /// <summary>
    /// Stops the context's clock (throughput uses the time up to here) and its system-metrics
    /// sampler. Measurements made afterwards are still counted.
    /// </summary>
    public void Dispose()
    {
        lock (_sync)
        {
            if (_endTicks == 0)
            {
                _endTicks = Clock.Now;
            }
            StopSampler(restart: false);
        }
    }

    private static LatencyRecorder Copy(LatencyRecorder source)
    {
        var copy = new LatencyRecorder(source.KeepsSamples);
        copy.Add(source);
        return copy;
    }

    /// <summary>One timed request; dispose it to record.</summary>
    public readonly struct RequestScope : IDisposable
    {
        private readonly BenchmarkContext _owner;
        private readonly long _start;
        private readonly long _bytesSent;
        private readonly long _bytesReceived;

        internal RequestScope(BenchmarkContext owner, long start, long bytesSent, long bytesReceived)
        {
            _owner = owner;
            _start = start;
            _bytesSent = bytesSent;
            _bytesReceived = bytesReceived;
        }

        /// <summary>Records the request.</summary>
        public void Dispose() => _owner?.EndRequest(_start, _bytesSent, _bytesReceived);
    }

    /// <summary>One timed connect; dispose it to record.</summary>
    public readonly struct ConnectionScope : IDisposable
    {
        private readonly BenchmarkContext _owner;
        private readonly long _start;

        internal ConnectionScope(BenchmarkContext owner, long start)
        {
            _owner = owner;
            _start = start;
        }

        /// <summary>Records the connection time.</summary>
        public void Dispose() => _owner?.EndConnection(_start);
    }
}
