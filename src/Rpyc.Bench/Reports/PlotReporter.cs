using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace Rpyc.Bench;

/// <summary>
/// Draws PNG plots of a report with ScottPlot: latency percentiles per target, connection time,
/// bandwidth against payload size (upload and download), and concurrent throughput (with wrk's,
/// when measured). A value axis is logarithmic when the values span more than a decade (so a 2 ms
/// figure does not squash 30 µs ones to slivers) and never goes below zero; figures of several runs
/// carry their 95 % confidence interval as an error bar; every plot has a caption with the machine,
/// date, runtime and parameters. A pure function of the report apart from the files it writes.
/// </summary>
public static class PlotReporter
{
    private const int Width = 1100;
    private const int Height = 640;

    /// <summary>Writes the plots into <paramref name="directory"/> (created if needed).</summary>
    /// <param name="report">The report.</param>
    /// <param name="directory">Output directory.</param>
    /// <returns>The files written.</returns>
    public static IReadOnlyList<string> Write(BenchmarkReport report, string directory)
    {
        ArgumentNullException.ThrowIfNull(report);
        Directory.CreateDirectory(directory);
        var files = new List<string>();
        foreach ((string name, _, byte[] png) in Render(report))
        {
            string path = Path.Combine(directory, name);
            File.WriteAllBytes(path, png);
            files.Add(path);
        }
        return files;
    }

    /// <summary>Draws the plots in memory.</summary>
    /// <param name="report">The report.</param>
    /// <returns>Each plot's file name, title and PNG bytes.</returns>
    public static IReadOnlyList<(string FileName, string Title, byte[] Png)> Render(BenchmarkReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        TargetReport[] targets = report.Targets.ToArray();
        string caption = Caption(report.Metadata);
        int clients = targets.Select(r => r.Concurrent?.Clients ?? 0).FirstOrDefault(c => c > 0);
        var plots = new List<(string, string, byte[])>
        {
            GroupedBars("latency_percentiles.png", "Latency percentiles (ping, warm connection)", "latency (µs)", caption, targets,
            [
                Series("p50", r => r.Latency?.Latency, "p50", 1e6), Series("p90", r => r.Latency?.Latency, "p90", 1e6),
                Series("p99", r => r.Latency?.Latency, "p99", 1e6), ("p99.9", r => r.Latency?.Latency.P999 * 1e6, _ => null),
            ]),
            GroupedBars("connection_time.png", "Connection time: TCP connect to first valid reply", "time (ms)", caption, targets,
            [
                ("TCP connect mean", r => r.Connection?.TcpConnect.Mean * 1e3, _ => null),
                Series("mean", r => r.Connection?.ConnectionTime, "mean", 1e3), Series("p99", r => r.Connection?.ConnectionTime, "p99", 1e3),
            ]),
            Bandwidth("bandwidth_upload.png", "Upload bandwidth by payload size", caption, targets, r => r.Bandwidth?.Upload),
            Bandwidth("bandwidth_download.png", "Download bandwidth by payload size", caption, targets, r => r.Bandwidth?.Download),
            GroupedBars("concurrent_throughput.png", $"Concurrent throughput ({clients} clients)", "requests / s", caption, targets,
            [
                ("concurrent benchmark", r => r.Concurrent?.Throughput, r => r.Concurrent?.ThroughputCi95),
                ("sustained, rpycbench clients", r => r.Wrk?.RpycbenchRequestsPerSecond, _ => null),
                ("sustained, wrk", r => r.Wrk?.RequestsPerSecond, _ => null),
                ("distributed, Locust (Python clients)", r => r.Distributed?.Throughput, _ => null),
            ]),
        };
        if (report.Sweep is { } sweep)
        {
            plots.AddRange(NetworkSweepChart.Render(sweep, caption));
        }
        return plots;
    }

    /// <summary>The caption under every plot: machine, date, runtime, parameters.</summary>
    /// <param name="m">The run's metadata.</param>
    /// <returns>Up to three lines of text.</returns>
    public static string Caption(RunMetadata m)
    {
        ArgumentNullException.ThrowIfNull(m);
        string date = m.StartTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
        // The parameters wrap over two lines at most, at a comma, so none is cut mid-name.
        var lines = new List<string> { "" };
        foreach (string item in ReportFacts.Parameters(m).Split(", "))
        {
            if (lines[^1].Length > 0 && lines[^1].Length + item.Length + 2 > 140)
            {
                if (lines.Count == 2)
                {
                    lines[^1] += ", ...";
                    break;
                }
                lines[^1] += ",";
                lines.Add("");
            }
            lines[^1] += (lines[^1].Length > 0 ? ", " : "") + item;
        }
        return $"{m.Machine}, {m.CpuModel} ({m.ProcessorCount} CPUs), {date} UTC, {m.Runtime}, rpycbench {m.ToolVersion.Split('+')[0]}\n{string.Join("\n", lines)}";
    }

