namespace Rpyc.Bench.Tests;

public class LatencyRecorderTests
{
    private static long Ticks(double seconds) => Clock.FromSeconds(seconds);

    [Fact]
    public void ToStatistics_Empty_IsEmpty()
    {
        var recorder = new LatencyRecorder();
        recorder.RecordFailure();
        Statistics s = recorder.ToStatistics();
        Assert.Equal(0, s.Count);
        Assert.Equal(1, recorder.Failures);
        Assert.True(double.IsNaN(s.Mean));
    }

    [Fact]
    public void ToStatistics_Histogram_ExactMomentsAndPercentilesWithinThreeDigits()
    {
        var recorder = new LatencyRecorder();
        double[] seconds = Enumerable.Range(1, 1000).Select(i => i * 1e-6).ToArray();
        foreach (double s in seconds)
        {
            recorder.Record(Ticks(s));
        }
        Statistics exact = Statistics.FromSamples(seconds);
        Statistics hist = recorder.ToStatistics();
        Assert.Equal(1000, hist.Count);
        Assert.Equal(exact.Mean, hist.Mean, 9);
        Assert.Equal(exact.StdDev, hist.StdDev, 9);
        Assert.Equal(exact.Min, hist.Min, 9);
        Assert.Equal(exact.Max, hist.Max, 9);
        Assert.InRange(hist.P50, exact.P50 * 0.998, exact.P50 * 1.002);
        Assert.InRange(hist.P99, exact.P99 * 0.998, exact.P99 * 1.002);
    }

    [Fact]
    public void ToStatistics_KeepSamples_ExactPercentiles()
    {
        var recorder = new LatencyRecorder(keepSamples: true);
        recorder.Record(Ticks(0.001));
        recorder.Record(Ticks(0.003));
        Statistics s = recorder.ToStatistics();
        Assert.Equal(0.002, s.Median, 9);
        Assert.Equal(2, recorder.SampleTicks!.Count);
    }

    [Fact]
    public void Add_TwoRecorders_SameAsOne()
    {
        var a = new LatencyRecorder();
        var b = new LatencyRecorder();
        var all = new LatencyRecorder();
        for (int i = 1; i <= 100; i++)
        {
            (i % 3 == 0 ? a : b).Record(Ticks(i * 1e-5));
            all.Record(Ticks(i * 1e-5));
        }
        a.RecordFailure();
        b.Add(a);
        Statistics merged = b.ToStatistics();
        Statistics expected = all.ToStatistics();
        Assert.Equal(expected.Count, merged.Count);
        Assert.Equal(1, b.Failures);
        Assert.Equal(expected.Mean, merged.Mean, 12);
        Assert.Equal(expected.StdDev, merged.StdDev, 12);
        Assert.Equal(expected.Min, merged.Min, 12);
        Assert.Equal(expected.Max, merged.Max, 12);
        Assert.Equal(expected.P90, merged.P90, 12);
    }
}
