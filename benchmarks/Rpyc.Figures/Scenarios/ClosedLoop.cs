using System.Diagnostics;
using Rpyc.Figures.Statistics;

namespace Rpyc.Figures.Scenarios;

/// <summary>
/// What a closed-loop measurement saw, over all its threads: the per-call samples are Stopwatch ticks.
/// <paramref name="Warmup"/>: how the warmup before it went.
/// </summary>
internal sealed record ClosedLoopResult(long Calls, int Failures, double Seconds, long[] Samples, WarmupOutcome? Warmup = null)
{
    public LatencyStats PerCall => LatencyStats.FromTicks(Samples);

    /// <summary>Several measured phases of the same connections as one: calls, failures and time add up.</summary>
    public static ClosedLoopResult Merge(IReadOnlyList<ClosedLoopResult> parts) =>
        new(parts.Sum(p => p.Calls), parts.Sum(p => p.Failures), parts.Sum(p => p.Seconds), parts.SelectMany(p => p.Samples).ToArray(), parts[0].Warmup);
}

/// <summary>
/// Several threads, each with its own connection, calling back to back: every thread warms up, all
/// start together at a barrier, and each stops at the same deadline. The rate is the measured calls
/// over the time from the barrier to the last thread's last reply.
/// </summary>
internal static class ClosedLoop
{
    // One warmup batch of a loop: long enough that starting its threads is noise, short enough for the settle window.
    private static readonly TimeSpan s_warmSlice = TimeSpan.FromMilliseconds(100);

    /// <param name="calls">One call per connection; returns whether the reply was right (and never throws).</param>
    /// <param name="warmup">Untimed calls before the measured phase: its count per thread, then until the JIT is quiet.</param>
    /// <param name="what">Names the loop in the warmup's log line.</param>
    /// <param name="duration">The measured phase.</param>
    public static ClosedLoopResult Run(IReadOnlyList<Func<bool>> calls, SteadyWarmup warmup, string what, TimeSpan duration) =>
        Interleave([calls], warmup, what, duration, 1)[0];

    /// <summary>
    /// Several closed loops measured in turn, <paramref name="rounds"/> times (each loop gets <paramref name="total"/> /
    /// <paramref name="rounds"/> per round), so a change in the machine's load touches every one alike. Before that, the
    /// loops warm up in turns, in short closed-loop slices, until steady (see <see cref="SteadyWarmup"/>); warmup failures count.
    /// </summary>
    public static ClosedLoopResult[] Interleave(IReadOnlyList<IReadOnlyList<Func<bool>>> loops, SteadyWarmup warmup, string what, TimeSpan total, int rounds)
    {
        int[] warmFailures = new int[loops.Count];
        long[] warmCalls = new long[loops.Count];
        bool[] counted = new bool[loops.Count];
        var batches = loops.Select((loop, l) => (Func<int>)(() =>
        {
            // The first slice makes the count on every thread; each slice reports calls per connection.
            int count = counted[l] ? 0 : warmup.MinCalls;
            counted[l] = true;
            ClosedLoopResult r = RunOnce(loop, count, s_warmSlice);
            warmFailures[l] += r.Failures;
            warmCalls[l] += (long)count * loop.Count + r.Calls;
            return count + (int)(r.Calls / loop.Count);
        })).ToArray();
        WarmupOutcome warmed = warmup.Run(what, batches);
        var parts = loops.Select(_ => new List<ClosedLoopResult>()).ToArray();
        TimeSpan slice = total / rounds;
        for (int r = 0; r < rounds; r++)
        {
            for (int l = 0; l < loops.Count; l++)
            {
                parts[l].Add(RunOnce(loops[l], 0, slice));
            }
        }
        return parts.Select((p, l) =>
        {
            ClosedLoopResult merged = ClosedLoopResult.Merge(p);
            return merged with { Failures = merged.Failures + warmFailures[l], Warmup = warmed with { Calls = warmCalls[l] } };
        }).ToArray();
    }

    private static ClosedLoopResult RunOnce(IReadOnlyList<Func<bool>> calls, int warmup, TimeSpan duration)
    {
        int n = calls.Count;
        long durationTicks = (long)(duration.TotalSeconds * Stopwatch.Frequency);
        long start = 0;
        long deadline = 0;
        // The post-phase action runs once, after every thread arrived and before any is released.
        using var barrier = new Barrier(n, _ =>
        {
            start = Stopwatch.GetTimestamp();
            deadline = start + durationTicks;
        });
        var samples = new List<long>[n];
        int[] failures = new int[n];
        long[] ends = new long[n];
        var threads = new Thread[n];
        for (int t = 0; t < n; t++)
        {
            int index = t;
            threads[t] = new Thread(() =>
            {
                Func<bool> call = calls[index];
                int failed = 0;
                for (int i = 0; i < warmup; i++)
                {
                    failed += call() ? 0 : 1;
                }
                var mine = new List<long>(capacity: 1 << 16);
                barrier.SignalAndWait();
                long stop = deadline;
                long now = Stopwatch.GetTimestamp();
                while (now < stop)
                {
                    bool ok = call();
                    long after = Stopwatch.GetTimestamp();
                    mine.Add(after - now);
                    failed += ok ? 0 : 1;
                    now = after;
                }
                samples[index] = mine;
                failures[index] = failed;
                ends[index] = now;
            })
            { IsBackground = true, Name = $"closed-loop-{index}" };
        }
        foreach (Thread thread in threads)
        {
            thread.Start();
        }
        TimeSpan limit = duration + TimeSpan.FromSeconds(120);
        foreach (Thread thread in threads)
        {
            if (!thread.Join(limit))
            {
                throw new InvalidOperationException($"A closed-loop thread did not finish within {limit.TotalSeconds:0} s.");
            }
        }
        long[] all = samples.SelectMany(s => s).ToArray();
        double seconds = (ends.Max() - start) / (double)Stopwatch.Frequency;
        return new ClosedLoopResult(all.Length, failures.Sum(), seconds, all);
    }
}
