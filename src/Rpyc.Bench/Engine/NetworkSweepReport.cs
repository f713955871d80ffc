namespace Rpyc.Bench;

/// <summary>One target at one point of a network sweep: its ping and its decision scenarios.</summary>
public sealed class NetworkSweepTargetResult
{
    /// <summary>The target's name.</summary>
    public required string Target { get; init; }

    /// <summary>Ping time per request, or <c>null</c> when not measured.</summary>
    public Statistics? Ping { get; init; }

    /// <summary>Round trips per ping, counted by the protocol's client.</summary>
    public double? PingRoundTrips { get; init; }

    /// <summary>The decision scenarios, with the model's prediction from the sweep's loopback point.</summary>
    public IReadOnlyList<ScenarioResult> Scenarios { get; init; } = [];

    /// <summary>The relay's counters and accuracy at this point (<c>null</c> at RTT 0: no relay).</summary>
    public RelayStatistics? Relay { get; init; }

    /// <summary>Why the point is missing or partial, or <c>null</c>.</summary>
    public string? Error { get; init; }

    /// <summary>The p50 seconds of a series at this point: <c>ping</c> or a scenario key; <c>null</c> when not measured.</summary>
    /// <param name="key"><c>ping</c> or a scenario key such as <c>record</c>.</param>
    /// <returns>Seconds, or <c>null</c>.</returns>
    public double? P50(string key)
    {
        Statistics? stats = key == NetworkSweep.PingKey ? Ping : Scenarios.FirstOrDefault(s => s.Key == key)?.Latency;
        return stats is { Count: > 0 } s && double.IsFinite(s.P50) ? s.P50 : null;
    }
}

/// <summary>One round-trip time of a network sweep and what every target measured there.</summary>
public sealed class NetworkSweepPoint
{
    /// <summary>The round-trip time the relay added (zero: no relay).</summary>
    public required TimeSpan RoundTrip { get; init; }

    /// <summary>The network played: <see cref="NetworkProfile.Loopback"/> at zero, otherwise <c>rtt=..</c> without a rate limit.</summary>
    public required NetworkProfile Profile { get; init; }

    /// <summary>One result per target, in run order.</summary>
    public required IReadOnlyList<NetworkSweepTargetResult> Targets { get; init; }

    /// <summary>The point's key in reports: <c>0</c>, <c>200us</c>, <c>1ms</c>, ...</summary>
    public string Key => NetworkSweep.FormatRoundTrip(RoundTrip);
}

/// <summary>Where a crossover lies relative to the sweep's points.</summary>
public enum NetworkSweepCrossoverKind
{
    /// <summary>The RPyC style is already past the factor at the sweep's first point.</summary>
    AtOrBelowFirst,

    /// <summary>Between two of the sweep's points (interpolated).</summary>
    Within,

    /// <summary>Not reached by the sweep's last point.</summary>
    Beyond,

    /// <summary>Fewer than two points with both figures: no verdict.</summary>
    Unknown,
}

/// <summary>
/// Where RPyC style stops being competitive for one scenario, one RPyC target and one REST target:
/// the smallest round-trip time at which the RPyC target's idiomatic variant (netref style, e.g.
/// <c>record</c> by getattr per field) takes <see cref="NetworkSweep.CrossoverFactor"/> times the REST
/// target's time for the same work, interpolated log-log between the two sweep points around it.
/// </summary>
/// <param name="Scenario">The scenario, e.g. <c>record</c>.</param>
/// <param name="RpycKey">The RPyC variant compared: the idiomatic one (<c>record</c>) or the by-value fix (<c>record_by_value</c>).</param>
/// <param name="RpycTarget">The RPyC target.</param>
/// <param name="RestTarget">The HTTP target.</param>
/// <param name="Kind">Where the crossover lies.</param>
/// <param name="RoundTripSeconds">The crossover's round-trip time (<see cref="NetworkSweepCrossoverKind.Within"/>), the first point's (<see cref="NetworkSweepCrossoverKind.AtOrBelowFirst"/>), else <c>null</c>.</param>
/// <param name="Ratios">RPyC time over REST time at each point, <c>null</c> where either is missing.</param>
public sealed record NetworkSweepCrossover(
    string Scenario, string RpycKey, string RpycTarget, string RestTarget, NetworkSweepCrossoverKind Kind, double? RoundTripSeconds, IReadOnlyList<double?> Ratios)
{
    /// <summary>
    /// For a crossover <see cref="NetworkSweepCrossoverKind.Within"/>: the indices of the two points it is
    /// interpolated between, the last whose ratio is below the factor and the first at or past it;
    /// otherwise <c>null</c>.
    /// </summary>
    public (int Below, int Above)? Between { get; init; }

    /// <summary>
    /// The indices of the points between <see cref="Between"/>'s two, where either target has no time (it
    /// failed there, or was not measured): the crossover is interpolated across them, so it lies
    /// somewhere between the two points, not necessarily near <see cref="RoundTripSeconds"/>. Empty
    /// when the two are neighbours, or the crossover is not within the sweep.
    /// </summary>
    public IReadOnlyList<int> Across => Between is (int below, int above) ? [.. Enumerable.Range(below + 1, above - below - 1)] : [];
}

