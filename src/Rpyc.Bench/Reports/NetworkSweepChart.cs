using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;

namespace Rpyc.Bench;

/// <summary>
/// Draws a network sweep: for the ping and for each scenario, time per operation (p50) against the
/// added round-trip time, both axes logarithmic, one line per target and variant. The RTT-0 point
/// (loopback, no relay) sits one decade left of the smallest RTT swept, labelled 0. Each crossover
/// found between the points (see <see cref="NetworkSweepCrossover"/>) is a dashed vertical line
/// labelled with the pair. A line of slope 1 on this chart is a time made of round trips; a flat
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
        for (int i = 0; i < lines.Length; i++)
        {
            IReadOnlyList<double?> values = sweep.Values(lines[i].Target, lines[i].Key);
            double[] x = xs.Where((_, p) => values[p] is > 0).ToArray();
            double[] y = values.Where(v => v is > 0).Select(v => Math.Log10(v!.Value * 1e3)).ToArray();
            if (x.Length == 0)
            {
                continue;
            }
            low = Math.Min(low, y.Min());
            high = Math.Max(high, y.Max());
            var scatter = plot.Add.Scatter(x, y);
            scatter.LegendText = $"{lines[i].Target} {lines[i].Key}";
            scatter.Color = palette.GetColor(i);
            scatter.LineWidth = 2;
            scatter.MarkerSize = 7;
            // The idiomatic variant (netref style, REST's one request) solid; by-value variants dashed.
            if (lines[i].Key.EndsWith("_by_value", StringComparison.Ordinal))
            {
                scatter.LinePattern = LinePattern.Dashed;
            }
        }
        foreach (NetworkSweepCrossover c in crossovers)
        {
            var line = plot.Add.VerticalLine(X(sweep, c.RoundTripSeconds!.Value));
            line.LinePattern = LinePattern.Dashed;
            line.Color = Colors.Red;
            line.LineWidth = 1.5f;
            line.LegendText = $"{c.RpycTarget} {c.RpycKey} {NetworkSweep.CrossoverFactor.ToString("0", CultureInfo.InvariantCulture)}x {c.RestTarget} {(c.Kind == NetworkSweepCrossoverKind.Within ? $"at {NetworkSweepTables.Time(c.RoundTripSeconds.Value)}" : $"already at {sweep.Points[NetworkSweepTables.MeasuredPoints(c).DefaultIfEmpty(0).First()].Key}")}";
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
