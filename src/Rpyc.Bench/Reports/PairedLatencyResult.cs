namespace Rpyc.Bench;

/// <summary>
/// One operation's latency measured beside a reference's in alternating blocks on two warm
/// connections (<see cref="PairedLatencyBenchmark"/>): both sides' samples come from the same
/// stretches of time, so their ratio does not carry the machine's drift between two phases
/// measured seconds or minutes apart.
/// </summary>
public sealed class PairedLatencyResult
{
    /// <summary>Durations of the measured operation's requests in the blocks, in seconds.</summary>
    public required Statistics Subject { get; init; }

    /// <summary>Durations of the reference's requests in the blocks between them, in seconds.</summary>
    public required Statistics Reference { get; init; }

    /// <summary>
    /// <see cref="Subject"/>'s p50 ÷ <see cref="Reference"/>'s p50; over runs, the median of the
    /// runs' ratios (not the ratio of the medians: each run's pair shares its time slices).
    /// </summary>
    public required double Ratio { get; init; }

    /// <summary>Blocks of each side measured (a block is <see cref="BlockSize"/> requests on one connection).</summary>
    public required int Blocks { get; init; }

    /// <summary>Measured requests per block; each block starts with one more, not measured (see <see cref="PairedLatencyBenchmark"/>).</summary>
    public required int BlockSize { get; init; }

    /// <summary>Wall time of the measured blocks of both sides, in seconds.</summary>
    public required double Seconds { get; init; }

    /// <summary>Failed requests of either side; a pairing with failures is reported but not compared.</summary>
    public long Failures { get; init; }

    /// <summary>The first failure's message, or <c>null</c>.</summary>
    public string? FirstError { get; init; }

    /// <summary>Each run's pairing, in run order, when this combines runs.</summary>
    public IReadOnlyList<PairedLatencyResult>? Runs { get; init; }

    /// <summary>The 95 % interval of <see cref="Ratio"/> over the runs, when this combines two or more.</summary>
    public Interval? RatioCi95 { get; init; }

    /// <summary>Combines runs: statistics by <see cref="Statistics.AcrossRuns"/>, the ratio as the median of the runs' ratios with its interval, counts and seconds added up.</summary>
    /// <param name="runs">Each run's pairing, in run order.</param>
    /// <returns>The combined pairing; one run unchanged; <c>null</c> for none.</returns>
    public static PairedLatencyResult? AcrossRuns(IReadOnlyList<PairedLatencyResult> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count <= 1)
        {
            return runs.Count == 0 ? null : runs[0];
        }
        double[] ratios = runs.Where(r => r.Failures == 0).Select(r => r.Ratio).ToArray();
        return new PairedLatencyResult
        {
            Subject = Statistics.AcrossRuns(runs.Select(r => r.Subject).ToArray()),
            Reference = Statistics.AcrossRuns(runs.Select(r => r.Reference).ToArray()),
            Ratio = ConfidenceInterval.Median(ratios),
            Blocks = runs.Sum(r => r.Blocks),
            BlockSize = runs[0].BlockSize,
            Seconds = runs.Sum(r => r.Seconds),
            Failures = runs.Sum(r => r.Failures),
            FirstError = runs.Select(r => r.FirstError).FirstOrDefault(e => e is not null),
            Runs = runs,
            RatioCi95 = ConfidenceInterval.Of95(ratios),
        };
    }
}
