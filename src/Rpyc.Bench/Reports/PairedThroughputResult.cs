namespace Rpyc.Bench;

/// <summary>
/// Throughput of N concurrent clients measured beside a reference's N in alternating time slices
/// (<see cref="PairedConcurrentBenchmark"/>): both sides' figures come from the same stretch of
/// time, so their ratio does not carry the machine's drift between two phases measured seconds or
/// minutes apart.
/// </summary>
public sealed class PairedThroughputResult
{
    /// <summary>Successful requests per second of the measured side's clients over its slices.</summary>
    public required double Subject { get; init; }

    /// <summary>Successful requests per second of the reference's clients over the slices between.</summary>
    public required double Reference { get; init; }

    /// <summary>
    /// <see cref="Subject"/> ÷ <see cref="Reference"/>: below 1, the measured side serves fewer
    /// requests a second. Over runs, the median of the runs' ratios (each run's pair shares its time slices).
    /// </summary>
    public required double Ratio { get; init; }

    /// <summary>Clients on each side: each one thread holding one connection to either side.</summary>
    public required int Clients { get; init; }

    /// <summary>Slices of each side measured.</summary>
    public required int Slices { get; init; }

    /// <summary>The length of one slice, in seconds: the clients' deadline (the slice ends when the last one's request in flight does).</summary>
    public required double SliceSeconds { get; init; }

    /// <summary>Wall time of the measured slices of both sides, in seconds.</summary>
    public required double Seconds { get; init; }

    /// <summary>Failed requests of either side; a pairing with failures is reported but not compared.</summary>
    public long Failures { get; init; }

    /// <summary>The first failure's message, or <c>null</c>.</summary>
    public string? FirstError { get; init; }

    /// <summary>Each run's pairing, in run order, when this combines runs.</summary>
    public IReadOnlyList<PairedThroughputResult>? Runs { get; init; }

    /// <summary>The 95 % interval of <see cref="Ratio"/> over the runs, when this combines two or more.</summary>
    public Interval? RatioCi95 { get; init; }

    /// <summary>Combines runs: each side's rate and the ratio as the medians of the runs' (the ratio with its interval), counts and seconds added up.</summary>
    /// <param name="runs">Each run's pairing, in run order.</param>
    /// <returns>The combined pairing; one run unchanged; <c>null</c> for none.</returns>
    public static PairedThroughputResult? AcrossRuns(IReadOnlyList<PairedThroughputResult> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count <= 1)
        {
            return runs.Count == 0 ? null : runs[0];
        }
        // A run with failures is reported, not compared (as in PairedLatencyResult).
        PairedThroughputResult[] clean = runs.Where(r => r.Failures == 0).ToArray();
        double[] ratios = clean.Select(r => r.Ratio).ToArray();
        return new PairedThroughputResult
        {
            Subject = ConfidenceInterval.Median(clean.Select(r => r.Subject).ToArray()),
            Reference = ConfidenceInterval.Median(clean.Select(r => r.Reference).ToArray()),
            Ratio = ConfidenceInterval.Median(ratios),
            Clients = runs[0].Clients,
            Slices = runs.Sum(r => r.Slices),
            SliceSeconds = runs[0].SliceSeconds,
            Seconds = runs.Sum(r => r.Seconds),
            Failures = runs.Sum(r => r.Failures),
            FirstError = runs.Select(r => r.FirstError).FirstOrDefault(e => e is not null),
            Runs = runs,
            RatioCi95 = ConfidenceInterval.Of95(ratios),
        };
    }
}
