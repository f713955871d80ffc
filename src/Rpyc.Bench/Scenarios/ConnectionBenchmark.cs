using System.Runtime.CompilerServices;

namespace Rpyc.Bench;

/// <summary>
/// Connection time with the same definition for every protocol: from the start of a new TCP
/// connect to the first validated reply (a <c>ping</c>); the TCP connect part is reported apart.
/// Each connection is closed before the next opens (closing is not timed).
/// </summary>
/// <param name="name">Its name in reports.</param>
/// <param name="target">The server.</param>
/// <param name="limits">Connections and duration; default 100 connections, 60 s, 5 warmup.</param>
public sealed class ConnectionBenchmark(string name, BenchTarget target, RunLimits? limits = null)
    : BenchmarkBase<ConnectionResult>(name)
{
    private readonly RunLimits _limits = limits ?? new RunLimits(100, TimeSpan.FromSeconds(60), 5);

    /// <summary>Keep every raw sample (exact percentiles).</summary>
    public bool KeepSamples { get; init; }

    /// <summary>The least time the warmup connections last, whatever their count; as <see cref="LatencyBenchmark.WarmupMinDuration"/>. Default 0.</summary>
    public TimeSpan WarmupMinDuration { get; init; }

    /// <summary>
    /// As <see cref="LatencyBenchmark.JitActivity"/>: when set, warmup connections go on until the
    /// JIT has been still for <see cref="WarmupQuietPeriod"/>. A connection runs code no ping does
    /// (accept, the connection's set-up and teardown), which a fresh server compiles first.
    /// </summary>
    public Func<long>? JitActivity { get; init; }

    /// <summary>How long <see cref="JitActivity"/> must stay still to end the warmup. Default 0.5 s.</summary>
    public TimeSpan WarmupQuietPeriod { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>The most time the warmup takes, if less than the phase's bound and 20 s; default <c>null</c>.</summary>
    public TimeSpan? WarmupMaxDuration { get; init; }

    /// <inheritdoc />
    // Optimized at once, as LatencyBenchmark's measured loop: no on-stack replacement mid-phase.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    protected override ConnectionResult Run(CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        (double warmupSeconds, bool? settled, long warmupFailures) = new WarmupRule(_limits, WarmupMinDuration, JitActivity, WarmupQuietPeriod) { MaxDuration = WarmupMaxDuration }.Run(() =>
        {
            using BenchClient client = target.Connect();
            client.Ping();
            return true;
        }, cancellationToken);
        var total = new LatencyRecorder(KeepSamples);
        var tcp = new LatencyRecorder(KeepSamples);
        string? firstError = null;
        long roundTrips = 0;
        long start = Clock.Now;
        for (int i = 0; !cancellationToken.IsCancellationRequested && _limits.GoesOn(i, start, Clock.Now); i++)
        {
            BenchClient? client = null;
            try
            {
                long t0 = Clock.Now;
                client = target.Connect();
                long t1 = Clock.Now;
                client.Ping();
                long t2 = Clock.Now;
                tcp.Record(t1 - t0);
                total.Record(t2 - t0);
                roundTrips += client.RoundTrips;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                total.RecordFailure();
                firstError ??= Describe(ex);
            }
            finally
            {
                client?.Dispose();
            }
        }
        return new ConnectionResult
        {
            Name = Name,
            ConnectionTime = total.ToStatistics(),
            TcpConnect = tcp.ToStatistics(),
            Successes = total.Count,
            Failures = total.Failures,
            RoundTripsPerConnection = total.Count > 0 ? (double)roundTrips / total.Count : null,
            Seconds = Clock.SecondsSince(start),
            FirstError = firstError,
            WarmupSeconds = warmupSeconds,
            WarmupSettled = settled,
            WarmupFailures = warmupFailures,
        };
    }
}
