using System.Diagnostics;

namespace Rpyc.Figures.Statistics;

/// <summary>Summary of one sample set, computed once. Percentiles are nearest-rank on the sorted samples.</summary>
internal sealed record LatencyStats(int N, double MinUs, double MeanUs, double StdDevUs, double P50Us, double P90Us, double P99Us, double MaxUs)
{
    public static LatencyStats FromTicks(ReadOnlySpan<long> ticks)
    {
        double[] micros = new double[ticks.Length];
        double perTick = 1_000_000.0 / Stopwatch.Frequency;
        for (int i = 0; i < ticks.Length; i++)
        {
            micros[i] = ticks[i] * perTick;
        }
        return FromMicroseconds(micros);
    }

    public static LatencyStats FromMicroseconds(double[] samples)
    {
        if (samples.Length == 0)
        {
            return new LatencyStats(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        }
        double[] sorted = (double[])samples.Clone();
        Array.Sort(sorted);
        double sum = 0;
        foreach (double x in sorted)
        {
            sum += x;
        }
        double mean = sum / sorted.Length;
        double squares = 0;
        foreach (double x in sorted)
        {
            squares += (x - mean) * (x - mean);
        }
        double stdDev = sorted.Length > 1 ? Math.Sqrt(squares / (sorted.Length - 1)) : 0;
        return new LatencyStats(
            sorted.Length,
            sorted[0],
            mean,
            stdDev,
            NearestRank(sorted, 50),
            NearestRank(sorted, 90),
            NearestRank(sorted, 99),
            sorted[^1]);
    }

    /// <summary>The smallest sample with at least <paramref name="percent"/>% of the samples at or below it.</summary>
    public static double NearestRank(ReadOnlySpan<double> sorted, double percent)
    {
        if (sorted.IsEmpty)
        {
            return double.NaN;
        }
        int rank = (int)Math.Ceiling(percent / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank, 1, sorted.Length) - 1];
    }

    /// <summary>The median of a few run-level values (the middle one, or the mean of the middle two).</summary>
    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
