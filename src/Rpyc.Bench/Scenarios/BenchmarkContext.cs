namespace Rpyc.Bench;

/// <summary>
/// Measures calls inside application code, the way rpycbench's Python context manager does: wrap
/// each request in <see cref="MeasureRequest"/> and report its outcome with
/// <see cref="RecordRequest"/>; wrap connects in <see cref="MeasureConnectionTime"/>. Compare a
/// baseline (bare calls) with the same calls made through your own code. Thread-safe.
/// </summary>
/// <example>
/// <code>
/// using var bench = new BenchmarkContext("baseline", "rpyc", measureLatency: true);
/// for (int i = 0; i &lt; 500; i++)
/// {
///     using (bench.MeasureRequest())
///     {
///         conn.RootNetref.CallMethod("ping");
///         bench.RecordRequest(success: true);
///     }
/// }
/// ContextStatistics stats = bench.ComputeStatistics();
/// Console.WriteLine($"{stats.Latency.Mean * 1e6:F1} us");
/// </code>
/// </example>
public sealed class BenchmarkContext : IDisposable
{
    private readonly Lock _sync = new();
    private readonly LatencyRecorder _latency;
    private readonly LatencyRecorder _connections;
    private readonly long _startTicks;
    private long _endTicks;
    private long _requests;
    private long _failures;
    [ThreadStatic]
    private static bool? t_outcome;

    /// <summary>Starts a context; the clock for throughput starts now.</summary>
    /// <param name="name">Its name in results.</param>
    /// <param name="protocol">The protocol measured, e.g. <c>rpyc</c> or <c>http</c>.</param>
    /// <param name="serverMode">e.g. <c>threaded</c>, or <c>null</c>.</param>
    /// <param name="measureLatency">Record request durations (otherwise only counts).</param>
    /// <param name="keepSamples">Keep every raw sample.</param>
    public BenchmarkContext(string name, string protocol, string? serverMode = null, bool measureLatency = true, bool keepSamples = false)
    {
        Name = name;
        Protocol = protocol;
        ServerMode = serverMode;
        MeasureLatency = measureLatency;
        _latency = new LatencyRecorder(keepSamples);
        _connections = new LatencyRecorder(keepSamples);
        _startTicks = Clock.Now;
    }

    /// <summary>The context's name.</summary>
    public string Name { get; }

    /// <summary>The protocol measured.</summary>
    public string Protocol { get; }

    /// <summary>The server mode, or <c>null</c>.</summary>
    public string? ServerMode { get; }

    /// <summary>Whether request durations are recorded.</summary>
    public bool MeasureLatency { get; }

    /// <summary>Times one request until the returned scope is disposed.</summary>
    /// <returns>A scope; call <see cref="RecordRequest"/> inside it.</returns>
    /// <remarks>A scope in which <see cref="RecordRequest"/> was not called counts as a success.</remarks>
    public RequestScope MeasureRequest()
    {
        t_outcome = null;
        return new RequestScope(this, Clock.Now);
    }

    /// <summary>Reports the outcome of the current request (or counts one request outside a scope).</summary>
    /// <param name="success">Whether it succeeded.</param>
    public void RecordRequest(bool success = true) => t_outcome = success;

    /// <summary>Times one connect until the returned scope is disposed.</summary>
    /// <returns>A scope; dispose it once the connection answered.</returns>
    public ConnectionScope MeasureConnectionTime() => new(this, Clock.Now);

    internal void EndRequest(long startTicks)
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
            }
            else if (MeasureLatency)
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
            var latency = new LatencyRecorder(_latency.KeepsSamples);
            latency.Add(_latency);
            var connections = new LatencyRecorder(_connections.KeepsSamples);
            connections.Add(_connections);
            return new ContextMeasurements(Name, Protocol, ServerMode, _requests, _failures, latency, connections, Clock.ToSeconds((_endTicks == 0 ? Clock.Now : _endTicks) - _startTicks));
        }
    }

    /// <summary>Computes the statistics of everything measured so far.</summary>
    /// <returns>Latency and connection statistics, counts, success rate and throughput.</returns>
    public ContextStatistics ComputeStatistics()
    {
        ContextMeasurements m = GetResults();
        return new ContextStatistics(m.Name, m.Protocol, m.ServerMode, m.Requests, m.Failures, m.Latency.ToStatistics(), m.Connections.ToStatistics(), m.Seconds);
    }

    /// <summary>Stops the context's clock (throughput uses the time up to here).</summary>
    public void Dispose()
    {
        if (_endTicks == 0)
        {
            _endTicks = Clock.Now;
        }
    }

    /// <summary>One timed request; dispose it to record.</summary>
    public readonly struct RequestScope : IDisposable
    {
        private readonly BenchmarkContext _owner;
        private readonly long _start;

        internal RequestScope(BenchmarkContext owner, long start)
        {
            _owner = owner;
            _start = start;
        }

        /// <summary>Records the request.</summary>
        public void Dispose() => _owner?.EndRequest(_start);
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

/// <summary>The raw measurements of a <see cref="BenchmarkContext"/>.</summary>
/// <param name="Name">The context's name.</param>
/// <param name="Protocol">The protocol.</param>
/// <param name="ServerMode">The server mode.</param>
/// <param name="Requests">Requests measured.</param>
/// <param name="Failures">Requests reported failed.</param>
/// <param name="Latency">Durations of the successful requests.</param>
/// <param name="Connections">Connection times.</param>
/// <param name="Seconds">Time since the context started (or until it was disposed).</param>
public sealed record ContextMeasurements(string Name, string Protocol, string? ServerMode, long Requests, long Failures, LatencyRecorder Latency, LatencyRecorder Connections, double Seconds);

/// <summary>Statistics of a <see cref="BenchmarkContext"/>, in seconds.</summary>
/// <param name="Name">The context's name.</param>
/// <param name="Protocol">The protocol.</param>
/// <param name="ServerMode">The server mode.</param>
/// <param name="Requests">Requests measured.</param>
/// <param name="Failures">Requests reported failed.</param>
/// <param name="Latency">Request durations.</param>
/// <param name="ConnectionTime">Connection times.</param>
/// <param name="Seconds">The context's wall time.</param>
public sealed record ContextStatistics(string Name, string Protocol, string? ServerMode, long Requests, long Failures, Statistics Latency, Statistics ConnectionTime, double Seconds)
{
    /// <summary>Successful requests / requests.</summary>
    public double SuccessRate => Requests > 0 ? (double)(Requests - Failures) / Requests : 0;

    /// <summary>Successful requests per second of the context's wall time.</summary>
    public double Throughput => Seconds > 0 ? (Requests - Failures) / Seconds : 0;
}
