using System.Globalization;

namespace Rpyc.Bench;

/// <summary>
/// The console form of a network sweep, as <see cref="SummaryTables"/> builds it: the time per
/// operation of every target and series at each RTT, and the crossovers, the same figures the chart draws.
/// </summary>
public static class NetworkSweepTables
{
    /// <summary>Builds the sweep's tables.</summary>
    /// <param name="sweep">The sweep.</param>
    /// <returns>The times table and, when a crossover was looked for, the crossover table.</returns>
    public static IReadOnlyList<SummaryTable> Build(NetworkSweepReport sweep)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        string[] keys = sweep.Points.Select(p => p.Key == "0" ? "0 (loopback)" : p.Key).ToArray();
        var rows = new List<IReadOnlyList<string>>();
        foreach ((string target, string key) in sweep.Series())
        {
            double? roundTrips = key == NetworkSweep.PingKey ? sweep.Points.SelectMany(p => p.Targets).FirstOrDefault(t => t.Target == target && t.PingRoundTrips is not null)?.PingRoundTrips
                : sweep.Points.SelectMany(p => p.Targets).Where(t => t.Target == target).SelectMany(t => t.Scenarios).FirstOrDefault(s => s.Key == key)?.RoundTripsPerOp;
            string label = $"{target} {key}{(roundTrips is double n ? $" ×{n.ToString("0", CultureInfo.InvariantCulture)}" : "")}";
            rows.Add([label, .. sweep.Points.Select(p => Cell(p, target, key))]);
        }
        var tables = new List<SummaryTable>
        {
            new($"Network sweep: p50 per operation (× round trips) by added RTT; model from the 0 point in brackets, ! past {NetworkModel.DeviationFactor.ToString("0", CultureInfo.InvariantCulture)}x", ["target / series", .. keys], rows),
        };
        IReadOnlyList<NetworkSweepCrossover> crossovers = sweep.Crossovers();
        if (crossovers.Count > 0)
        {
            tables.Add(new SummaryTable(
                $"Crossover: the RTT where the RPyC style takes {NetworkSweep.CrossoverFactor.ToString("0", CultureInfo.InvariantCulture)}x REST's time (ratio RPyC / REST by RTT)",
                ["rpyc variant / rest", "crossover", .. keys],
                crossovers.Select(c => (IReadOnlyList<string>)[$"{c.RpycTarget} {c.RpycKey} / {c.RestTarget} {c.Scenario}", Crossover(c, sweep), .. c.Ratios.Select(r => r is double v ? v.ToString("0.00", CultureInfo.InvariantCulture) : "-")]).ToArray()));
        }
        return tables;
    }

    /// <summary>Notes on a sweep: targets left out, and the crossover's definition.</summary>
    /// <param name="sweep">The sweep.</param>
    /// <returns>One sentence per note.</returns>
    public static IReadOnlyList<string> Notes(NetworkSweepReport sweep)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        var notes = sweep.Skipped.Select(kv => $"{kv.Key}: not swept: {kv.Value}.").ToList();
        notes.AddRange(sweep.Points.SelectMany(p => p.Targets.Where(t => t.Error is not null).Select(t => $"{t.Target} at RTT {p.Key}: {t.Error}")));
        foreach (NetworkSweepCrossover c in sweep.Crossovers().Where(c => c.Across.Count > 0))
        {
            (int below, int above) = c.Between!.Value;
            string across = string.Join(" and ", Gaps(c, sweep).Select(g => g.Failed.Count > 0 ? $"{g.Key}, where {string.Join(" and ", g.Failed)} failed" : $"{g.Key}, not measured"));
            notes.Add($"{c.RpycTarget} {c.RpycKey} / {c.RestTarget} {c.Scenario}: the crossover ({Time(c.RoundTripSeconds!.Value)}) is interpolated across {across}: "
                + $"only {sweep.Points[below].Key} and {sweep.Points[above].Key} have both times around it, so it lies anywhere between them.");
        }
        notes.Add($"Network sweep: only the ping and the scenarios are swept (every other figure is the first point's); each variant's warmup, measured phase and bytes sample take at most {sweep.SecondsPerVariant.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s per point, at least one operation. Crossover: {NetworkSweep.CrossoverDefinition}.");
        return notes;
    }

    /// <summary>A time per operation: µs below 1 ms, ms below 10 s.</summary>
    /// <param name="seconds">Seconds.</param>
    /// <returns>The label.</returns>
    public static string Time(double seconds) =>
        seconds < 1e-3 ? $"{(seconds * 1e6).ToString("0", CultureInfo.InvariantCulture)} µs"
        : seconds < 0.1 ? $"{(seconds * 1e3).ToString("0.00", CultureInfo.InvariantCulture)} ms"
        : seconds < 10 ? $"{(seconds * 1e3).ToString("0", CultureInfo.InvariantCulture)} ms"
        : $"{seconds.ToString("0.0", CultureInfo.InvariantCulture)} s";

    /// <summary>The crossover's label: an RTT, <c>≤ first</c>, <c>> last</c> or <c>-</c>.</summary>
    /// <param name="c">The crossover.</param>
    /// <param name="sweep">Its sweep.</param>
    /// <returns>The label.</returns>
    public static string Crossover(NetworkSweepCrossover c, NetworkSweepReport sweep)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(sweep);
        return c.Kind switch
        {
            NetworkSweepCrossoverKind.Within when c.RoundTripSeconds is double r => (r == 0 ? "0" : Time(r)) + (c.Across.Count > 0 ? $" (across {string.Join(", ", Gaps(c, sweep).Select(g => $"{(g.Failed.Count > 0 ? "failed" : "unmeasured")} {g.Key}"))})" : ""),
            NetworkSweepCrossoverKind.AtOrBelowFirst => $"≤ {sweep.Points[MeasuredPoints(c).DefaultIfEmpty(0).First()].Key}",
            NetworkSweepCrossoverKind.Beyond => $"> {sweep.Points[MeasuredPoints(c).DefaultIfEmpty(sweep.Points.Count - 1).Last()].Key}",
            _ => "-",
        };
    }

    // The points where both targets have a time, as NetworkSweep.FindCrossover takes them: a
    // crossover already past the factor, or never reached, is so at the first or last of these, not
    // at a sweep end where one of the two failed or was not measured.
    internal static int[] MeasuredPoints(NetworkSweepCrossover c) =>
        [.. c.Ratios.Select((r, i) => (r, i)).Where(p => p.r is double v && v > 0 && double.IsFinite(v)).Select(p => p.i)];

    // The points a crossover is interpolated across (NetworkSweepCrossover.Across), each with the
    // targets of the pair that failed there (none: not measured, e.g. the run was interrupted).
    // The crossover keeps its value: the two points around it were measured, and the ratio did reach
    // the factor between them, so dropping it would hide a finding and break the JSON's promise of an
    // rtt_seconds for every crossover "within". But it is no better than those two points, possibly a
    // decade apart (in NetworkSweepTests' sample, 0 and 10ms put it at 2.9 ms; with 1ms measured it
    // is 0.3 ms): a reader quoting the figure must see, in each report, which point it bridged and why.
    internal static IReadOnlyList<(string Key, IReadOnlyList<string> Failed)> Gaps(NetworkSweepCrossover c, NetworkSweepReport sweep)
    {
        (string Target, string Key)[] pair = [(c.RpycTarget, c.RpycKey), (c.RestTarget, c.Scenario)];
        return [.. c.Across.Select(i => (sweep.Points[i].Key, (IReadOnlyList<string>)pair
            .Where(s => sweep.Points[i].Targets.FirstOrDefault(t => t.Target == s.Target) is { Error: { } error } result && error != NetworkSweep.Interrupted && result.P50(s.Key) is null)
            .Select(s => s.Target).ToArray()))];
    }

    private static string Cell(NetworkSweepPoint point, string target, string key)
    {
        NetworkSweepTargetResult? t = point.Targets.FirstOrDefault(x => x.Target == target);
        if (t?.P50(key) is not double p50)
        {
            return t?.Error is not null ? "failed" : "-";
        }
        ScenarioResult? s = key == NetworkSweep.PingKey ? null : t.Scenarios.FirstOrDefault(x => x.Key == key);
        string model = s?.PredictedSeconds is double predicted ? $" ({Time(predicted)}{(s.BeyondModel ? " !" : "")})" : "";
        return Time(p50) + model;
    }
}
