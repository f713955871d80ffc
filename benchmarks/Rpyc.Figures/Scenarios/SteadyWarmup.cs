using System.Diagnostics;

namespace Rpyc.Figures.Scenarios;

/// <summary>How long a warmup may and must last: it ends once the JIT has been quiet for <see cref="Settle"/>, after <see cref="Min"/> and before <see cref="Max"/>.</summary>
internal sealed record WarmupSettings(TimeSpan Min, TimeSpan Settle, TimeSpan Max);

/// <summary>
/// What a warmup took; <see cref="Settled"/> is false when it stopped at the max with the JIT still busy. <see cref="Calls"/>:
/// the calls of one figure (from <see cref="SteadyWarmup.Run"/>: the fewest any contender made).
/// </summary>
internal sealed record WarmupOutcome(double Seconds, bool Settled, long Calls);

/// <summary>
/// Warmup until steady state: at least <see cref="MinCalls"/> calls of every contender and the minimum time, then on
/// until no JIT activity (see <see cref="JitActivity"/>) was seen for the settle window, bounded by the max.
/// A count alone (1000 calls, ~50 ms) left the server's hot path in tier-0 and instrumented code for the measurement.
/// </summary>
internal sealed class SteadyWarmup(int minCalls, WarmupSettings settings, int serverPid, TextWriter log)
{
    /// <summary>The slice of one batch: short, so every contender runs in every settle window.</summary>
    public static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(10);

    public int MinCalls => minCalls;

    public WarmupSettings Settings => settings;

    /// <summary>
    /// Runs the batches round-robin (one per contender, each returning how many calls it made) until every contender
    /// made the count, the minimum time passed, and the JIT stayed quiet for the settle window and at least one whole
    /// round: so the contender warmed last cannot leave the first on code that was replaced meanwhile.
    /// Logs one line saying how long it took and whether it settled.
    /// </summary>
    public WarmupOutcome Run(string what, IReadOnlyList<Func<int>> batches)
    {
        var activity = new JitActivity(serverPid);
        long start = Stopwatch.GetTimestamp();
        long lastActive = start;
        long[] calls = new long[batches.Count];
        while (true)
        {
            long roundStart = Stopwatch.GetTimestamp();
            for (int i = 0; i < batches.Count; i++)
            {
                calls[i] += batches[i]();
            }
            long now = Stopwatch.GetTimestamp();
            if (activity.Poll())
            {
                lastActive = now;
            }
            bool countMade = calls.All(c => c >= minCalls);
            TimeSpan elapsed = Stopwatch.GetElapsedTime(start, now);
            bool quiet = lastActive <= roundStart && Stopwatch.GetElapsedTime(lastActive, now) >= settings.Settle;
            if (countMade && ((quiet && elapsed >= settings.Min) || elapsed >= settings.Max))
            {
                var outcome = new WarmupOutcome(elapsed.TotalSeconds, quiet, calls.Min());
                log.WriteLine(FormattableString.Invariant($"    warmup {what}: {outcome.Seconds:0.0} s, {outcome.Calls} calls{(batches.Count > 1 ? " each" : "")}, ")
                    + (quiet
                        ? FormattableString.Invariant($"settled (JIT quiet for {settings.Settle.TotalSeconds:0.0#} s)")
                        : FormattableString.Invariant($"NOT SETTLED: the JIT was still compiling at the {settings.Max.TotalSeconds:0.#} s max")));
                log.Flush();
                return outcome;
            }
        }
    }

    /// <summary>A batch that repeats <paramref name="call"/> for one <see cref="Slice"/> (at least once).</summary>
    public static Func<int> For(Action call) => () =>
    {
        long end = Stopwatch.GetTimestamp() + (long)(Slice.TotalSeconds * Stopwatch.Frequency);
        int n = 0;
        do
        {
            call();
            n++;
        }
        while (Stopwatch.GetTimestamp() < end);
        return n;
    };
}
