namespace Rpyc.Bench.Tests;

public class PlotTests
{
    [Theory]
    [InlineData(new[] { 30.0, 40.0, 250.0 }, false)]
    [InlineData(new[] { 30.0, 2800.0 }, true)]
    [InlineData(new[] { 2.0, 2000.0 }, true)]
    [InlineData(new double[0], false)]
    public void ValueAxis_LogOnlyBeyondADecade(double[] values, bool log) =>
        Assert.Equal(log, PlotReporter.ValueAxis.For(values).Log);

    [Fact]
    public void ValueAxis_Log_StartsAtTheDecadeBelowTheSmallestValue()
    {
        PlotReporter.ValueAxis axis = PlotReporter.ValueAxis.For([31, 2800]);
        Assert.Equal(1, axis.Base);
        Assert.Equal(10, axis.Floor);
        Assert.Equal(Math.Log10(2800), axis.Map(2800), 9);
    }

    // The smallest bar is never a hairline: 1,007 req/s (Flask, sustained) on an axis from 1,000 looked like no bar.
    [Theory]
    [InlineData(1007, 100)]
    [InlineData(1499, 100)]
    [InlineData(1501, 1000)]
    public void ValueAxis_Log_SmallestValueNearADecade_StartsADecadeLower(double smallest, double floor) =>
        Assert.Equal(floor, PlotReporter.ValueAxis.For([smallest, 60_000]).Floor, 9);

    [Fact]
    public void ValueAxis_Linear_StartsAtZero()
    {
        PlotReporter.ValueAxis axis = PlotReporter.ValueAxis.For([2, 3]);
        Assert.Equal(0, axis.Base);
        Assert.Equal(2.5, axis.Map(2.5));
    }

    [Fact]
    public void Render_EveryPlot_IsAPngWithACaption()
    {
        BenchmarkReport report = HtmlReportTests.ThreeTargets();
        IReadOnlyList<(string FileName, string Title, byte[] Png)> plots = PlotReporter.Render(report);
        Assert.Equal(["latency_percentiles.png", "connection_time.png", "bandwidth_upload.png", "bandwidth_download.png", "concurrent_throughput.png"], plots.Select(p => p.FileName));
        Assert.All(plots, p => Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], p.Png[..4]));
        string caption = PlotReporter.Caption(report.Metadata);
        Assert.Contains("host, cpu (2 CPUs), 2025-01-02 03:04 UTC, .NET 10.0.0", caption, StringComparison.Ordinal);
        Assert.Contains("num_requests=4", caption, StringComparison.Ordinal);
    }
}
