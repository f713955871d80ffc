using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Rpyc.Bench;

/// <summary>
/// Renders a <see cref="ReportComparison"/> as an 80-column text table (one block per target, so a
/// long target name is never cut), as Markdown (for a pull request) or as JSON (for tools). Pure
/// functions; numbers use the invariant culture.
/// </summary>
public static class ComparisonReporter
{
    /// <summary>The widest line <see cref="RenderText"/> writes.</summary>
    public const int TextWidth = 80;

    private static readonly int[] s_widths = [16, 5, 17, 17, 7, 7];

    /// <summary>Renders the comparison as plain text, no line wider than <see cref="TextWidth"/>.</summary>
    /// <param name="comparison">The comparison.</param>
    /// <param name="thresholdPercent">The <c>--threshold</c>, in percent, or <c>null</c>.</param>
    /// <returns>The text.</returns>
    public static string RenderText(ReportComparison comparison, double? thresholdPercent = null)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        var text = new StringBuilder();
        text.Append("base: ").Append(Describe(comparison.Base)).Append('\n');
        text.Append("new:  ").Append(Describe(comparison.New)).Append('\n');
        text.Append(Wrap(HowDecided(comparison), TextWidth)).Append('\n');
        if (BusyWarning(comparison) is { } busy)
        {
            text.Append(Wrap(busy, TextWidth)).Append('\n');
        }
        if (SpeedWarning(comparison) is { } speed)
        {
            text.Append(Wrap(speed, TextWidth)).Append('\n');
        }
        foreach (IGrouping<string, FigureComparison> target in comparison.Figures.GroupBy(f => f.Target))
        {
            text.Append('\n').Append(target.Key).Append('\n');
            if (SlowCpuNote(comparison, target.Key) is { } slow)
            {
                text.Append(Wrap(slow, TextWidth)).Append('\n');
            }
            Line(text, ["figure", "unit", "base", "new", "change", "verdict"]);
            Line(text, s_widths.Select(w => new string('-', w)).ToArray());
            foreach (FigureComparison f in target)
            {
                Line(text, [f.Figure, f.Unit, Value(f.Base, f.BaseCi95), Value(f.New, f.NewCi95), ReportComparison.Percent(f.ChangePercent), Name(f.Verdict)]);
            }
        }
        if (comparison.Figures.Count == 0)
        {
            text.Append("\nNo figure is present in both reports.\n");
        }
        Others(text, comparison, static s => s);
        text.Append('\n').Append(Wrap(Summary(comparison, thresholdPercent), TextWidth)).Append('\n');
        return text.ToString();
    }

    /// <summary>Renders the comparison as a Markdown section.</summary>
    /// <param name="comparison">The comparison.</param>
    /// <param name="thresholdPercent">The <c>--threshold</c>, in percent, or <c>null</c>.</param>
    /// <returns>The Markdown.</returns>
    public static string RenderMarkdown(ReportComparison comparison, double? thresholdPercent = null)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        // Every text from the reports (target names, the machine's name, the tool's version, which
        // the warnings and the summary quote) goes through the Markdown's one escaping helper: a
        // report file's target name is any text, and a '|' in it would end its row's cell.
        Func<string, string> escape = MarkdownReporter.Escape;
        var md = new StringBuilder();
        md.Append("## rpycbench comparison\n\n");
        md.Append("- base: ").Append(escape(Describe(comparison.Base))).Append('\n');
        md.Append("- new: ").Append(escape(Describe(comparison.New))).Append('\n');
        md.Append("- ").Append(escape(HowDecided(comparison))).Append('\n');
        if (BusyWarning(comparison) is { } busy)
        {
            md.Append("- **").Append(escape(busy)).Append("**\n");
        }
        if (SpeedWarning(comparison) is { } speed)
        {
            md.Append("- **").Append(escape(speed)).Append("**\n");
        }
        foreach (string target in comparison.Figures.Select(f => f.Target).Distinct())
        {
            if (SlowCpuNote(comparison, target) is { } slow)
            {
                md.Append("- ").Append(escape(target)).Append(": ").Append(escape(slow)).Append('\n');
            }
        }
        md.Append('\n');
        md.Append("| target | figure | unit | base | new | change | verdict |\n");
        md.Append("| --- | --- | --- | ---: | ---: | ---: | --- |\n");
        foreach (FigureComparison f in comparison.Figures)
        {
            string verdict = f.Verdict switch { Verdict.Slower => "**slower**", _ => Name(f.Verdict) };
            md.Append($"| {escape(f.Target)} | {escape(f.Figure)} | {escape(f.Unit)} | {Value(f.Base, f.BaseCi95)} | {Value(f.New, f.NewCi95)} | {ReportComparison.Percent(f.ChangePercent)} | {verdict} |\n");
        }
        var others = new StringBuilder();
        Others(others, comparison, escape);
        // The summary's lines (one per regression) become <br>: each stays on its own line.
        md.Append(others.Length > 0 ? others.ToString() : "").Append('\n').Append(escape(Summary(comparison, thresholdPercent))).Append('\n');
        return md.ToString();
    }

    /// <summary>Renders the comparison as JSON: both runs' identity, the rule, and every figure.</summary>
    /// <param name="comparison">The comparison.</param>
    /// <param name="thresholdPercent">The <c>--threshold</c>, in percent, or <c>null</c>.</param>
    /// <returns>Indented JSON.</returns>
    public static string RenderJson(ReportComparison comparison, double? thresholdPercent = null)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("tool", "rpycbench-compare");
            w.WriteNumber("schema_version", JsonReporter.SchemaVersion);
            Run(w, "base", comparison.Base);
            Run(w, "new", comparison.New);
            w.WriteNumber("noise_band_percent", comparison.NoiseBandPercent);
            if (thresholdPercent is double t)
            {
                w.WriteNumber("threshold_percent", t);
                w.WriteNumber("regressions", comparison.Regressions(t).Count);
            }
            else
            {
                w.WriteNull("threshold_percent");
            }
            w.WriteStartArray("figures");
            foreach (FigureComparison f in comparison.Figures)
            {
                w.WriteStartObject();
                w.WriteString("target", f.Target);
                w.WriteString("figure", f.Figure);
                w.WriteString("unit", f.Unit);
                w.WriteBoolean("higher_is_better", f.HigherIsBetter);
                w.WriteNumber("base", f.Base);
                w.WriteNumber("new", f.New);
                Interval(w, "base_ci95", f.BaseCi95);
                Interval(w, "new_ci95", f.NewCi95);
                if (double.IsFinite(f.ChangePercent))
                {
                    w.WriteNumber("change_percent", f.ChangePercent);
                }
                else
                {
                    w.WriteNull("change_percent");
                }
                w.WriteString("verdict", Name(f.Verdict));
                w.WriteString("basis", f.Basis == VerdictBasis.ConfidenceIntervals ? "ci95" : "noise_band");
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("only_in_base");
            foreach (string name in comparison.OnlyInBase)
            {
                w.WriteStringValue(name);
            }
            w.WriteEndArray();
            w.WriteStartArray("only_in_new");
            foreach (string name in comparison.OnlyInNew)
            {
                w.WriteStringValue(name);
            }
            w.WriteEndArray();
            w.WriteStartArray("newly_failed");
            foreach (TargetReport failed in comparison.NewlyFailed)
            {
                w.WriteStartObject();
                w.WriteString("target", failed.Name);
                w.WriteString("error", failed.Error);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("failed_in_both");
            foreach (string name in comparison.FailedInBoth)
            {
                w.WriteStringValue(name);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>The verdict as written: <c>faster</c>, <c>slower</c> or <c>same</c>.</summary>
    /// <param name="verdict">The verdict.</param>
    /// <returns>The word.</returns>
    public static string Name(Verdict verdict) => verdict.ToString().ToLowerInvariant();

    private static void Run(Utf8JsonWriter w, string name, BenchmarkReport r)
    {
        w.WriteStartObject(name);
        w.WriteString("start_time", r.Metadata.StartTime.ToString("O", CultureInfo.InvariantCulture));
        w.WriteString("hostname", r.Metadata.Machine);
        w.WriteString("tool_version", r.Metadata.ToolVersion);
        w.WriteNumber("runs", r.Targets.Select(t => t.RunCount).DefaultIfEmpty(1).Min());
        w.WriteEndObject();
    }

    private static void Interval(Utf8JsonWriter w, string name, Interval? interval)
    {
        if (interval is { } i)
        {
            w.WriteStartArray(name);
            w.WriteNumberValue(i.Low);
            w.WriteNumberValue(i.High);
            w.WriteEndArray();
        }
        else
        {
            w.WriteNull(name);
        }
    }

    private static string Describe(BenchmarkReport r)
    {
        int runs = r.Targets.Select(t => t.RunCount).DefaultIfEmpty(1).Min();
        return $"{r.Metadata.StartTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC on {r.Metadata.Machine}, "
            + $"rpycbench {r.Metadata.ToolVersion.Split('+')[0]}, {(runs > 1 ? $"{runs} runs" : "1 run")}";
    }

    /// <summary>
    /// A warning when other programs competed with either run, or <c>null</c>. The measure is each
    /// target's noise (<see cref="TargetReport.NoiseCores"/>: other programs' CPU while it was
    /// measured), busy above <see cref="MachineNoise.BusyCores"/>. A report without it (older, or
    /// every target elsewhere) falls back to the 1-minute load average at its start, busy at half
    /// the logical CPUs. The load at the end never counts: it holds the benchmark's own processes
    /// (a default run on 2 CPUs ends at 2.6-3.8), so it flagged every real run as busy.
    /// </summary>
    /// <param name="comparison">The comparison.</param>
    /// <returns>The warning, or <c>null</c>.</returns>
    public static string? BusyWarning(ReportComparison comparison)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        var busy = new List<string>();
        foreach ((string name, BenchmarkReport r) in (ValueTuple<string, BenchmarkReport>[])[("base", comparison.Base), ("new", comparison.New)])
        {
            if (Busy(r) is { } why)
            {
                busy.Add($"{name} ({why})");
            }
        }
        return busy.Count == 0 ? null
            : $"Warning: the machine was busy during {string.Join(" and ", busy)}: other programs moved the figures, so verdicts are unreliable.";
    }

    /// <summary>
    /// A warning when the machine itself ran at another speed in one report than in the other: the
    /// medians of their <see cref="MachineSpeed"/> probes (any part: the CPU-bound heapsort, the
    /// loopback round trip or the loopback send and receive) differ by more than 15 %. A virtual
    /// machine's host can change how fast its vCPUs run without any program in the VM showing it:
    /// in two back-to-back default runs here every target, the raw TCP floor and the Python peers
    /// alike, moved by 25-80 %.
    /// </summary>
    /// <param name="comparison">The comparison.</param>
    /// <returns>The warning, or <c>null</c> (within 15 %, or a report without probes).</returns>
    public static string? SpeedWarning(ReportComparison comparison)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        var changes = new List<string>(2);
        var signs = new List<double>(2);
        if (Change(comparison, SpeedPart.Cpu) is (double b, double n, double change))
        {
            changes.Add($"the same fixed work took {b.ToString("0", CultureInfo.InvariantCulture)} µs of CPU in base and {n.ToString("0", CultureInfo.InvariantCulture)} in new ({ReportComparison.Percent(change)})");
            signs.Add(Math.Sign(change));
        }
        if (Change(comparison, SpeedPart.Loopback) is (double lb, double ln, double loopChange))
        {
            changes.Add($"a loopback round trip took {lb.ToString("0.0", CultureInfo.InvariantCulture)} µs in base and {ln.ToString("0.0", CultureInfo.InvariantCulture)} in new ({ReportComparison.Percent(loopChange)})");
            signs.Add(Math.Sign(loopChange));
        }
        if (Change(comparison, SpeedPart.Transfer) is (double tb, double tn, double transferChange))
        {
            changes.Add($"a loopback send and receive took {tb.ToString("0.00", CultureInfo.InvariantCulture)} µs of CPU in base and {tn.ToString("0.00", CultureInfo.InvariantCulture)} in new ({ReportComparison.Percent(transferChange)})");
            signs.Add(Math.Sign(transferChange));
        }
        if (changes.Count == 0)
        {
            return null;
        }
        string how = signs.All(x => x > 0) ? "ran slower in new" : signs.All(x => x < 0) ? "ran faster in new" : "changed speed between base and new";
        return $"Warning: the machine itself {how}: {string.Join("; ", changes)} (metadata.machine_speed), so figures moved with it and verdicts are unreliable.";
    }

    /// <summary>
    /// A target's runs that began with a CPU slow (<see cref="SummaryTables.SlowCpuRuns"/>) in each
    /// report, when the two have a different number of them: on the reference VM a run begun so was most of what moved a
    /// target's figures between two reports (py_rpyc_threaded's 10 KiB upload: medians 160 against
    /// 211 MiB/s, two of its three runs begun on a slow CPU against none).
    /// </summary>
    /// <param name="comparison">The comparison.</param>
    /// <param name="target">The target's name.</param>
    /// <returns>The note, or <c>null</c> when the counts agree or a report has no per-CPU probes.</returns>
    public static string? SlowCpuNote(ReportComparison comparison, string target)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        // As many such runs on both sides weigh on the medians alike, whichever runs they were.
        (string Text, int Count)? b = Runs(comparison.Base), n = Runs(comparison.New);
        return b is not { } bb || n is not { } nn || bb.Count == nn.Count ? null
            : $"Runs begun with a CPU slow (a CPU's loopback send and receive over 25 % dearer than the report's cheapest): base {bb.Text}; new {nn.Text}.";

        (string Text, int Count)? Runs(BenchmarkReport r)
        {
            if (SummaryTables.SlowCpuRuns(r.Metadata.SpeedProbes, target) is not { } runs)
            {
                return null;
            }
            string of = r.Targets.FirstOrDefault(t => t.Name == target) is { RunCount: > 1 } t ? $" of {t.RunCount.ToString(CultureInfo.InvariantCulture)}" : "";
            string text = runs.Count switch
            {
                0 => $"none{of}",
                1 => $"run {runs[0].ToString(CultureInfo.InvariantCulture)}{of}",
                _ => $"runs {string.Join(", ", runs)}{of}",
            };
            return (text, runs.Count);
        }
    }

    // The two reports' medians of one probe part and the change in percent, when beyond 15 %.
    private static (double Base, double New, double Change)? Change(ReportComparison comparison, SpeedPart part)
    {
        double[] b = [.. comparison.Base.Metadata.SpeedProbes.Select(p => p.Of(part)).OfType<double>()];
        double[] n = [.. comparison.New.Metadata.SpeedProbes.Select(p => p.Of(part)).OfType<double>()];
        if (b.Length == 0 || n.Length == 0)
        {
            return null;
        }
        double bm = ConfidenceInterval.Median(b), nm = ConfidenceInterval.Median(n);
        double change = (nm - bm) / bm * 100;
        return Math.Abs(change) <= 15 ? null : (bm, nm, change);
    }

    private static string? Busy(BenchmarkReport r)
    {
        TargetReport[] measured = r.Targets.Where(t => t.NoiseCores is double n && double.IsFinite(n)).ToArray();
        if (measured.Length > 0)
        {
            TargetReport noisiest = measured.MaxBy(t => t.NoiseCores!.Value)!;
            double cores = noisiest.NoiseCores!.Value;
            return cores > MachineNoise.BusyCores
                ? $"other programs used {cores.ToString("0.00", CultureInfo.InvariantCulture)} cores while {noisiest.Name} was measured"
                : null;
        }
        RunMetadata m = r.Metadata;
        double load = m.LoadAverage.Count > 0 && double.IsFinite(m.LoadAverage[0]) ? m.LoadAverage[0] : 0;
        return m.ProcessorCount > 0 && load >= m.ProcessorCount / 2.0
            ? $"load {load.ToString("0.0", CultureInfo.InvariantCulture)} on {m.ProcessorCount} CPUs at its start"
            : null;
    }

    private static string HowDecided(ReportComparison c)
    {
        string band = c.NoiseBandPercent.ToString("0.#", CultureInfo.InvariantCulture);
        return c.Figures.All(f => f.Basis == VerdictBasis.ConfidenceIntervals) && c.Figures.Count > 0
            ? "Verdicts: 95% confidence intervals of both runs (overlap = same)."
            : c.Figures.Any(f => f.Basis == VerdictBasis.ConfidenceIntervals)
                ? $"Verdicts: 95% confidence intervals where both runs have them (overlap = same), else a ±{band}% noise band."
                : $"Verdicts: a ±{band}% noise band (single runs have no confidence interval; use --runs 3 or more for intervals).";
    }

    private static string Summary(ReportComparison c, double? threshold)
    {
        int slower = c.Figures.Count(f => f.Verdict == Verdict.Slower);
        int faster = c.Figures.Count(f => f.Verdict == Verdict.Faster);
        string counts = $"{c.Figures.Count} figures: {faster} faster, {slower} slower, {c.Figures.Count - faster - slower} same.";
        if (threshold is not double t)
        {
            return counts;
        }
        IReadOnlyList<FigureComparison> regressions = c.Regressions(t);
        string limit = t.ToString("0.#", CultureInfo.InvariantCulture);
        string failed = c.NewlyFailed.Count == 0 ? "" : $" {c.NewlyFailed.Count} target(s) failed in new: {string.Join(", ", c.NewlyFailed.Select(f => f.Name))}.";
        return regressions.Count == 0
            ? $"{counts}{failed} No figure is slower by more than {limit}%."
            : $"{counts}{failed} {regressions.Count} slower by more than {limit}%:\n"
                + string.Join("\n", regressions.Select(f => $"  {f.Target} {f.Figure} {ReportComparison.Percent(f.ChangePercent)}"));
    }

    // The targets not compared, and why a target failed in new. The Markdown escapes what the
    // reports hold: an error is often the server's stderr, a frame a line, with a traceback's '<module>'.
    private static void Others(StringBuilder text, ReportComparison c, Func<string, string> escape)
    {
        foreach (TargetReport failed in c.NewlyFailed)
        {
            text.Append("\nFAILED in new, not in base: ").Append(escape(failed.Name)).Append(": ").Append(escape(failed.Error ?? "no error recorded")).Append('\n');
        }
        if (c.FailedInBoth.Count > 0)
        {
            text.Append("\nFailed in both: ").Append(escape(string.Join(", ", c.FailedInBoth))).Append('\n');
        }
        if (c.OnlyInBase.Count > 0)
        {
            text.Append("\nOnly in base (not compared): ").Append(escape(string.Join(", ", c.OnlyInBase))).Append('\n');
        }
        if (c.OnlyInNew.Count > 0)
        {
            text.Append("\nOnly in new (not compared): ").Append(escape(string.Join(", ", c.OnlyInNew))).Append('\n');
        }
    }

    private static void Line(StringBuilder text, string[] cells)
    {
        var line = new StringBuilder();
        for (int i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                line.Append("  ");
            }
            // Figure, unit and verdict read left to right; numbers line up on the right.
            line.Append(i is 0 or 1 or 5 ? cells[i].PadRight(s_widths[i]) : cells[i].PadLeft(s_widths[i]));
        }
        text.Append(line.ToString().TrimEnd()).Append('\n');
    }

    private static string Value(double value, Interval? ci)
    {
        string v = Number(value);
        return ci is { } i && double.IsFinite(i.HalfWidth) ? $"{v} ± {Number(i.HalfWidth, value)}" : v;
    }

    // Four significant digits or so, with the same decimals for a value and its half-width.
    private static string Number(double value, double? like = null)
    {
        double magnitude = Math.Abs(like ?? value);
        int decimals = magnitude >= 1000 ? 0 : magnitude >= 100 ? 1 : magnitude >= 10 ? 2 : 3;
        return double.IsFinite(value) ? value.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : "-";
    }

    private static string Wrap(string text, int width) => string.Join("\n", text.Split('\n').Select(line => WrapLine(line, width)));

    private static string WrapLine(string text, int width)
    {
        var lines = new StringBuilder();
        var line = new StringBuilder();
        foreach (string word in text.Split(' '))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                lines.Append(line).Append('\n');
                line.Clear();
            }
            line.Append(line.Length > 0 ? " " : "").Append(word);
        }
        return lines.Append(line).ToString();
    }
}
