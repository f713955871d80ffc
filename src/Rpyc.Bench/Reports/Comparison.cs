using System.Globalization;

namespace Rpyc.Bench;

/// <summary>Whether a figure got better, worse, or stayed within its uncertainty.</summary>
public enum Verdict
{
    /// <summary>Within the confidence intervals (they overlap) or within the noise band.</summary>
    Same,

    /// <summary>Better beyond the uncertainty: lower for times, higher for rates.</summary>
    Faster,

    /// <summary>Worse beyond the uncertainty: higher for times, lower for rates.</summary>
    Slower,
}

/// <summary>How a verdict was decided.</summary>
public enum VerdictBasis
{
    /// <summary>Both runs had <c>--runs</c> &gt; 1: the 95 % confidence intervals overlap (same) or not.</summary>
    ConfidenceIntervals,

    /// <summary>At least one run had a single run: the change against the stated noise band.</summary>
    NoiseBand,
}

/// <summary>One headline figure of one target in two reports.</summary>
/// <param name="Target">The target's name.</param>
/// <param name="Figure">The figure, e.g. <c>latency p50</c> or <c>upload 1 KiB</c>.</param>
/// <param name="Unit">The unit of <paramref name="Base"/> and <paramref name="New"/>, e.g. <c>µs</c>.</param>
/// <param name="HigherIsBetter">Whether a higher value is better (rates) or worse (times).</param>
/// <param name="Base">The baseline's value, in <paramref name="Unit"/>.</param>
/// <param name="New">The new run's value, in <paramref name="Unit"/>.</param>
/// <param name="BaseCi95">The baseline's 95 % confidence interval, in <paramref name="Unit"/>, when it has one.</param>
/// <param name="NewCi95">The new run's 95 % confidence interval, when it has one.</param>
/// <param name="Verdict">Faster, slower or the same.</param>
/// <param name="Basis">How the verdict was decided.</param>
public sealed record FigureComparison(
    string Target, string Figure, string Unit, bool HigherIsBetter, double Base, double New,
    Interval? BaseCi95, Interval? NewCi95, Verdict Verdict, VerdictBasis Basis)
{
    /// <summary>(new − base) / base × 100; positive means the value went up (worse for times, better for rates).</summary>
    public double ChangePercent => Base != 0 ? (New - Base) / Base * 100 : double.NaN;

    /// <summary>How much worse the figure got, in percent (0 when it got better or stayed).</summary>
    public double WorsePercent => double.IsFinite(ChangePercent) ? Math.Max(0, HigherIsBetter ? -ChangePercent : ChangePercent) : 0;
}

