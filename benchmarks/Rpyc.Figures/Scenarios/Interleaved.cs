using System.Diagnostics;
using System.Net.Sockets;
using Rpyc.Figures.Reports;
using Rpyc.Figures.Statistics;

namespace Rpyc.Figures.Scenarios;

/// <summary>
/// One figure's call on an open connection: timed by <see cref="Interleaved"/>, its result validated after
/// the clock stopped. Failures count calls that raised or returned a wrong result.
/// </summary>
internal sealed class Contender(Func<object?> call, Func<object?, bool> isValid, bool measureAllocations = false)
{
    private readonly List<long> _ticks = [];

    public int Failures { get; private set; }

    public long AllocatedBytes { get; private set; }

    public int Calls => _ticks.Count;

    public LatencyStats Stats => LatencyStats.FromTicks(_ticks.ToArray());

    public double AllocatedPerCall => measureAllocations && _ticks.Count > 0 ? (double)AllocatedBytes / _ticks.Count : double.NaN;

    /// <summary>Adds a failure found after the measurement (a final content check).</summary>
    public void AddFailure() => Failures++;

    /// <summary>How this contender's warmup went (shared by the contenders warmed together).</summary>
    public WarmupOutcome? Warmup { get; set; }

    /// <summary>One warmup batch (<see cref="SteadyWarmup.Slice"/>); returns the calls made.</summary>
    public int WarmBatch()
    {
        int n = SteadyWarmup.For(() => Failures += TryCall(out object? result) && isValid(result) ? 0 : 1)();
        WarmCalls += n;
        return n;
    }

    public long WarmCalls { get; private set; }

    public void Measure(int count)
    {
        long allocated = measureAllocations ? GC.GetAllocatedBytesForCurrentThread() : 0;
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            bool ok = TryCall(out object? result);
            _ticks.Add(Stopwatch.GetTimestamp() - start);
            // Checked after the clock stopped: comparing 1 MiB is not part of the call.
            Failures += ok && isValid(result) ? 0 : 1;
        }
        if (measureAllocations)
        {
            AllocatedBytes += GC.GetAllocatedBytesForCurrentThread() - allocated;
        }
    }

    private bool TryCall(out object? result)
    {
        try
        {
            result = call();
            return true;
        }
        catch (Exception ex) when (ex is RpycException or SocketException or IOException)
        {
            result = null;
            return false;
        }
    }

    public ScenarioResult Latency(string key, string title, string note) =>
        ScenarioResult.Latency(key, title, Stats, Failures, measureAllocations ? AllocatedPerCall : null, note).WithWarmup(Warmup);

    public ScenarioResult Transfer(string key, string title, long payloadBytes, long up, long down, string note) =>
        ScenarioResult.Throughput(key, title, Stats, Failures, payloadBytes, up, down, measureAllocations ? AllocatedPerCall : null, note).WithWarmup(Warmup);
}

/// <summary>
/// Figures measured beside their references in the same run: the contenders warm up together, in turns, until
/// steady (see <see cref="SteadyWarmup"/>); then in each of <c>rounds</c> rounds each makes its share of the calls
/// in turn, so a change in the machine's load over the run touches the figure and its reference alike.
/// </summary>
internal static class Interleaved
{
    /// <param name="what">Names the contenders in the warmup's log line.</param>
    public static WarmupOutcome Run(IReadOnlyList<Contender> contenders, SteadyWarmup warmup, string what, int calls, int rounds)
    {
        WarmupOutcome warmed = warmup.Run(what, contenders.Select(c => (Func<int>)c.WarmBatch).ToArray());
        foreach (Contender c in contenders)
        {
            c.Warmup = warmed with { Calls = c.WarmCalls };
        }
        for (int r = 0; r < rounds; r++)
        {
            int share = calls / rounds + (r < calls % rounds ? 1 : 0);
            foreach (Contender c in contenders)
            {
                c.Measure(share);
            }
        }
        return warmed;
    }
}
