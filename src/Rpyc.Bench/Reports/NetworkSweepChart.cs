using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace Rpyc.Bench;

/// <summary>
/// Draws a network sweep: for the ping and for each scenario, time per operation (p50) against the
/// added round-trip time, both axes logarithmic, one line per target and variant. The RTT-0 point
/// (loopback, no relay) sits one decade left of the smallest RTT swept, labelled 0. Each crossover
/// found between the points (see <see cref="NetworkSweepCrossover"/>) is a dashed vertical line
/// labelled with the pair, and with the points it was interpolated across when a point between the
/// two around it has no time (<see cref="NetworkSweepCrossover.Across"/>). A line breaks at a point without its time (never drawn across an RTT
/// not measured), and a point where the target failed is marked with an × on the floor of the
/// value axis. A line of slope 1 on this chart is a time made of round trips; a flat
/// line is a time the network does not touch.
/// </summary>
public static class NetworkSweepChart
{
    private const int Width = 1100;
    private const int Height = 700;

    /// <summary>Draws the charts in memory: <c>sweep_ping.png</c>, then <c>sweep_SCENARIO.png</c> per scenario measured.</summary>
    /// <param name="sweep">The sweep.</param>
    /// <param name="caption">The caption under each chart (see <see cref="PlotReporter.Caption"/>).</param>
    /// <returns>Each chart's file name, title and PNG bytes.</returns>
    public static IReadOnlyList<(string FileName, string Title, byte[] Png)> Render(NetworkSweepReport sweep, string caption)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(caption);
        IReadOnlyList<(string Target, string Key)> series = sweep.Series();
        IReadOnlyList<NetworkSweepCrossover> crossovers = sweep.Crossovers();
        var charts = new List<(string, string, byte[])>();
        foreach (string scenario in (string[])[NetworkSweep.PingKey, .. DecisionScenario.Names])
        {
            (string Target, string Key)[] lines = series.Where(s => ScenarioOf(s.Key) == scenario).ToArray();
            if (lines.Length == 0)
            {
                continue;
            }
            string title = scenario == NetworkSweep.PingKey ? "Network sweep: ping time against RTT" : $"Network sweep: {scenario}, time per operation against RTT";
            charts.Add(($"sweep_{scenario}.png", title, Draw(sweep, title, caption, lines, crossovers.Where(c => c.Scenario == scenario && c.Kind is NetworkSweepCrossoverKind.Within or NetworkSweepCrossoverKind.AtOrBelowFirst).ToArray())));
        }
        return charts;
    }

    /// <summary>Where a point sits on the chart's x axis (log10 seconds): RTT 0 one decade left of the smallest RTT swept.</summary>
    /// <param name="sweep">The sweep.</param>
    /// <param name="roundTripSeconds">The RTT.</param>
    /// <returns>The x coordinate.</returns>
    public static double X(NetworkSweepReport sweep, double roundTripSeconds)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        if (roundTripSeconds > 0)
        {
            return Math.Log10(roundTripSeconds);
        }
        double smallest = sweep.Points.Select(p => p.RoundTrip.TotalSeconds).Where(r => r > 0).DefaultIfEmpty(1e-3).Min();
        return Math.Log10(smallest) - 1;
    }

    // One series on the chart, x as drawn and y in seconds: broken at every point without a time, a
    // failure where the target's result there holds an error (one the run's interruption left is not).
    internal static SweepLine<double> Line(NetworkSweepReport sweep, string target, string key) =>
        SweepLine<double>.Of(target, sweep.Points.Select(p =>
        {
            NetworkSweepTargetResult? result = p.Targets.FirstOrDefault(t => t.Target == target);
            return (X(sweep, p.RoundTrip.TotalSeconds), result?.P50(key), result is { Error: { } error } && error != NetworkSweep.Interrupted);
        }));

    // A crossover's dashed line: at its RTT (and the points it was interpolated across, as the
    // crossover table gives it), or already at the first point with both times.
    internal static string Legend(NetworkSweepReport sweep, NetworkSweepCrossover c) =>
        $"{c.RpycTarget} {c.RpycKey} {NetworkSweep.CrossoverFactor.ToString("0", CultureInfo.InvariantCulture)}x {c.RestTarget} "
        + (c.Kind == NetworkSweepCrossoverKind.Within ? $"at {NetworkSweepTables.Crossover(c, sweep)}" : $"already at {sweep.Points[NetworkSweepTables.MeasuredPoints(c).DefaultIfEmpty(0).First()].Key}");

    private static string ScenarioOf(string key) =>
        key == NetworkSweep.PingKey ? key : DecisionScenario.All.First(v => v.Key == key).Scenario;

    private static byte[] Draw(NetworkSweepReport sweep, string title, string caption, (string Target, string Key)[] lines, NetworkSweepCrossover[] crossovers)
    {
        var plot = new Plot();
        plot.Title(title);
        plot.Axes.Title.Label.FontSize = 18;
        plot.XLabel("added round-trip time (log scale; 0 = loopback, no relay)\n" + caption);
        plot.Axes.Bottom.Label.FontSize = 11;
        plot.Axes.Bottom.Label.Bold = false;
        plot.YLabel("time per operation, p50 (ms, log scale)");
        plot.Legend.FontSize = 12;
        var palette = new ScottPlot.Palettes.Category10();
        double[] xs = sweep.Points.Select(p => X(sweep, p.RoundTrip.TotalSeconds)).ToArray();
        double low = double.PositiveInfinity;
        double high = double.NegativeInfinity;
        var failures = new List<(double[] X, Color Color, string Label)>();
        for (int i = 0; i < lines.Length; i++)
        {
            SweepLine<double> line = Line(sweep, lines[i].Target, lines[i].Key);
            Color color = palette.GetColor(i);
            string label = $"{lines[i].Target} {lines[i].Key}";
            for (int s = 0; s < line.Segments.Count; s++)
            {
                double[] y = line.Segments[s].Select(p => Math.Log10(p.Y * 1e3)).ToArray();
                low = Math.Min(low, y.Min());
                high = Math.Max(high, y.Max());
                var scatter = plot.Add.Scatter(line.Segments[s].Select(p => p.X).ToArray(), y);
                scatter.LegendText = s == 0 ? label : "";
                scatter.Color = color;
                scatter.LineWidth = 2;
                scatter.MarkerSize = 7;
                // The idiomatic variant (netref style, REST's one request) solid; by-value variants dashed.
                if (lines[i].Key.EndsWith("_by_value", StringComparison.Ordinal))
                {
                    scatter.LinePattern = LinePattern.Dashed;
                }
            }
            if (line.Failed.Count > 0)
            {
                failures.Add(([.. line.Failed], color, $"{label} failed"));
            }
        }
        foreach ((double[] x, Color color, string label) in double.IsFinite(low) ? failures : [])
        {
            // On the value axis's floor, where no measured time sits, as the sweep plots mark a failure.
            var markers = plot.Add.Markers(x, x.Select(_ => Math.Floor(low)).ToArray(), MarkerShape.Eks, 12, color);
            markers.MarkerLineWidth = 2;
            markers.LegendText = label;
        }
        foreach (NetworkSweepCrossover c in crossovers)
        {
            var line = plot.Add.VerticalLine(X(sweep, c.RoundTripSeconds!.Value));
            line.LinePattern = LinePattern.Dashed;
            line.Color = Colors.Red;
            line.LineWidth = 1.5f;
            line.LegendText = Legend(sweep, c);
        }
        plot.Axes.Bottom.SetTicks(xs, sweep.Points.Select(p => p.Key).ToArray());
        plot.Axes.SetLimitsX(xs[0] - 0.3, xs[^1] + 0.3);
        if (double.IsFinite(low))
        {
            plot.Axes.Left.TickGenerator = new NumericAutomatic
            {
                MinorTickGenerator = new LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = y => Label(Math.Pow(10, y)),
            };
            plot.Axes.SetLimitsY(Math.Floor(low), Math.Ceiling(high + 0.1));
        }
        plot.ShowLegend(Alignment.UpperLeft);
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }

    private static string Label(double ms) =>
        ms >= 1 ? ms.ToString("N0", CultureInfo.InvariantCulture) : ms.ToString("0.###", CultureInfo.InvariantCulture);
}
