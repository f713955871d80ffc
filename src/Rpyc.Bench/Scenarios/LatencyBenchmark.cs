using System.Runtime.CompilerServices;

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
    /// <summary>
    /// Failures in a row after which a phase ends early: a connection that is gone (a server that
    /// died, a frame the server refused) fails every later request at once, and a 20 s phase then
    /// counted some 160,000 failures for one broken connection. The failures are still counted and
    /// the first error reported.
    /// </summary>
    public const int MaxConsecutiveFailures = 100;

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

    /// <summary>Reads a connection counter (<see cref="BenchClient.ConnectionsOpened"/>), to report new connections per request.</summary>
    public Func<long?>? ConnectionsOpened { get; init; }

    /// <summary>
    /// The least time the warmup lasts, whatever its count (bounded by the phase's duration): a
    /// fresh .NET server promotes hot methods to optimized code only after ~100 ms without new
    /// tier-0 activity. Default 0.
    /// </summary>
    public TimeSpan WarmupMinDuration { get; init; }

    /// <summary>
    /// Reads a count that grows while the JIT works, e.g. <c>() =&gt; JitInfo.GetCompiledMethodCount()</c> when the server
    /// runs in this process. When set, the warmup goes on past its count and <see cref="WarmupMinDuration"/> until the count
    /// has not moved for <see cref="WarmupQuietPeriod"/>, bounded by the phase's duration and by 20 s: a fresh
    /// .NET server recompiles its hot path (tier 0, instrumented, tier 1) for 1-8 s on a loaded machine, and a count-only
    /// warmup measured that. Default <c>null</c>: count and minimum duration only.
    /// </summary>
    public Func<long>? JitActivity { get; init; }

    /// <summary>How long <see cref="JitActivity"/> must stay still to end the warmup. Default 0.5 s.</summary>
    public TimeSpan WarmupQuietPeriod { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>
    /// Reads each side's CPU seconds at the two ends of the measured requests (not the warmup), to
    /// report the CPU each side spent per request. Default <c>null</c>: not measured.
    /// </summary>
    public CpuMeters? Cpu { get; init; }

    /// <summary>Keep every raw sample (exact percentiles).</summary>
    public bool KeepSamples { get; init; }

    /// <summary>
    /// Records into this recorder, which may already hold earlier samples (the result's statistics
    /// are then of all of them, its counts and seconds of this execution only): one figure taken
    /// over several connections in turn. Default <c>null</c>: a recorder of its own.
    /// </summary>
    public LatencyRecorder? Into { get; init; }

    /// <inheritdoc />
    protected override LatencyResult Run(CancellationToken cancellationToken)
    {
        // The warmup times and records each request as the measured loop does, into a recorder of
        // its own, so the recorder's code is compiled (and promoted) while warming, not measuring.
        var warmupRecorder = new LatencyRecorder(keepSamples: false);
        (double warmupSeconds, bool? settled, long warmupFailures) = new WarmupRule(_limits, WarmupMinDuration, JitActivity, WarmupQuietPeriod).Run(() =>
        {
            long t0 = Clock.Now;
            bool ok = _request();
            warmupRecorder.Record(Clock.Now - t0);
            return ok;
        }, cancellationToken);
        LatencyRecorder recorder = Into ?? new LatencyRecorder(KeepSamples);
        long countBefore = recorder.Count;
        long failuresBefore = recorder.Failures;
        long roundTripsBefore = RoundTrips?.Invoke() ?? 0;
        long? connectionsBefore = ConnectionsOpened?.Invoke();
        (double? Client, double? Server) cpuBefore = Cpu?.Read() ?? default;
        long start = Clock.Now;
        string? firstError = MeasureRequests(recorder, start, cancellationToken);
        double seconds = Clock.SecondsSince(start);
        (double? Client, double? Server) cpuAfter = Cpu?.Read() ?? default;
        long successes = recorder.Count - countBefore;
        long failures = recorder.Failures - failuresBefore;
        long requests = successes + failures;
        double? roundTrips = RoundTrips is null || requests == 0 ? null : (double)(RoundTrips() - roundTripsBefore) / requests;
        double? connections = connectionsBefore is long before && ConnectionsOpened?.Invoke() is long after && requests > 0 ? (double)(after - before) / requests : null;

        return new LatencyResult
        {
            Name = Name,
            Operation = Operation,
            Latency = recorder.ToStatistics(),
            Successes = successes,
            Failures = failures,
            Seconds = seconds,
            RoundTripsPerRequest = roundTrips,
            ConnectionsPerRequest = connections,
            CpuPerRequest = CpuMeters.PerRequest(cpuBefore, cpuAfter, requests),
            SampleTicks = recorder.SampleTicks,
            FirstError = firstError,
            WarmupSeconds = warmupSeconds,
            WarmupSettled = settled,
            WarmupFailures = warmupFailures,
        };
    }

    // The measured loop, compiled optimized at once (AggressiveOptimization), as benchmark
    // harnesses compile theirs: a loop this long started at tier 0 is replaced mid-run by an
    // optimized copy (on-stack replacement), a compilation on this very thread during the
    // measurement, and what it inlines is compiled with it. It does not stop the tiered compiler's
    // background work on other methods: with --pin same-cpu, perf sched showed the client's
    // tiered-compilation thread running in 1-5 ms bursts during a first run's pings, and that
    // run's ping p99.9 was 1.3-2.4 ms in 3 of 9 runs with this change (2 of 6 without it); with
    // DOTNET_TieredPGO=0 in the client, 0.1-0.5 ms in 3 runs (issue 11, goal 4).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private string? MeasureRequests(LatencyRecorder recorder, long start, CancellationToken cancellationToken)
    {
        string? firstError = null;
        int consecutiveFailures = 0;
        for (int i = 0; !cancellationToken.IsCancellationRequested; i++)
        {
            long t0 = Clock.Now;
            if (!_limits.GoesOn(i, start, t0) || consecutiveFailures >= MaxConsecutiveFailures)
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
                consecutiveFailures = 0;
            }
            else
            {
                recorder.RecordFailure();
                consecutiveFailures++;
            }
        }
        return firstError;
    }
}
