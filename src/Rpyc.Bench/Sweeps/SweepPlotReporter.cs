using System.Globalization;
using ScottPlot;

namespace Rpyc.Bench;

/// <summary>
/// Draws a sweep's PNG plots with ScottPlot: for every swept parameter with more than one value,
/// each <see cref="SweepFigure"/> against that parameter, one line per target (one plot per value
/// of the other parameters). A target's line breaks at a point without its figure (never drawn
/// across a value not measured), and a point where it failed is marked with an × on the floor of
/// the value axis. The x axis is logarithmic (base 2) when the values span 8× or more,
/// the value axis when the figures span more than a decade. A pure function of the sweep apart
/// from the files it writes.
/// </summary>
public static class SweepPlotReporter
{
    private const int Width = 1100;
    private const int Height = 640;

    /// <summary>Writes the plots into <paramref name="directory"/> (created if needed).</summary>
    /// <param name="sweep">The sweep.</param>
    /// <param name="directory">Output directory.</param>
    /// <returns>The files written.</returns>
    public static IReadOnlyList<string> Write(SweepReport sweep, string directory)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        Directory.CreateDirectory(directory);
        var files = new List<string>();
        foreach ((string name, _, byte[] png) in Render(sweep))
        {
            string path = Path.Combine(directory, name);
            File.WriteAllBytes(path, png);
            files.Add(path);
        }
        return files;
    }

    /// <summary>Draws the plots in memory.</summary>
    /// <param name="sweep">The sweep.</param>
    /// <returns>Each plot's file name, title and PNG bytes.</returns>
    public static IReadOnlyList<(string FileName, string Title, byte[] Png)> Render(SweepReport sweep)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        var plots = new List<(string, string, byte[])>();
        foreach (SweepAxis axis in sweep.Metadata.Grid.Where(a => a.Values.Count > 1))
        {
            SweepAxis[] others = sweep.Metadata.Grid.Where(a => a != axis).ToArray();
            // One plot per combination of the other parameters' values.
            foreach (IGrouping<string, SweepPoint> group in sweep.Points.GroupBy(p => string.Join(",", others.Select(o => $"{o.Name}={p.Parameters[o.Name]}"))))
            {
                SweepPoint[] points = group.OrderBy(p => p.Parameters[axis.Name]).ToArray();
                string fixedText = string.Join(", ", others.Select(o => $"{o.Name}={ParameterSweep.FormatValue(o.Name, points[0].Parameters[o.Name])}"));
                string suffix = string.Concat(others.Select(o => $"_{o.Name}_{points[0].Parameters[o.Name].ToString(CultureInfo.InvariantCulture)}"));
                foreach (SweepFigure figure in SweepFigure.All)
                {
                    if (Plot(sweep, axis, points, figure, fixedText) is { } png)
                    {
                        string title = $"{figure.Title} vs {axis.Name}";
                        plots.Add(($"{figure.Key}_vs_{axis.Name}{suffix}.png", title, png));
                    }
                }
            }
        }
        return plots;
    }

    private static byte[]? Plot(SweepReport sweep, SweepAxis axis, SweepPoint[] points, SweepFigure figure, string fixedText)
    {
        SweepLine<int>[] lines = [.. Lines(axis, points, figure)];
        if (lines.Length == 0)
        {
            return null;
        }
        int[] xs = axis.Values.Order().ToArray();
        bool logX = xs[0] > 0 && xs[^1] / (double)xs[0] >= 8;
        double X(int value) => logX ? Math.Log2(value) : value;
        PlotReporter.ValueAxis yAxis = PlotReporter.ValueAxis.For(lines.SelectMany(l => l.Segments.SelectMany(s => s.Select(p => p.Y))).ToArray());
        var plot = new Plot();
        plot.Title($"{figure.Title} vs {axis.Name}{(fixedText.Length > 0 ? $" ({fixedText})" : "")}");
        plot.Axes.Title.Label.FontSize = 18;
        SweepMetadata m = sweep.Metadata;
        string remote = m.RemoteMachine is { } r && r.TryGetValue("hostname", out object? host) ? $", servers on {host}" : "";
        string caption = $"{axis.Name}{(logX ? " (log scale)" : "")}\n{m.Description ?? "rpycbench sweep"}; {m.Machine.GetValueOrDefault("hostname")}{remote}, {m.StartTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)} UTC";
        plot.XLabel(caption);
        plot.Axes.Bottom.Label.FontSize = 13;
        plot.Axes.Bottom.Label.Bold = false;
        var palette = new ScottPlot.Palettes.Category10();
        double top = yAxis.Base;
        for (int i = 0; i < lines.Length; i++)
        {
            Color color = palette.GetColor(i);
            foreach (IReadOnlyList<(int X, double Y)> segment in lines[i].Segments)
            {
                var scatter = plot.Add.Scatter(segment.Select(p => X(p.X)).ToArray(), segment.Select(p => yAxis.Map(p.Y)).ToArray());
                scatter.Color = color;
                scatter.LineWidth = 2;
                scatter.MarkerSize = 8;
                top = Math.Max(top, segment.Max(p => yAxis.Map(p.Y)));
            }
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = lines[i].Target, LineColor = color, LineWidth = 2, MarkerShape = MarkerShape.FilledCircle, MarkerColor = color, MarkerSize = 8 });
            if (lines[i].Failed.Count > 0)
            {
                // On the axis's floor, where no measured value sits.
                var markers = plot.Add.Markers(lines[i].Failed.Select(X).ToArray(), lines[i].Failed.Select(_ => yAxis.Base).ToArray(), MarkerShape.Eks, 12, color);
                markers.MarkerLineWidth = 2;
                plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"{lines[i].Target} failed", MarkerShape = MarkerShape.Eks, MarkerColor = color, MarkerSize = 12, MarkerLineWidth = 2 });
            }
        }
        plot.Axes.Bottom.SetTicks(xs.Select(X).ToArray(), xs.Select(v => ParameterSweep.FormatValue(axis.Name, v)).ToArray());
        double span = X(xs[^1]) - X(xs[0]);
        double pad = span > 0 ? span * 0.05 : 0.5;
        plot.Axes.SetLimitsX(X(xs[0]) - pad, X(xs[^1]) + pad);
        yAxis.Apply(plot, top);
        plot.YLabel(yAxis.Log ? $"{figure.Unit}, log scale" : figure.Unit);
        plot.ShowLegend(Alignment.UpperLeft);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    // Each target's points of one figure against the axis, in order, broken at every point without
    // the figure (see SweepLine); a target without the figure anywhere has no line.
    internal static IReadOnlyList<SweepLine<int>> Lines(SweepAxis axis, IReadOnlyList<SweepPoint> points, SweepFigure figure)
    {
        var lines = new List<SweepLine<int>>();
        foreach (string name in points.SelectMany(p => p.Report.Targets.Select(t => t.Name)).Distinct())
        {
            SweepLine<int> line = SweepLine<int>.Of(name, points.Select(point =>
            {
                TargetReport? report = point.Report.Targets.FirstOrDefault(t => t.Name == name);
                return (point.Parameters[axis.Name], report is null ? null : figure.Value(report), report is { Status: TargetStatus.Failed });
            }));
            if (line.Segments.Count > 0)
            {
                lines.Add(line);
            }
        }
        return lines;
    }
}
