namespace Rpyc.Bench;

public sealed partial class Statistics
{
    /// <summary>The figures that carry a confidence interval across runs, in report order.</summary>
    public static IReadOnlyList<string> IntervalFigures { get; } = ["mean", "p50", "p90", "p99"];

    /// <summary>Each run's statistics, in run order, when these statistics combine several runs; otherwise <c>null</c>.</summary>
    public IReadOnlyList<Statistics>? Runs { get; private init; }

    /// <summary>
    /// With <see cref="Runs"/>: the 95 % confidence interval of each of <see cref="IntervalFigures"/>
    /// across the runs (see <see cref="ConfidenceInterval"/>); a figure with fewer than two finite
    /// run values has none. Otherwise <c>null</c>.
    /// </summary>
    public IReadOnlyDictionary<string, Interval>? Ci95 { get; private init; }

    /// <summary>
    /// Combines the statistics of several runs of one figure: count is the total, min and max the
    /// extremes, and every other value (mean, stdev, each percentile) the median of the runs' values,
    /// so that one unlucky run moves the headline figure less than a mean would. Runs without
    /// samples are kept in <see cref="Runs"/> but do not vote.
    /// </summary>
    /// <param name="runs">One statistics object per run, in run order.</param>
    /// <returns>The combined statistics, with <see cref="Runs"/> and <see cref="Ci95"/>.</returns>
    /// <example>
    /// <code>
    /// Statistics all = Statistics.AcrossRuns([run1.Latency, run2.Latency, run3.Latency]);
    /// Console.WriteLine($"{all.P50 * 1e6:F1} ± {all.Ci95!["p50"].HalfWidth * 1e6:F1} µs");
    /// </code>
    /// </example>
    public static Statistics AcrossRuns(IReadOnlyList<Statistics> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        Statistics[] voting = runs.Where(r => r.Count > 0).ToArray();
        if (voting.Length == 0)
        {
            return new Statistics(0, double.NaN, double.NaN, double.NaN, double.NaN, new Percentiles(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN))
            {
                Runs = runs.ToArray(),
                Ci95 = new Dictionary<string, Interval>(),
            };
        }
        double Median(Func<Statistics, double> figure) => ConfidenceInterval.Median(voting.Select(figure));
        var intervals = new Dictionary<string, Interval>(StringComparer.Ordinal);
        foreach (string name in IntervalFigures)
        {
            if (ConfidenceInterval.Of95(voting.Select(r => r.Figure(name))) is Interval ci)
            {
                intervals[name] = ci;
            }
        }
        return new Statistics(
            voting.Sum(r => r.Count),
            voting.Min(r => r.Min),
            voting.Max(r => r.Max),
            Median(r => r.Mean),
            Median(r => r.StdDev),
            new Percentiles(Median(r => r.P50), Median(r => r.P90), Median(r => r.P95), Median(r => r.P99), Median(r => r.P999)))
        {
            Runs = runs.ToArray(),
            Ci95 = intervals,
        };
    }

    /// <summary>A figure by its report name: <c>mean</c>, <c>median</c>, <c>min</c>, <c>max</c>, <c>stdev</c>, <c>p50</c> … <c>p999</c>.</summary>
    /// <param name="name">The figure's name.</param>
    /// <returns>Its value.</returns>
    /// <exception cref="ArgumentException">An unknown name.</exception>
    public double Figure(string name) => name switch
    {
        "mean" => Mean,
        "median" or "p50" => P50,
        "min" => Min,
        "max" => Max,
        "stdev" => StdDev,
        "p90" => P90,
        "p95" => P95,
        "p99" => P99,
        "p999" => P999,
        _ => throw new ArgumentException($"Unknown figure '{name}'.", nameof(name)),
    };
}
