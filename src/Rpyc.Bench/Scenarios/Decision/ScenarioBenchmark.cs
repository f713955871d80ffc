namespace Rpyc.Bench;

/// <summary>
/// Measures the decision scenarios a target's protocol serves (see <see cref="DecisionScenario"/>):
/// for each variant, a fresh connection, a warmup, then operations one after another with every
/// reply validated; round trips per operation from the protocol's counters over the measured
/// phase, and bytes per operation over ten more operations.
/// </summary>
/// <param name="target">The server.</param>
/// <param name="scenarios">Scenario names (see <see cref="DecisionScenario.Names"/>).</param>
/// <param name="limits">Per variant: operations, duration, warmup.</param>
public sealed class ScenarioBenchmark(BenchTarget target, IEnumerable<string> scenarios, RunLimits limits)
    : BenchmarkBase<IReadOnlyList<ScenarioResult>>("scenarios")
{
    private const int BytesSampleOps = 10;

    /// <summary>
    /// Whether bytes per operation are sampled after the measured phase (default true). The sample
    /// takes up to ten more operations and at most <see cref="RunLimits.MaxDuration"/>: at least one.
    /// A network sweep samples them once, since bytes do not depend on the round-trip time.
    /// </summary>
    public bool SampleBytes { get; init; } = true;

    /// <inheritdoc />
    protected override IReadOnlyList<ScenarioResult> Run(CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        var results = new List<ScenarioResult>();
        foreach (DecisionScenario variant in DecisionScenario.For(target.Protocol, scenarios))
        {
            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            results.Add(Measure(variant, cancellationToken));
        }
        return results;
    }

    private ScenarioResult Measure(DecisionScenario variant, CancellationToken cancellationToken)
    {
        ScenarioClient client;
        try
        {
            client = ScenarioClient.For(target.Connect());
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return new ScenarioResult
            {
                Key = variant.Key, Scenario = variant.Scenario, Style = variant.Style, Successes = 0, Failures = 1, Seconds = 0,
                Latency = Statistics.Empty, FirstError = $"connect: {Describe(ex)}",
            };
        }
        using (client)
        {
            LatencyResult r = new LatencyBenchmark($"{target.Name} {variant.Key}", () =>
            {
                client.Run(variant);
                return true;
            }, limits)
            {
                Operation = variant.Key,
                RoundTrips = () => client.RoundTrips,
            }.Execute(cancellationToken);
            double? bytesPerOp = null;
            if (SampleBytes && r.Failures == 0 && !cancellationToken.IsCancellationRequested)
            {
                long before = client.Bytes;
                long start = Clock.Now;
                try
                {
                    // Bounded by the phase's duration too: at 40 ms a remote list iteration takes 4 s.
                    int ops = 0;
                    do
                    {
                        client.Run(variant);
                        ops++;
                    }
                    while (ops < BytesSampleOps && (limits.MaxDuration == Timeout.InfiniteTimeSpan || Clock.SecondsSince(start) < limits.MaxDuration.TotalSeconds));
                    bytesPerOp = (double)(client.Bytes - before) / ops;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // The measured phase's result stands; bytes stay unknown.
                }
            }
            return new ScenarioResult
            {
                Key = variant.Key,
                Scenario = variant.Scenario,
                Style = variant.Style,
                Successes = r.Successes,
                Failures = r.Failures,
                Seconds = r.Seconds,
                Latency = r.Latency,
                RoundTripsPerOp = r.RoundTripsPerRequest,
                BytesPerOp = bytesPerOp,
                FirstError = r.FirstError,
            };
        }
    }
}
