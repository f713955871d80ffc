namespace Rpyc.Bench;

/// <summary>
/// Latency of a request function on a warm connection: warmup requests first, then the measured
/// requests one after another. The function returns <c>false</c> (or throws) for a failed request.
/// </summary>
/// <example>
/// <code>
/// using BenchClient client = target.Connect();
/// LatencyResult r = new LatencyBenchmark("ping", () =&gt; { client.Ping(); return true; },
///     new RunLimits(1000, TimeSpan.FromSeconds(30), Warmup: 100)) { RoundTrips = () =&gt; client.RoundTrips }.Execute();
/// Console.WriteLine(r.Latency.P99);
/// </code>
/// </example>
public sealed class LatencyBenchmark : BenchmarkBase<LatencyResult>
{
    private readonly Func<bool> _request;
    private readonly RunLimits _limits;

    /// <summary>Creates the benchmark.</summary>
    /// <param name="name">Its name in reports.</param>
    /// <param name="request">One request; <c>false</c> or an exception means failure.</param>
    /// <param name="limits">Count, duration and warmup; default 1000 requests, 30 s, 100 warmup.</param>
    public LatencyBenchmark(string name, Func<bool> request, RunLimits? limits = null)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(request);
        _request = request;
        _limits = limits ?? new RunLimits(1000, TimeSpan.FromSeconds(30), 100);
    }

    /// <summary>The operation's name in reports (default <c>custom</c>).</summary>
    public string Operation { get; init; } = "custom";

    /// <summary>Reads a round-trip counter (e.g. <see cref="BenchClient.RoundTrips"/>), to report round trips per request.</summary>
    public Func<long>? RoundTrips { get; init; }

    /// <summary>
    /// The least time the warmup lasts, whatever its count (bounded by the phase's duration): a
    /// fresh .NET server promotes hot methods to optimized code only after ~100 ms without new
    /// tier-0 activity. Default 0.
    /// </summary>
    public TimeSpan WarmupMinDuration { get; init; }

    /// <summary>Keep every raw sample (exact percentiles).</summary>
    public bool KeepSamples { get; init; }

    /// <inheritdoc />
    protected override LatencyResult Run(CancellationToken cancellationToken)
    {
        long warmupStart = Clock.Now;
        long warmupDeadline = warmupStart + Clock.FromSeconds(Math.Min(_limits.MaxDuration.TotalSeconds, 10));
        long warmupMinimum = warmupStart + Clock.FromSeconds(Math.Min(WarmupMinDuration.TotalSeconds, Math.Min(_limits.MaxDuration.TotalSeconds, 10)));
        for (int i = 0; (i < _limits.Warmup || Clock.Now < warmupMinimum) && Clock.Now < warmupDeadline && !cancellationToken.IsCancellationRequested; i++)
        {
            try
            {
                _request();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Warmup failures are not counted; the measured phase shows them.
            }
        }
        var recorder = new LatencyRecorder(KeepSamples);
        string? firstError = null;
        long roundTripsBefore = RoundTrips?.Invoke() ?? 0;
        long start = Clock.Now;
        long deadline = _limits.Deadline(start);
        for (int i = 0; i < _limits.Count && !cancellationToken.IsCancellationRequested; i++)
        {
            long t0 = Clock.Now;
            if (t0 > deadline)
            {
                break;
            }
            bool ok;
            try
            {
                ok = _request();
                firstError ??= ok ? null : "The request function returned false.";
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                ok = false;
                firstError ??= Describe(ex);
            }
            long elapsed = Clock.Now - t0;
            if (ok)
            {
                recorder.Record(elapsed);
            }
            else
            {
                recorder.RecordFailure();
            }
        }
        double seconds = Clock.SecondsSince(start);
        long requests = recorder.Count + recorder.Failures;
        double? roundTrips = RoundTrips is null || requests == 0 ? null : (double)(RoundTrips() - roundTripsBefore) / requests;
        return new LatencyResult
        {
            Name = Name,
            Operation = Operation,
            Latency = recorder.ToStatistics(),
            Successes = recorder.Count,
            Failures = recorder.Failures,
            Seconds = seconds,
            RoundTripsPerRequest = roundTrips,
            SampleTicks = recorder.SampleTicks,
            FirstError = firstError,
        };
    }
}
