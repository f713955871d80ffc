namespace Rpyc.Bench;

// The suite's one warmup rule, for every phase that warms (latency, connection; bandwidth through
// latency): at least Count requests and MinDuration, and with a JIT probe until the JIT has been
// quiet for QuietPeriod, bounded by the phase's duration and by 20 s (10 s without a probe). A
// fresh .NET server recompiles its hot paths (tier 0, instrumented, tier 1) for 1-8 s on a loaded
// machine, and a count-only warmup measured that: connect + first call p50 of the first of three
// interleaved runs was 1.5-2.5x that of the third, for Kestrel and the .NET RPyC server alike.
internal readonly record struct WarmupRule(RunLimits Limits, TimeSpan MinDuration, Func<long>? JitActivity, TimeSpan QuietPeriod)
{
    /// <summary>A tighter bound than the phase's and 20 s, or <c>null</c>.</summary>
    public TimeSpan? MaxDuration { get; init; }

    // Returns how long the warmup took, with a JIT probe whether the JIT went quiet before the
    // bound, and how many warmup requests failed (a server that fails while warming is reported).
    public (double Seconds, bool? Settled, long Failures) Run(Func<bool> request, CancellationToken cancellationToken)
    {
        // A phase without a duration (InfiniteTimeSpan) still bounds its warmup.
        double phaseSeconds = Limits.MaxDuration == Timeout.InfiniteTimeSpan ? double.PositiveInfinity : Limits.MaxDuration.TotalSeconds;
        double boundSeconds = JitActivity is null ? Math.Min(phaseSeconds, 10) : Math.Min(phaseSeconds, 20);
        boundSeconds = MaxDuration is TimeSpan bound ? Math.Min(boundSeconds, bound.TotalSeconds) : boundSeconds;
        long start = Clock.Now;
        long deadline = start + Clock.FromSeconds(boundSeconds);
        long minimum = start + Clock.FromSeconds(Math.Min(MinDuration.TotalSeconds, boundSeconds));
        long quietTicks = Clock.FromSeconds(QuietPeriod.TotalSeconds);
        long activity = JitActivity?.Invoke() ?? 0;
        long lastActive = start;
        bool quiet = JitActivity is null;
        long failures = 0;
        int consecutiveFailures = 0;
        for (int i = 0; !cancellationToken.IsCancellationRequested; i++)
        {
            long now = Clock.Now;
            if (JitActivity is not null)
            {
                long current = JitActivity();
                if (current != activity)
                {
                    activity = current;
                    lastActive = now;
                }
                quiet = now - lastActive >= quietTicks;
            }
            if ((i >= Limits.Warmup && now >= minimum && quiet) || now >= deadline)
            {
                break;
            }
            bool ok;
            try
            {
                ok = request();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                ok = false;
            }
            if (ok)
            {
                consecutiveFailures = 0;
            }
            else
            {
                failures++;
                if (++consecutiveFailures >= LatencyBenchmark.MaxConsecutiveFailures)
                {
                    break;
                }
            }
        }
        return (Clock.SecondsSince(start), JitActivity is null ? null : quiet, failures);
    }
}
