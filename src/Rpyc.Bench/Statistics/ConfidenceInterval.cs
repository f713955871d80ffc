namespace Rpyc.Bench;

/// <summary>A closed interval <c>[Low, High]</c>, e.g. a 95 % confidence interval.</summary>
/// <param name="Low">The lower bound.</param>
/// <param name="High">The upper bound.</param>
public readonly record struct Interval(double Low, double High)
{
    /// <summary>Half the interval's width: a figure is printed as <c>median ± HalfWidth</c> (the interval is centred on the runs' mean).</summary>
    public double HalfWidth => (High - Low) / 2;

    /// <summary>Whether two intervals share a point.</summary>
    /// <param name="other">The other interval.</param>
    /// <returns><c>true</c> when they overlap.</returns>
    public bool Overlaps(Interval other) => Low <= other.High && other.Low <= High;
}

/// <summary>
/// The 95 % confidence interval of the mean of a few run-level values (one figure per run):
/// <c>mean ± t(0.975, n − 1) · s / √n</c>, Student's t with the sample standard deviation. Runs
/// are few (3 to 10), so the t quantile matters: with 3 runs it is 4.30, not 1.96, and the interval
/// is honest about how little three runs say. Written by hand because it is eight lines and a
/// table; a statistics package would be the only use of its dependency.
/// </summary>
public static class ConfidenceInterval
{
    // t(0.975, df) for df = 1..30; beyond, the Cornish-Fisher expansion below.
    private static readonly double[] s_t975 =
    [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
        2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
        2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];

    /// <summary>Student's t quantile at 0.975 for <paramref name="degreesOfFreedom"/>.</summary>
    /// <param name="degreesOfFreedom">At least 1.</param>
    /// <returns>The quantile.</returns>
    public static double T975(int degreesOfFreedom)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(degreesOfFreedom, 1);
        if (degreesOfFreedom <= s_t975.Length)
        {
            return s_t975[degreesOfFreedom - 1];
        }
        // The normal quantile corrected for df (Abramowitz & Stegun 26.7.5, two terms): within 0.01 %
        // of the exact t from df 31 (2.0395 against 2.0395); 1.96 alone was 4 % low there.
        const double Z = 1.959964;
        double df = degreesOfFreedom;
        return Z + ((Z * Z * Z) + Z) / (4 * df) + ((5 * Math.Pow(Z, 5)) + (16 * Z * Z * Z) + (3 * Z)) / (96 * df * df);
    }

    /// <summary>
    /// The 95 % interval of the mean of <paramref name="values"/>, values that are not finite left
    /// out; <c>null</c> with fewer than two finite values. Symmetric, never cut at zero: with a few
    /// scattered runs the interval of a time reaches below zero, which says how little they agree
    /// (it once was cut there, and the console's <c>± half-width</c> then matched neither bound).
    /// </summary>
    /// <param name="values">One value per run.</param>
    /// <returns>The interval, or <c>null</c>.</returns>
    public static Interval? Of95(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var moments = new Moments();
        foreach (double v in values)
        {
            if (double.IsFinite(v))
            {
                moments.Add(v);
            }
        }
        if (moments.Count < 2)
        {
            return null;
        }
        double half = T975((int)moments.Count - 1) * moments.SampleStdDev / Math.Sqrt(moments.Count);
        return new Interval(moments.Mean - half, moments.Mean + half);
    }

    /// <summary>The median of the finite values (the mean of the middle two for an even count), or NaN.</summary>
    /// <param name="values">The values.</param>
    /// <returns>The median.</returns>
    public static double Median(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        double[] sorted = values.Where(double.IsFinite).Order().ToArray();
        return sorted.Length == 0 ? double.NaN
            : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2]
            : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
