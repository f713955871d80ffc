namespace Rpyc.Bench;

/// <summary>
/// <see cref="LatencyBenchmark"/> for an <see cref="ISelfTimingClient"/>: the warmup is the same
/// rule (a <see cref="LatencyBenchmark"/> whose requests are untimed batches, with its count, least
/// duration and JIT probe), then one batch of calls is timed by the client itself, and the result is
/// the same <see cref="LatencyResult"/>.
/// </summary>
/// <example>
/// <code>
/// using var client = (PythonBenchClient)new PythonClientBenchTarget("pyclient_rpyc_threaded", "127.0.0.1", port).Connect();
/// LatencyResult r = new SelfTimedLatencyBenchmark("pyclient ping", client, "ping", new RunLimits(1000, TimeSpan.FromSeconds(20), 100)).Execute();
/// </code>
/// </example>
public sealed class SelfTimedLatencyBenchmark : BenchmarkBase<LatencyResult>
{
    private readonly ISelfTimingClient _client;
    private readonly string _operation;
    private readonly RunLimits _limits;

    /// <summary>Creates the benchmark.</summary>
    /// <param name="name">Its name in reports.</param>
    /// <param name="client">The client.</param>
    /// <param name="operation">The operation, e.g. <c>ping</c> or <c>ping_uncached</c>.</param>
    /// <param name="limits">Count, duration and warmup calls.</param>
    public SelfTimedLatencyBenchmark(string name, ISelfTimingClient client, string operation, RunLimits limits)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrEmpty(operation);
        _client = client;
        _operation = operation;
        _limits = limits;
    }

    /// <summary>Calls per untimed warmup batch. Default 50.</summary>
    public int WarmupBatch { get; init; } = 50;

    /// <summary>As <see cref="LatencyBenchmark.WarmupMinDuration"/>.</summary>
    public TimeSpan WarmupMinDuration { get; init; }

    /// <summary>As <see cref="LatencyBenchmark.JitActivity"/> (a .NET server's JIT; the Python client has none).</summary>
    public Func<long>? JitActivity { get; init; }

    /// <summary>Keep every raw sample.</summary>
    public bool KeepSamples { get; init; }

    /// <inheritdoc />
    protected override LatencyResult Run(CancellationToken cancellationToken)
    {
        int batch = Math.Max(1, WarmupBatch);
        LatencyResult warmup = new LatencyBenchmark(Name, () => _client.RunUntimed(_operation, batch) == 0,
            new RunLimits(0, _limits.MaxDuration, (_limits.Warmup + batch - 1) / batch))
        {
            WarmupMinDuration = WarmupMinDuration,
            JitActivity = JitActivity,
        }.Execute(cancellationToken);
        var recorder = new LatencyRecorder(KeepSamples);
        SelfTimedBatch timed = cancellationToken.IsCancellationRequested
            ? new SelfTimedBatch([], 0, null, 0)
            : _client.RunTimed(_operation, _limits.Count, _limits.MaxDuration);
        foreach (long ticks in timed.Ticks)
        {
            recorder.Record(ticks);
        }
        recorder.RecordFailures(timed.Failures);
        return new LatencyResult
        {
            Name = Name,
            Operation = _operation,
            Latency = recorder.ToStatistics(),
            Successes = recorder.Count,
            Failures = recorder.Failures,
            Seconds = timed.Seconds,
            RoundTripsPerRequest = _client.RoundTripsPerCall(_operation),
            SampleTicks = recorder.SampleTicks,
            FirstError = timed.FirstError,
            WarmupSeconds = warmup.WarmupSeconds,
            WarmupSettled = warmup.WarmupSettled,
        };
    }
}
