namespace Rpyc.Bench;

/// <summary>The raw measurements of a <see cref="BenchmarkContext"/>.</summary>
/// <param name="Name">The context's name.</param>
/// <param name="Protocol">The protocol.</param>
/// <param name="ServerMode">The server mode.</param>
/// <param name="Requests">Requests measured.</param>
/// <param name="Failures">Requests reported failed.</param>
/// <param name="Latency">Durations of the successful requests.</param>
/// <param name="Connections">Connection times.</param>
/// <param name="Seconds">Time since the context started (or until it was disposed).</param>
public sealed record ContextMeasurements(string Name, string Protocol, string? ServerMode, long Requests, long Failures, LatencyRecorder Latency, LatencyRecorder Connections, double Seconds)
{
    /// <summary>Payload bytes sent by the successful requests measured with byte counts.</summary>
    public long BytesSent { get; init; }

    /// <summary>Payload bytes received by the successful requests measured with byte counts.</summary>
    public long BytesReceived { get; init; }

    /// <summary>The transfers measured with <see cref="BenchmarkContext.MeasureBandwidth"/>, or <c>null</c> when none was.</summary>
    public ContextTransfers? Transfers { get; init; }

    /// <summary>The custom counters, by name.</summary>
    public IReadOnlyDictionary<string, long> Counters { get; init; } = new Dictionary<string, long>();

    /// <summary>The custom timings' durations, by name.</summary>
    public IReadOnlyDictionary<string, LatencyRecorder> Timings { get; init; } = new Dictionary<string, LatencyRecorder>();

    /// <summary>This process's CPU and memory during the context, or <c>null</c> when not sampled.</summary>
    public ResourceUsage? SystemMetrics { get; init; }
}

/// <summary>The raw transfers of a <see cref="BenchmarkContext"/>.</summary>
/// <param name="Bytes">Bytes moved by the successful transfers.</param>
/// <param name="Seconds">The successful transfers' durations added up.</param>
/// <param name="Durations">Each successful transfer's duration, and the failures.</param>
/// <param name="BytesPerSecond">Each successful transfer's rate, in order.</param>
public sealed record ContextTransfers(long Bytes, double Seconds, LatencyRecorder Durations, IReadOnlyList<double> BytesPerSecond);

/// <summary>Bandwidth statistics of a <see cref="BenchmarkContext"/>'s transfers.</summary>
/// <param name="Transfers">Successful transfers.</param>
/// <param name="Failures">Transfers reported failed.</param>
/// <param name="Bytes">Bytes moved by the successful transfers.</param>
/// <param name="Seconds">The successful transfers' durations added up.</param>
/// <param name="PerTransfer">Bytes per second of each transfer (its bytes / its duration).</param>
/// <param name="TransferTime">Transfer durations, in seconds.</param>
public sealed record ContextBandwidth(long Transfers, long Failures, long Bytes, double Seconds, Statistics PerTransfer, Statistics TransferTime)
{
    /// <summary>Bytes per second over all transfers: <see cref="Bytes"/> / <see cref="Seconds"/> (0 when nothing moved).</summary>
    public double BytesPerSecond => Seconds > 0 ? Bytes / Seconds : 0;

    internal static ContextBandwidth From(ContextTransfers t) =>
        new(t.Durations.Count, t.Durations.Failures, t.Bytes, t.Seconds, Statistics.FromSamples(t.BytesPerSecond), t.Durations.ToStatistics());
}

/// <summary>Statistics of a <see cref="BenchmarkContext"/>, in seconds and bytes.</summary>
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

    /// <summary>Payload bytes sent by the successful requests measured with byte counts.</summary>
    public long BytesSent { get; init; }

    /// <summary>Payload bytes received by the successful requests measured with byte counts.</summary>
    public long BytesReceived { get; init; }

    /// <summary><see cref="BytesSent"/> per second of the context's wall time.</summary>
    public double BytesSentPerSecond => Seconds > 0 ? BytesSent / Seconds : 0;

    /// <summary><see cref="BytesReceived"/> per second of the context's wall time.</summary>
    public double BytesReceivedPerSecond => Seconds > 0 ? BytesReceived / Seconds : 0;

    /// <summary>The transfers' bandwidth, or <c>null</c> when no transfer was measured.</summary>
    public ContextBandwidth? Bandwidth { get; init; }

    /// <summary>The custom counters, by name.</summary>
    public IReadOnlyDictionary<string, long> Counters { get; init; } = new Dictionary<string, long>();

    /// <summary>The custom timings, by name, in seconds.</summary>
    public IReadOnlyDictionary<string, Statistics> Timings { get; init; } = new Dictionary<string, Statistics>();

    /// <summary>
    /// This process's CPU time and resident memory during the context (percent of one core; bytes),
    /// or <c>null</c> when neither <see cref="BenchmarkContext.RecordSystemMetrics"/> nor the
    /// background sampler took a sample.
    /// </summary>
    public ResourceUsage? SystemMetrics { get; init; }

    /// <summary>Renders these statistics as JSON (seconds, bytes, culture-invariant numbers, <c>null</c> for a value that does not exist).</summary>
    /// <returns>Indented JSON.</returns>
    public string ToJson() => ContextJson.Render(this);
}
