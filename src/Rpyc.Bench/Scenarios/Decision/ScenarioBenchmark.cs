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
            if (r.Failures == 0 && !cancellationToken.IsCancellationRequested)
            {
                long before = client.Bytes;
                try
                {
                    for (int i = 0; i < BytesSampleOps; i++)
                    {
                        client.Run(variant);
                    }
                    bytesPerOp = (double)(client.Bytes - before) / BytesSampleOps;
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