/// <summary>The comparison of two reports: every headline figure present in both.</summary>
/// <param name="Base">The baseline report.</param>
/// <param name="New">The new report.</param>
/// <param name="NoiseBandPercent">The noise band used when a figure has no confidence intervals, in percent.</param>
/// <param name="Figures">The figures, target by target in the new report's order.</param>
/// <param name="OnlyInBase">Targets only the baseline has.</param>
/// <param name="OnlyInNew">Targets only the new report has.</param>
public sealed record ReportComparison(
    BenchmarkReport Base, BenchmarkReport New, double NoiseBandPercent, IReadOnlyList<FigureComparison> Figures,
    IReadOnlyList<string> OnlyInBase, IReadOnlyList<string> OnlyInNew)
{
    /// <summary>The noise band used by default, in percent: wide enough for a quiet loopback machine run to run.</summary>
    public const double DefaultNoiseBandPercent = 10;

    /// <summary>
    /// Compares two reports: for every target in both, latency mean/p50/p99, the ping's ratio to the
    /// floor in the same time slices, connection time p50, each side's CPU per request, each bandwidth
    /// size in each direction, the concurrent throughput and its ratio to the floor's in the same slices. When both figures carry a 95 %
    /// confidence interval (both runs used <c>--runs</c> &gt; 1), overlapping intervals are
    /// <see cref="Verdict.Same"/>; otherwise a change within <paramref name="noiseBandPercent"/> is.
    /// </summary>
    /// <param name="baseline">The baseline report.</param>
    /// <param name="current">The new report.</param>
    /// <param name="noiseBandPercent">The noise band, in percent (0 or more).</param>
    /// <returns>The comparison.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The noise band is negative or not finite.</exception>
    public static ReportComparison Compare(BenchmarkReport baseline, BenchmarkReport current, double noiseBandPercent = DefaultNoiseBandPercent)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(current);
        if (!double.IsFinite(noiseBandPercent) || noiseBandPercent < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(noiseBandPercent), noiseBandPercent, "The noise band must be 0 % or more.");
        }
        var figures = new List<FigureComparison>();
        foreach (TargetReport n in current.Targets)
        {
            if (baseline.Targets.FirstOrDefault(t => t.Name == n.Name) is not { } b)
            {
                continue;
            }
            foreach (string figure in (string[])["mean", "p50", "p99"])
            {
                Add(figures, n.Name, $"latency {figure}", "µs", false, b.Latency?.Latency, n.Latency?.Latency, figure, 1e6, noiseBandPercent);
            }
            // The ratios to the floor measured in the same time slices: what drifts with the machine
            // between the two reports divides out of them, so they show a change of the code.
            if (Compared(b.Latency?.Floor?.Ratio, b.Latency?.Floor?.Failures) is double bp && Compared(n.Latency?.Floor?.Ratio, n.Latency?.Floor?.Failures) is double np)
            {
                figures.Add(Decide(n.Name, "ping ÷ floor", "x", false, bp, np, b.Latency!.Floor!.RatioCi95, n.Latency!.Floor!.RatioCi95, noiseBandPercent));
            }
            Add(figures, n.Name, "connect p50", "ms", false, b.Connection?.ConnectionTime, n.Connection?.ConnectionTime, "p50", 1e3, noiseBandPercent);
            foreach ((string side, Func<CpuPerRequest, double?> cpu, Func<CpuPerRequest, Interval?> ci) in
                (ValueTuple<string, Func<CpuPerRequest, double?>, Func<CpuPerRequest, Interval?>>[])
                [("client", c => c.Client, c => c.ClientCi95), ("server", c => c.Server, c => c.ServerCi95)])
            {
                if (b.Latency?.CpuPerRequest is { } bcpu && n.Latency?.CpuPerRequest is { } ncpu && cpu(bcpu) is double bu && cpu(ncpu) is double nu)
                {
                    figures.Add(Decide(n.Name, $"{side} CPU/req", "µs", false, bu * 1e6, nu * 1e6, Scale(ci(bcpu), 1e6), Scale(ci(ncpu), 1e6), noiseBandPercent));
                }
            }
            foreach ((string direction, IReadOnlyList<BandwidthSizeResult>? bs, IReadOnlyList<BandwidthSizeResult>? ns) in
                (ValueTuple<string, IReadOnlyList<BandwidthSizeResult>?, IReadOnlyList<BandwidthSizeResult>?>[])
                [("upload", b.Bandwidth?.Upload, n.Bandwidth?.Upload), ("download", b.Bandwidth?.Download, n.Bandwidth?.Download)])
            {
                foreach (BandwidthSizeResult ns1 in ns ?? [])
                {
                    if (bs?.FirstOrDefault(s => s.SizeBytes == ns1.SizeBytes) is { } bs1 && bs1.Transfers > 0 && ns1.Transfers > 0)
                    {
                        figures.Add(Decide(n.Name, $"{direction} {SummaryTables.SizeLabel(ns1.SizeBytes)}", "MiB/s", true,
                            bs1.BytesPerSecond / Mib, ns1.BytesPerSecond / Mib, Scale(bs1.BytesPerSecondCi95, 1 / Mib), Scale(ns1.BytesPerSecondCi95, 1 / Mib), noiseBandPercent));
                    }
                }
            }
            if (b.Concurrent is { Successes: > 0 } bc && n.Concurrent is { Successes: > 0 } nc)
            {
                figures.Add(Decide(n.Name, "concurrent", "req/s", true, bc.Throughput, nc.Throughput, bc.ThroughputCi95, nc.ThroughputCi95, noiseBandPercent));
            }
            if (Compared(b.Concurrent?.Floor?.Ratio, b.Concurrent?.Floor?.Failures) is double bk && Compared(n.Concurrent?.Floor?.Ratio, n.Concurrent?.Floor?.Failures) is double nk)
            {
                figures.Add(Decide(n.Name, "conc ÷ floor", "x", true, bk, nk, b.Concurrent!.Floor!.RatioCi95, n.Concurrent!.Floor!.RatioCi95, noiseBandPercent));
            }
            if (b.Distributed is { Requests: > 0 } bd && n.Distributed is { Requests: > 0 } nd)
            {
                figures.Add(Decide(n.Name, "distributed", "req/s", true, bd.Throughput, nd.Throughput, null, null, noiseBandPercent));
                foreach (string figure in (string[])["p50", "p99"])
                {
                    Add(figures, n.Name, $"distributed {figure}", "µs", false, bd.Latency, nd.Latency, figure, 1e6, noiseBandPercent);
                }
            }
        }
        // A target that failed has few figures or none: without these lists it would drop out of
        // the comparison unnoticed, and a target that stopped working is the largest regression.
        TargetReport[] inBoth = current.Targets.Where(n => baseline.Targets.Any(b => b.Name == n.Name)).ToArray();
        bool FailedInBase(TargetReport n) => baseline.Targets.First(b => b.Name == n.Name).Status == TargetStatus.Failed;
        return new ReportComparison(baseline, current, noiseBandPercent, figures,
            baseline.Targets.Select(t => t.Name).Except(current.Targets.Select(t => t.Name)).ToArray(),
            current.Targets.Select(t => t.Name).Except(baseline.Targets.Select(t => t.Name)).ToArray())
        {
            NewlyFailed = inBoth.Where(n => n.Status == TargetStatus.Failed && !FailedInBase(n)).ToArray(),
            FailedInBoth = inBoth.Where(n => n.Status == TargetStatus.Failed && FailedInBase(n)).Select(n => n.Name).ToArray(),
        };
    }

    /// <summary>Targets in both reports that failed in the new one but not in the baseline (their error in <see cref="TargetReport.Error"/>).</summary>
    public IReadOnlyList<TargetReport> NewlyFailed { get; init; } = [];

    /// <summary>Targets in both reports that failed in both.</summary>
    public IReadOnlyList<string> FailedInBoth { get; init; } = [];

    /// <summary>The figures with a <see cref="Verdict.Slower"/> verdict that got worse by more than <paramref name="thresholdPercent"/>.</summary>
    /// <param name="thresholdPercent">The largest tolerated worsening, in percent.</param>
    /// <returns>The regressions, worst first.</returns>
    public IReadOnlyList<FigureComparison> Regressions(double thresholdPercent) =>
        Figures.Where(f => f.Verdict == Verdict.Slower && f.WorsePercent > thresholdPercent).OrderByDescending(f => f.WorsePercent).ToArray();

    /// <summary>Whether the new report fails a <c>--threshold</c>: a figure slower by more than it, or a target that newly failed.</summary>
    /// <param name="thresholdPercent">The largest tolerated worsening, in percent.</param>
    /// <returns><c>true</c> when the new report regressed.</returns>
    public bool Regressed(double thresholdPercent) => NewlyFailed.Count > 0 || Regressions(thresholdPercent).Count > 0;

    private const double Mib = 1024 * 1024;

    private static void Add(List<FigureComparison> figures, string target, string figure, string unit, bool higherIsBetter,
        Statistics? b, Statistics? n, string name, double scale, double noise)
    {
        if (b is null || n is null || b.Count == 0 || n.Count == 0)
        {
            return;
        }
        double bv = b.Figure(name) * scale, nv = n.Figure(name) * scale;
        if (!double.IsFinite(bv) || !double.IsFinite(nv))
        {
            return;
        }
        figures.Add(Decide(target, figure, unit, higherIsBetter, bv, nv, Scale(Ci(b, name), scale), Scale(Ci(n, name), scale), noise));
    }

    // A pairing's ratio, when it has one to compare (a pairing with failures is reported, not compared).
    private static double? Compared(double? ratio, long? failures) => ratio is double r && double.IsFinite(r) && failures == 0 ? r : null;

    private static Interval? Ci(Statistics s, string name) => s.Ci95 is { } ci && ci.TryGetValue(name, out Interval i) ? i : null;

    private static Interval? Scale(Interval? i, double scale) => i is { } v ? new Interval(v.Low * scale, v.High * scale) : null;

    private static FigureComparison Decide(string target, string figure, string unit, bool higherIsBetter, double b, double n, Interval? bci, Interval? nci, double noise)
    {
        Verdict verdict;
        VerdictBasis basis;
        bool up = n > b;
        if (bci is { } bi && nci is { } ni && double.IsFinite(bi.Low) && double.IsFinite(ni.Low))
        {
            basis = VerdictBasis.ConfidenceIntervals;
            verdict = bi.Overlaps(ni) ? Verdict.Same : up == higherIsBetter ? Verdict.Faster : Verdict.Slower;
        }
        else
        {
            basis = VerdictBasis.NoiseBand;
            double change = b != 0 ? Math.Abs(n - b) / Math.Abs(b) * 100 : (n == b ? 0 : double.PositiveInfinity);
            verdict = change <= noise ? Verdict.Same : up == higherIsBetter ? Verdict.Faster : Verdict.Slower;
        }
        return new FigureComparison(target, figure, unit, higherIsBetter, b, n, bci, nci, verdict, basis);
    }

    /// <summary>Formats a percentage such as <c>+12.5%</c>; whole percents from 100 %, so the text stays at most 7 characters.</summary>
    /// <param name="percent">The value.</param>
    /// <returns>The text, or <c>-</c> when not finite.</returns>
    public static string Percent(double percent) =>
        !double.IsFinite(percent) ? "-"
        : Math.Abs(percent) >= 9_999.5 ? (percent > 0 ? ">+9999%" : "<-9999%")
        : percent.ToString(Math.Abs(percent) >= 99.95 ? "+0;-0;0" : "+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + "%";
}