    private static (string, Func<TargetReport, double?>, Func<TargetReport, Interval?>) Series(string name, Func<TargetReport, Statistics?> stats, string figure, double scale) =>
        (name,
         r => stats(r) is { Count: > 0 } s ? s.Figure(figure) * scale : null,
         r => stats(r)?.Ci95 is { } ci && ci.TryGetValue(figure, out Interval i) ? new Interval(i.Low * scale, i.High * scale) : null);

    private static (string, string, byte[]) GroupedBars(string file, string title, string yLabel, string caption, TargetReport[] targets,
        (string Name, Func<TargetReport, double?> Value, Func<TargetReport, Interval?> Ci)[] series)
    {
        var plot = NewPlot(title, caption);
        var palette = new ScottPlot.Palettes.Category10();
        // A series no target has (wrk when it did not run) gets neither a slot nor a legend entry.
        var measured = series.Where(s => targets.Any(t => s.Value(t) is double v && double.IsFinite(v))).ToArray();
        series = measured.Length > 0 ? measured : series[..1];
        double[] values = series.SelectMany(s => targets.Select(t => s.Value(t) ?? double.NaN)).Where(v => double.IsFinite(v) && v > 0).ToArray();
        ValueAxis axis = ValueAxis.For(values);
        double groupWidth = 0.8;
        double barWidth = groupWidth / series.Length;
        var bars = new List<Bar>();
        double top = axis.Base;
        for (int s = 0; s < series.Length; s++)
        {
            Color color = palette.GetColor(s);
            for (int t = 0; t < targets.Length; t++)
            {
                if (series[s].Value(targets[t]) is not double v || !double.IsFinite(v) || v < 0)
                {
                    continue;
                }
                double x = t - (groupWidth / 2) + (barWidth * (s + 0.5));
                bars.Add(new Bar { Position = x, Value = Math.Max(axis.Map(v), axis.Base), ValueBase = axis.Base, FillColor = color, Size = barWidth * 0.9 });
                top = Math.Max(top, axis.Map(v));
                if (series[s].Ci(targets[t]) is { } ci && double.IsFinite(ci.Low) && double.IsFinite(ci.High))
                {
                    top = Math.Max(top, axis.Map(ci.High));
                    ErrorBar(plot, x, axis.Map(Math.Max(ci.Low, axis.Floor)), axis.Map(ci.High), barWidth * 0.3);
                }
            }
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s].Name, FillColor = color });
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, targets.Length).Select(i => (double)i).ToArray(), targets.Select(t => t.Name).ToArray());
        // Room above the bars for the legend in the upper left (a 16 px frame and a 24 px row per
        // series, of a ~520 px data area): without it the legend hid the tops and error bars of the
        // first targets whenever they were the tallest (10-client throughput of the RPyC servers).
        axis.Apply(plot, top, reserveFraction: (26.0 + (24.0 * series.Length)) / 520);
        plot.Axes.SetLimitsX(-0.6, targets.Length - 0.4);
        plot.YLabel(axis.Log ? $"{yLabel}, log scale" : yLabel);
        plot.ShowLegend(Alignment.UpperLeft);
        return (file, title, plot.GetImageBytes(Width, Height, ImageFormat.Png));
    }

    private static (string, string, byte[]) Bandwidth(string file, string title, string caption, TargetReport[] targets, Func<TargetReport, IReadOnlyList<BandwidthSizeResult>?> select)
    {
        var plot = NewPlot(title, caption);
        var palette = new ScottPlot.Palettes.Category10();
        const double Mib = 1024 * 1024;
        int[] sizes = targets.SelectMany(t => select(t) ?? []).Select(s => s.SizeBytes).Distinct().Order().ToArray();
        ValueAxis axis = ValueAxis.For(targets.SelectMany(t => select(t) ?? []).Where(s => s.Transfers > 0).Select(s => s.BytesPerSecond / Mib).Where(v => v > 0).ToArray());
        double top = axis.Base;
        for (int t = 0; t < targets.Length; t++)
        {
            BandwidthSizeResult[] points = (select(targets[t]) ?? []).Where(s => s.Transfers > 0 && s.BytesPerSecond > 0).OrderBy(s => s.SizeBytes).ToArray();
            if (points.Length == 0)
            {
                continue;
            }
            Color color = palette.GetColor(t);
            var scatter = plot.Add.Scatter(points.Select(p => Math.Log2(p.SizeBytes)).ToArray(), points.Select(p => axis.Map(p.BytesPerSecond / Mib)).ToArray());
            scatter.LegendText = targets[t].Name;
            scatter.Color = color;
            scatter.LineWidth = 2;
            scatter.MarkerSize = 8;
            foreach (BandwidthSizeResult p in points)
            {
                top = Math.Max(top, axis.Map(p.BytesPerSecond / Mib));
                if (p.BytesPerSecondCi95 is { } ci && double.IsFinite(ci.Low) && double.IsFinite(ci.High))
                {
                    top = Math.Max(top, axis.Map(ci.High / Mib));
                    ErrorBar(plot, Math.Log2(p.SizeBytes), axis.Map(Math.Max(ci.Low / Mib, axis.Floor)), axis.Map(ci.High / Mib), 0.12, color);
                }
            }
        }
        if (sizes.Length > 0)
        {
            plot.Axes.Bottom.SetTicks(sizes.Select(s => Math.Log2(s)).ToArray(), sizes.Select(s => SummaryTables.SizeLabel(s)).ToArray());
            plot.Axes.SetLimitsX(Math.Log2(sizes[0]) - 0.5, Math.Log2(sizes[^1]) + 0.5);
        }
        axis.Apply(plot, top);
        plot.YLabel(axis.Log ? "MiB / s, log scale" : "MiB / s");
        plot.ShowLegend(Alignment.UpperLeft);
        return (file, title, plot.GetImageBytes(Width, Height, ImageFormat.Png));
    }

    private static Plot NewPlot(string title, string caption)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.Axes.Title.Label.FontSize = 20;
        // The caption sits where an x-axis title would: the categories need none.
        plot.XLabel(caption);
        plot.Axes.Bottom.Label.FontSize = 12;
        plot.Axes.Bottom.Label.Bold = false;
        plot.Axes.Bottom.TickLabelStyle.FontSize = 14;
        plot.Axes.Left.TickLabelStyle.FontSize = 13;
        plot.Axes.Left.Label.FontSize = 15;
        plot.Legend.FontSize = 13;
        return plot;
    }

    private static void ErrorBar(Plot plot, double x, double low, double high, double capWidth, Color? color = null)
    {
        Color c = color ?? Colors.Black;
        foreach ((double x1, double y1, double x2, double y2) in (ValueTuple<double, double, double, double>[])
            [(x, low, x, high), (x - (capWidth / 2), low, x + (capWidth / 2), low), (x - (capWidth / 2), high, x + (capWidth / 2), high)])
        {
            var line = plot.Add.Line(x1, y1, x2, y2);
            line.Color = c;
            line.LineWidth = 1.5f;
            line.MarkerSize = 0;
        }
    }

    // The value axis: linear from zero, or log10 when the values span more than a decade.
    internal sealed class ValueAxis
    {
        public bool Log { get; private init; }

        // Where bars start, in plot coordinates (0, or the decade below the smallest value).
        public double Base { get; private init; }

        // The smallest value the axis shows, in data units.
        public double Floor { get; private init; }

        public static ValueAxis For(double[] values)
        {
            if (values.Length == 0 || values.Max() / values.Min() <= 10)
            {
                return new ValueAxis { Log = false, Base = 0, Floor = 0 };
            }
            // The decade below the smallest value, and one lower when that value sits within 1.5x
            // above it: a bar of 1,007 on an axis from 1,000 was drawn as a hairline, read as none.
            double floor = Math.Floor(Math.Log10(values.Min()) - Math.Log10(1.5));
            return new ValueAxis { Log = true, Base = floor, Floor = Math.Pow(10, floor) };
        }

        public double Map(double value) => Log ? Math.Log10(Math.Max(value, Floor)) : value;

        // reserveFraction: the share of the height to leave free above the highest value.
        public void Apply(Plot plot, double top, double reserveFraction = 0)
        {
            if (Log)
            {
                plot.Axes.Left.TickGenerator = new NumericAutomatic
                {
                    MinorTickGenerator = new LogMinorTickGenerator(),
                    IntegerTicksOnly = true,
                    LabelFormatter = y => Label(Math.Pow(10, y)),
                };
                plot.Axes.SetLimitsY(Base, Math.Max(Math.Ceiling(top + 0.15), Base + ((top + 0.15 - Base) / (1 - reserveFraction))));
            }
            else
            {
                plot.Axes.SetLimitsY(0, top > 0 ? top * 1.12 / (1 - reserveFraction) : 1);
            }
        }

        private static string Label(double value) =>
            value >= 1 ? value.ToString("N0", CultureInfo.InvariantCulture) : value.ToString("0.###", CultureInfo.InvariantCulture);
    }
}
