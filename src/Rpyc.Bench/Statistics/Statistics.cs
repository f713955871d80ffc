namespace Rpyc.Bench;

/// <summary>
/// Summary statistics of one set of durations (or rates), computed once and immutable. Values are
/// in the unit of the samples: seconds for latencies. With no samples every value is
/// <see cref="double.NaN"/>; with one sample the standard deviation is 0.
/// </summary>
/// <remarks>
/// Percentiles of raw samples interpolate linearly between closest ranks (numpy's default);
/// percentiles of a histogram are HdrHistogram's values at 3 significant digits. Count, min, max,
/// mean and the sample standard deviation (n − 1) are always exact. Statistics over several runs
/// (<see cref="AcrossRuns"/>) keep each run's statistics in <see cref="Runs"/>.
/// </remarks>
public sealed partial class Statistics
{
    /// <summary>The statistics of no samples.</summary>
    public static Statistics Empty { get; } = new(0, double.NaN, double.NaN, double.NaN, double.NaN, new Percentiles(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN));

    internal Statistics(long count, double min, double max, double mean, double stdDev, Percentiles percentiles)
    {
        Count = count;
        Min = min;
        Max = max;
        Mean = mean;
        StdDev = stdDev;
        P50 = percentiles.P50;
        P90 = percentiles.P90;
        P95 = percentiles.P95;
        P99 = percentiles.P99;
        P999 = percentiles.P999;
    }

    /// <summary>Number of samples.</summary>
    public long Count { get; }

    /// <summary>Smallest sample.</summary>
    public double Min { get; }

    /// <summary>Largest sample.</summary>
    public double Max { get; }

    /// <summary>Arithmetic mean.</summary>
    public double Mean { get; }

    /// <summary>Median: the same value as <see cref="P50"/>.</summary>
    public double Median => P50;

    /// <summary>Sample standard deviation (divides by n − 1); 0 for one sample.</summary>
    public double StdDev { get; }

    /// <summary>50th percentile.</summary>
    public double P50 { get; }

    /// <summary>90th percentile.</summary>
    public double P90 { get; }

    /// <summary>95th percentile.</summary>
    public double P95 { get; }

    /// <summary>99th percentile.</summary>
    public double P99 { get; }

    /// <summary>99.9th percentile.</summary>
    public double P999 { get; }

    /// <summary>Computes exact statistics of raw samples.</summary>
    /// <param name="samples">The samples, in any order.</param>
    /// <returns>The statistics.</returns>
    /// <example>
    /// <code>
    /// Statistics s = Statistics.FromSamples([0.001, 0.002, 0.003]);
    /// // s.Mean == 0.002, s.Median == 0.002, s.StdDev == 0.001
    /// </code>
    /// </example>
    public static Statistics FromSamples(IEnumerable<double> samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        double[] sorted = samples.ToArray();
        if (sorted.Length == 0)
        {
            return Empty;
        }
        Array.Sort(sorted);
        var moments = new Moments();
        foreach (double x in sorted)
        {
            moments.Add(x);
        }
        return new Statistics(sorted.Length, sorted[0], sorted[^1], moments.Mean, moments.SampleStdDev, new Percentiles(
            Percentile(sorted, 50), Percentile(sorted, 90), Percentile(sorted, 95), Percentile(sorted, 99), Percentile(sorted, 99.9)));
    }

    /// <summary>The <paramref name="percent"/>th percentile of sorted samples, interpolated linearly between closest ranks.</summary>
    /// <param name="sorted">Samples in ascending order.</param>
    /// <param name="percent">0 to 100.</param>
    /// <returns>The percentile, or NaN with no samples.</returns>
    public static double Percentile(ReadOnlySpan<double> sorted, double percent)
    {
        if (sorted.IsEmpty)
        {
            return double.NaN;
        }
        double rank = Math.Clamp(percent, 0, 100) / 100 * (sorted.Length - 1);
        int lower = (int)Math.Floor(rank);
        int upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + ((rank - lower) * (sorted[upper] - sorted[lower]));
    }

    /// <inheritdoc />
    public override string ToString() =>
        FormattableString.Invariant($"n={Count} mean={Mean:G6} sd={StdDev:G6} min={Min:G6} p50={P50:G6} p99={P99:G6} max={Max:G6}");

    internal readonly record struct Percentiles(double P50, double P90, double P95, double P99, double P999);
}

/// <summary>Running count, mean and sum of squared deviations (Welford), mergeable (Chan et al.).</summary>
internal struct Moments
{
    public long Count;
    public double Mean;
    public double M2;

    public readonly double SampleStdDev => Count switch
    {
        0 => double.NaN,
        1 => 0,
        _ => Math.Sqrt(M2 / (Count - 1)),
    };

    public void Add(double x)
    {
        Count++;
        double delta = x - Mean;
        Mean += delta / Count;
        M2 += delta * (x - Mean);
    }

    public void Add(in Moments other)
    {
        if (other.Count == 0)
        {
            return;
        }
        if (Count == 0)
        {
            this = other;
            return;
        }
        long n = Count + other.Count;
        double delta = other.Mean - Mean;
        Mean += delta * other.Count / n;
        M2 += other.M2 + (delta * delta * Count * other.Count / n);
        Count = n;
    }
}
