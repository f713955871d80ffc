using System.Diagnostics;

namespace Rpyc.Bench.Tests;

public class LatencyWarmupTests
{
    private static LatencyResult Run(Func<long>? jitActivity, TimeSpan phase, TimeSpan quiet, int warmup = 1) =>
        new LatencyBenchmark("warmup", () => true, new RunLimits(5, phase, warmup))
        {
            JitActivity = jitActivity,
            WarmupQuietPeriod = quiet,
        }.Execute();

    [Fact]
    public void Warmup_JitNeverQuiet_StopsAtPhaseDurationUnsettled()
    {
        long counter = 0;
        LatencyResult result = Run(() => ++counter, TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(50));
        Assert.False(result.WarmupSettled);
        Assert.InRange(result.WarmupSeconds ?? -1, 0.3, 10);
        Assert.Equal(5, result.Successes);
    }

    [Fact]
    public void Warmup_JitAlwaysQuiet_EndsAfterQuietPeriodSettled()
    {
        LatencyResult result = Run(() => 42, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(50));
        Assert.True(result.WarmupSettled);
        Assert.InRange(result.WarmupSeconds ?? -1, 0.05, 10);
    }

    [Fact]
    public void Warmup_JitBusyThenQuiet_WaitsForQuietPeriodAfterLastActivity()
    {
        Stopwatch? clock = null;
        long counter = 0;
        // Compiles for the first 200 ms of the warmup (from its first look), then never again.
        LatencyResult result = Run(() => (clock ??= Stopwatch.StartNew()).ElapsedMilliseconds < 200 ? ++counter : counter,
            TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        Assert.True(result.WarmupSettled);
        // 200 ms busy + 100 ms quiet; a warmup that ignored the busy part would take 0.1 s. The
        // slack below 0.3 s: the last change seen may be one seen before 200 ms when the thread was
        // preempted across that moment (277 ms seen on a loaded machine).
        Assert.InRange(result.WarmupSeconds ?? -1, 0.2, 10);
    }

    [Fact]
    public void Warmup_NoJitProbe_CountOnlyAndSettledUnknown()
    {
        int calls = 0;
        LatencyResult result = new LatencyBenchmark("warmup", () => ++calls > 0, new RunLimits(5, TimeSpan.FromSeconds(30), 7)).Execute();
        Assert.Null(result.WarmupSettled);
        Assert.Equal(12, calls);
    }

    [Fact]
    public void Warmup_InfinitePhase_StillWarmsItsCount()
    {
        int calls = 0;
        LatencyResult result = new LatencyBenchmark("warmup", () => ++calls > 0, new RunLimits(5, Timeout.InfiniteTimeSpan, 7)).Execute();
        Assert.Equal(12, calls);
        Assert.Equal(5, result.Successes);
    }

    [Fact]
    public void Execute_EveryRequestFails_StopsAfterTheConsecutiveFailureLimit()
    {
        int calls = 0;
        LatencyResult result = new LatencyBenchmark("dead", () => ++calls < 0 ? true : throw new IOException("gone"), new RunLimits(1_000_000, TimeSpan.FromSeconds(30), 5)).Execute();

        Assert.Equal(0, result.Successes);
        Assert.Equal(LatencyBenchmark.MaxConsecutiveFailures, result.Failures);
        Assert.Equal(5, result.WarmupFailures);
        Assert.Contains("gone", result.FirstError, StringComparison.Ordinal);
        Assert.Equal(LatencyBenchmark.MaxConsecutiveFailures + 5, calls);
    }

    [Fact]
    public void Execute_FailuresBetweenSuccesses_DoNotEndThePhase()
    {
        int calls = 0;
        // Every other request fails: never 100 in a row, so all 400 are made.
        LatencyResult result = new LatencyBenchmark("flaky", () => ++calls % 2 == 0, new RunLimits(400, TimeSpan.FromSeconds(30), 0)).Execute();

        Assert.Equal(400, result.Successes + result.Failures);
        Assert.Equal(200, result.Failures);
    }
}