/// <summary>What a network sweep measured: the points, the targets left out, and the crossovers.</summary>
public sealed class NetworkSweepReport
{
    /// <summary>The points, in increasing round-trip time.</summary>
    public required IReadOnlyList<NetworkSweepPoint> Points { get; init; }

    /// <summary>The most time each scenario variant's measured phase took per point (and its warmup, and its ping).</summary>
    public required TimeSpan SecondsPerVariant { get; init; }

    /// <summary>Targets not swept, with the reason (e.g. a Python client, which times itself).</summary>
    public IReadOnlyDictionary<string, string> Skipped { get; init; } = new Dictionary<string, string>();

    /// <summary>Every (target, series) measured at some point, in run and catalog order: <c>ping</c> first, then scenario keys.</summary>
    public IReadOnlyList<(string Target, string Key)> Series()
    {
        var series = new List<(string, string)>();
        foreach (string target in Points.SelectMany(p => p.Targets).Select(t => t.Target).Distinct())
        {
            NetworkSweepTargetResult[] results = Points.Select(p => p.Targets.FirstOrDefault(t => t.Target == target)).OfType<NetworkSweepTargetResult>().ToArray();
            if (results.Any(r => r.P50(NetworkSweep.PingKey) is not null))
            {
                series.Add((target, NetworkSweep.PingKey));
            }
            foreach (string key in DecisionScenario.All.Select(v => v.Key).Distinct())
            {
                if (results.Any(r => r.P50(key) is not null))
                {
                    series.Add((target, key));
                }
            }
        }
        return series;
    }

    /// <summary>A series' p50 seconds at each point, <c>null</c> where it was not measured.</summary>
    /// <param name="target">The target.</param>
    /// <param name="key"><c>ping</c> or a scenario key.</param>
    /// <returns>One value per point.</returns>
    public IReadOnlyList<double?> Values(string target, string key) =>
        Points.Select(p => p.Targets.FirstOrDefault(t => t.Target == target)?.P50(key)).ToArray();

    /// <summary>
    /// The crossovers of every scenario, RPyC target and REST target pair measured (see <see cref="NetworkSweepCrossover"/>):
    /// the idiomatic RPyC variant first, then its by-value variant where the scenario has one.
    /// </summary>
    public IReadOnlyList<NetworkSweepCrossover> Crossovers()
    {
        string[] targets = Points.SelectMany(p => p.Targets).Select(t => t.Target).Distinct().ToArray();
        string[] rpyc = targets.Where(t => TargetCatalog.IsKnown(t) && TargetCatalog.Get(t).Protocol == "rpyc").ToArray();
        string[] rest = targets.Where(t => TargetCatalog.IsKnown(t) && TargetCatalog.Get(t).Protocol == "http").ToArray();
        var crossovers = new List<NetworkSweepCrossover>();
        foreach (string scenario in DecisionScenario.Names)
        {
            foreach (string a in rpyc)
            {
                foreach ((string b, string key) in rest.SelectMany(b => ((string[])[scenario, scenario + "_by_value"]).Select(k => (b, k))))
                {
                    IReadOnlyList<double?> ta = Values(a, key);
                    IReadOnlyList<double?> tb = Values(b, scenario);
                    if (ta.All(v => v is null) || tb.All(v => v is null))
                    {
                        continue;
                    }
                    double?[] ratios = ta.Zip(tb, (x, y) => x is double xv && y is double yv && yv > 0 ? xv / yv : (double?)null).ToArray();
                    (NetworkSweepCrossoverKind kind, double? rtt, (int, int)? between) = NetworkSweep.LocateCrossover(Points.Select(p => p.RoundTrip.TotalSeconds).ToArray(), ratios, NetworkSweep.CrossoverFactor);
                    crossovers.Add(new NetworkSweepCrossover(scenario, key, a, b, kind, rtt, ratios) { Between = between });
                }
            }
        }
        return crossovers;
    }
}
