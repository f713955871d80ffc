using ScottPlot;

namespace Rpyc.Bench;

/// <summary>
/// Writes PNG plots of a report with ScottPlot: latency percentiles per target, connection time,
/// bandwidth against payload size (upload and download), and concurrent throughput (with wrk's,
/// when measured). A pure function of the report apart from the files it writes.
/// </summary>
public static class PlotReporter
{
    private const int Width = 1000;
    private const int Height = 560;

    /// <summary>Writes the plots into <paramref name="directory"/> (created if needed).</summary>
    /// <param name="report">The report.</param>
    /// <param name="directory">Output directory.</param>
    /// <returns>The files written.</returns>
    public static IReadOnlyList<string> Write(BenchmarkReport report, string directory)
    {
        ArgumentNullException.ThrowIfNull(report);
        Directory.CreateDirectory(directory);
        var files = new List<string>();
        TargetReport[] targets = report.Targets.ToArray();
        files.Add(GroupedBars(Path.Combine(directory, "latency_percentiles.png"), "Latency percentiles (ping, warm connection)", "latency (µs)", targets,
            [("p50", r => r.Latency?.Latency.P50 * 1e6), ("p90", r => r.Latency?.Latency.P90 * 1e6), ("p99", r => r.Latency?.Latency.P99 * 1e6), ("p99.9", r => r.Latency?.Latency.P999 * 1e6)]));
        files.Add(GroupedBars(Path.Combine(directory, "connection_time.png"), "Connection time: TCP connect to first valid reply", "time (ms)", targets,
            [("TCP connect mean", r => r.Connection?.TcpConnect.Mean * 1e3), ("mean", r => r.Connection?.ConnectionTime.Mean * 1e3), ("p99", r => r.Connection?.ConnectionTime.P99 * 1e3)]));
        files.Add(Bandwidth(Path.Combine(directory, "bandwidth_upload.png"), "Upload bandwidth by payload size", targets, r => r.Bandwidth?.Upload));
        files.Add(Bandwidth(Path.Combine(directory, "bandwidth_download.png"), "Download bandwidth by payload size", targets, r => r.Bandwidth?.Download));
        int clients = targets.Select(r => r.Concurrent?.Clients ?? 0).FirstOrDefault(c => c > 0);
        files.Add(GroupedBars(Path.Combine(directory, "concurrent_throughput.png"), $"Concurrent throughput ({clients} clients)", "requests / s", targets,
            [("concurrent benchmark", r => r.Concurrent?.Throughput), ("sustained, rpycbench clients", r => r.Wrk?.RpycbenchRequestsPerSecond), ("sustained, wrk", r => r.Wrk?.RequestsPerSecond)]));
        return files;
    }

    private static string GroupedBars(string path, string title, string yLabel, TargetReport[] targets, (string Name, Func<TargetReport, double?> Value)[] series)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        double groupWidth = 0.8;
        double barWidth = groupWidth / series.Length;
        var bars = new List<Bar>();
        for (int s = 0; s < series.Length; s++)
        {
            Color color = palette.GetColor(s);
            for (int t = 0; t < targets.Length; t++)
            {
                double? value = series[s].Value(targets[t]);
                if (value is double v && double.IsFinite(v))
                {
                    bars.Add(new Bar { Position = t - (groupWidth / 2) + (barWidth * (s + 0.5)), Value = v, FillColor = color, Size = barWidth * 0.95 });
                }
            }
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = series[s].Name, FillColor = color });
        }
        plot.Add.Bars(bars);
        plot.Axes.Bottom.SetTicks(Enumerable.Range(0, targets.Length).Select(i => (double)i).ToArray(), targets.Select(t => t.Name).ToArray());
        plot.Axes.Margins(bottom: 0);
        plot.Title(title);
        plot.YLabel(yLabel);
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, Width, Height);
        return path;
    }

    private static string Bandwidth(string path, string title, TargetReport[] targets, Func<TargetReport, IReadOnlyList<BandwidthSizeResult>?> select)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int[] sizes = targets.SelectMany(t => select(t) ?? []).Select(s => s.SizeBytes).Distinct().Order().ToArray();
        for (int t = 0; t < targets.Length; t++)
        {
            BandwidthSizeResult[] points = (select(targets[t]) ?? []).Where(s => s.Transfers > 0).OrderBy(s => s.SizeBytes).ToArray();
            if (points.Length == 0)
            {
                continue;
            }
            var scatter = plot.Add.Scatter(points.Select(p => Math.Log2(p.SizeBytes)).ToArray(), points.Select(p => p.BytesPerSecond / (1024 * 1024)).ToArray());
            scatter.LegendText = targets[t].Name;
            scatter.Color = palette.GetColor(t);
            scatter.LineWidth = 2;
            scatter.MarkerSize = 7;
        }
        if (sizes.Length > 0)
        {
            plot.Axes.Bottom.SetTicks(sizes.Select(s => Math.Log2(s)).ToArray(), sizes.Select(s => SummaryTables.SizeLabel(s)).ToArray());
        }
        plot.Title(title);
        plot.XLabel("payload size (log scale)");
        plot.YLabel("MiB / s");
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, Width, Height);
        return path;
    }
}
