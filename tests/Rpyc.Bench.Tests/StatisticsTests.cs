namespace Rpyc.Bench.Tests;

public class StatisticsTests
{
    [Fact]
    public void FromSamples_NoSamples_CountZeroAndEveryValueNaN()
    {
        Statistics s = Statistics.FromSamples([]);
        Assert.Equal(0, s.Count);
        Assert.True(double.IsNaN(s.Mean));
        Assert.True(double.IsNaN(s.Median));
        Assert.True(double.IsNaN(s.Min));
        Assert.True(double.IsNaN(s.Max));
        Assert.True(double.IsNaN(s.StdDev));
        Assert.True(double.IsNaN(s.P999));
    }

    [Fact]
    public void FromSamples_OneSample_EverythingIsThatSampleAndStdDevZero()
    {
        Statistics s = Statistics.FromSamples([0.25]);
        Assert.Equal(1, s.Count);
        Assert.Equal(0.25, s.Min);
        Assert.Equal(0.25, s.Max);
        Assert.Equal(0.25, s.Mean);
        Assert.Equal(0.25, s.Median);
        Assert.Equal(0.25, s.P99);
        Assert.Equal(0, s.StdDev);
    }

    [Fact]
    public void FromSamples_TwoSamples_InterpolatedMedianAndSampleStdDev()
    {
        Statistics s = Statistics.FromSamples([3.0, 1.0]);
        Assert.Equal(2, s.Count);
        Assert.Equal(1.0, s.Min);
        Assert.Equal(3.0, s.Max);
        Assert.Equal(2.0, s.Mean);
        Assert.Equal(2.0, s.Median);
        Assert.Equal(2.8, s.P90, 12);
        // Sample stdev divides by n - 1: sqrt(((1-2)^2 + (3-2)^2) / 1).
        Assert.Equal(Math.Sqrt(2), s.StdDev, 12);
    }

    [Fact]
    public void FromSamples_OneToTen_MatchesNumpyLinearPercentiles()
    {
        // numpy.percentile(range(1, 11), [50, 90, 95, 99, 99.9]) and statistics.stdev(range(1, 11)).
        Statistics s = Statistics.FromSamples(Enumerable.Range(1, 10).Select(i => (double)i).Reverse());
        Assert.Equal(10, s.Count);
        Assert.Equal(5.5, s.Mean, 12);
        Assert.Equal(5.5, s.P50, 12);
        Assert.Equal(9.1, s.P90, 12);
        Assert.Equal(9.55, s.P95, 12);
        Assert.Equal(9.91, s.P99, 12);
        Assert.Equal(9.991, s.P999, 12);
        Assert.Equal(3.0276503540974917, s.StdDev, 12);
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(100, 4.0)]
    [InlineData(50, 2.5)]
    [InlineData(-5, 1.0)]
    [InlineData(150, 4.0)]
    public void Percentile_SortedSamples_InterpolatesAndClamps(double percent, double expected)
    {
        Assert.Equal(expected, Statistics.Percentile([1.0, 2.0, 3.0, 4.0], percent), 12);
    }

    [Fact]
    public void Percentile_Empty_IsNaN()
    {
        Assert.True(double.IsNaN(Statistics.Percentile([], 50)));
    }
}
