namespace Rpyc.Bench;

/// <summary>
/// Combines the runs of one target into the report's figures: every statistics object becomes
/// <see cref="Statistics.AcrossRuns"/> (the median of the runs, with each run kept and a 95 %
/// confidence interval), rates (bandwidth per size, concurrent throughput) the median of the runs'
/// rates with their interval, and counts and seconds the totals. Pure.
/// </summary>
public static class RunCombiner
{
    /// <summary>Combines runs of one target; one run is returned unchanged.</summary>
    /// <param name="runs">The target's reports, one per run, in run order.</param>
    /// <returns>The combined report, with <see cref="TargetReport.Runs"/>.</returns>
    /// <exception cref="ArgumentException">No runs, or runs of different targets.</exception>
    public static TargetReport Combine(IReadOnlyList<TargetReport> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        if (runs.Count == 0 || runs.Any(r => r.Name != runs[0].Name))
        {
            throw new ArgumentException("Combine needs at least one run, all of one target.", nameof(runs));
        }
        if (runs.Count == 1)
        {
            return runs[0];
        }
        TargetReport first = runs[0];
        string[] errors = runs.Select((r, i) => r.Error is null ? null : $"run {i + 1}: {r.Error}").OfType<string>().ToArray();
        return new TargetReport
        {
            Name = first.Name,
            Protocol = first.Protocol,
            ServerMode = first.ServerMode,
            Implementation = first.Implementation,
            Endpoint = runs.Select(r => r.Endpoint).FirstOrDefault(e => e is not null),
            Remote = first.Remote,
            Client = first.Client,
            Placement = Placement(runs.Select(r => r.Placement).OfType<ObservedPlacement>().ToArray()),
            Runs = runs,
            NoiseCores = runs.Select(r => r.NoiseCores).Where(n => n is not null).DefaultIfEmpty().Max(),
            Status = runs.Any(r => r.Status == TargetStatus.Interrupted) ? TargetStatus.Interrupted
                : runs.Any(r => r.Status == TargetStatus.Failed) ? TargetStatus.Failed
                : TargetStatus.Ok,
            Error = errors.Length > 0 ? string.Join("; ", errors) : null,
            Seconds = runs.Sum(r => r.Seconds),
            Connection = Connection(runs.Select(r => r.Connection).OfType<ConnectionResult>().ToArray()),
            Latency = Latency(runs.Select(r => r.Latency).OfType<LatencyResult>().ToArray()),
            Bandwidth = Bandwidth(runs.Select(r => r.Bandwidth).OfType<BandwidthResult>().ToArray()),
            Concurrent = Concurrent(runs.Select(r => r.Concurrent).OfType<ConcurrentResult>().ToArray()),
            Scenarios = Scenarios(runs.Select(r => r.Scenarios).OfType<IReadOnlyList<ScenarioResult>>().ToArray()),
            ServerResources = Resources(runs.Select(r => r.ServerResources).OfType<ResourceUsage>().ToArray()),
            ClientResources = Resources(runs.Select(r => r.ClientResources).OfType<ResourceUsage>().ToArray()),
            Wrk = runs.Select(r => r.Wrk).FirstOrDefault(w => w is not null),
            BinaryTransfer = runs.Select(r => r.BinaryTransfer).FirstOrDefault(b => b is not null),
        };
    }

    private static ConnectionResult? Connection(ConnectionResult[] runs) => runs.Length == 0 ? null : new ConnectionResult
    {
        Name = runs[0].Name,
        ConnectionTime = Statistics.AcrossRuns(runs.Select(r => r.ConnectionTime).ToArray()),
        TcpConnect = Statistics.AcrossRuns(runs.Select(r => r.TcpConnect).ToArray()),
        Successes = runs.Sum(r => r.Successes),
        Failures = runs.Sum(r => r.Failures),
        RoundTripsPerConnection = MedianOrNull(runs.Select(r => r.RoundTripsPerConnection)),
        Seconds = runs.Sum(r => r.Seconds),
        FirstError = runs.Select(r => r.FirstError).FirstOrDefault(e => e is not null),
        WarmupSeconds = runs.Any(r => r.WarmupSeconds is not null) ? runs.Sum(r => r.WarmupSeconds ?? 0) : null,
        WarmupSettled = runs.Any(r => r.WarmupSettled is not null) ? runs.All(r => r.WarmupSettled != false) : null,
        WarmupFailures = runs.Sum(r => r.WarmupFailures),
    };

    private static LatencyResult? Latency(LatencyResult[] runs) => runs.Length == 0 ? null : new LatencyResult
    {
        Name = runs[0].Name,
        Operation = runs[0].Operation,
        Latency = Statistics.AcrossRuns(runs.Select(r => r.Latency).ToArray()),
        Successes = runs.Sum(r => r.Successes),
        Failures = runs.Sum(r => r.Failures),
        Seconds = runs.Sum(r => r.Seconds),
        RoundTripsPerRequest = MedianOrNull(runs.Select(r => r.RoundTripsPerRequest)),
        ConnectionsPerRequest = MedianOrNull(runs.Select(r => r.ConnectionsPerRequest)),
        CpuPerRequest = CpuPerRequest.AcrossRuns(runs.Select(r => r.CpuPerRequest).ToArray()),
        SampleTicks = runs.All(r => r.SampleTicks is not null) ? runs.SelectMany(r => r.SampleTicks!).ToArray() : null,
        FirstError = runs.Select(r => r.FirstError).FirstOrDefault(e => e is not null),
        WarmupSeconds = runs.Any(r => r.WarmupSeconds is not null) ? runs.Sum(r => r.WarmupSeconds ?? 0) : null,
        WarmupSettled = runs.Any(r => r.WarmupSettled is not null) ? runs.All(r => r.WarmupSettled != false) : null,
        WarmupFailures = runs.Sum(r => r.WarmupFailures),
        Floor = PairedLatencyResult.AcrossRuns(runs.Select(r => r.Floor).OfType<PairedLatencyResult>().ToArray()),
    };

    private static BandwidthResult? Bandwidth(BandwidthResult[] runs) => runs.Length == 0 ? null : new BandwidthResult
    {
        Name = runs[0].Name,
        Upload = Sizes(runs.Select(r => r.Upload).ToArray()),
        Download = Sizes(runs.Select(r => r.Download).ToArray()),
    };

    // Sizes in the order of the run that measured the most of them; each combines the runs that have it.
    private static BandwidthSizeResult[] Sizes(IReadOnlyList<BandwidthSizeResult>[] runs) =>
        runs.SelectMany(r => r).Select(s => s.SizeBytes).Distinct().Select(size =>
        {
            BandwidthSizeResult[] each = runs.Select(r => r.FirstOrDefault(s => s.SizeBytes == size)).OfType<BandwidthSizeResult>().ToArray();
            // A run whose transfers all failed has no rate: it counts in failures, not in the median.
            double[] rates = each.Where(s => s.Transfers > 0).Select(s => s.BytesPerSecond).ToArray();
            return new BandwidthSizeResult
            {
                SizeBytes = size,
                Transfers = each.Sum(s => s.Transfers),
                Failures = each.Sum(s => s.Failures),
                Seconds = each.Sum(s => s.Seconds),
                BytesPerSecond = rates.Length > 0 ? ConfidenceInterval.Median(rates) : 0,
                Latency = Statistics.AcrossRuns(each.Select(s => s.Latency).ToArray()),
                FirstError = each.Select(s => s.FirstError).FirstOrDefault(e => e is not null),
                Runs = each,
                BytesPerSecondCi95 = ConfidenceInterval.Of95(rates),
            };
        }).ToArray();

    private static ConcurrentResult? Concurrent(ConcurrentResult[] runs)
    {
        if (runs.Length == 0)
        {
            return null;
        }
        // A run in which no request succeeded (the server died, every client refused) has no rate:
        // it counts in failures, not in the median, as a bandwidth size's does; a 0 req/s there
        // made two runs' median half the working run's, and three runs' interval start at 0.
        ConcurrentResult[] measured = runs.Where(r => r.Successes > 0).ToArray();
        double[] rates = measured.Select(r => r.Throughput).ToArray();
        double median = ConfidenceInterval.Median(rates);
        // Per-client figures of the run nearest the median: clients of different runs are different clients.
        ConcurrentResult typical = measured.Length > 0 ? measured.MinBy(r => Math.Abs(r.Throughput - median))! : runs[0];
        return new ConcurrentResult
        {
            Name = runs[0].Name,
            Clients = runs[0].Clients,
            RequestsPerClient = runs[0].RequestsPerClient,
            Successes = runs.Sum(r => r.Successes),
            Failures = runs.Sum(r => r.Failures),
            Seconds = runs.Sum(r => r.Seconds),
            Throughput = double.IsFinite(median) ? median : 0,
            Latency = Statistics.AcrossRuns(runs.Select(r => r.Latency).ToArray()),
            PerClient = typical.PerClient,
            FirstError = runs.Select(r => r.FirstError).FirstOrDefault(e => e is not null),
            Runs = runs,
            ThroughputCi95 = ConfidenceInterval.Of95(rates),
            Floor = PairedThroughputResult.AcrossRuns(runs.Select(r => r.Floor).OfType<PairedThroughputResult>().ToArray()),
        };
    }

    private static ScenarioResult[]? Scenarios(IReadOnlyList<ScenarioResult>[] runs) => runs.Length == 0 ? null :
        runs.SelectMany(r => r).Select(s => s.Key).Distinct().Select(key =>
        {
            ScenarioResult[] each = runs.Select(r => r.FirstOrDefault(s => s.Key == key)).OfType<ScenarioResult>().ToArray();
            return new ScenarioResult
            {
                Key = key,
                Scenario = each[0].Scenario,
                Style = each[0].Style,
                Successes = each.Sum(s => s.Successes),
                Failures = each.Sum(s => s.Failures),
                Seconds = each.Sum(s => s.Seconds),
                Latency = Statistics.AcrossRuns(each.Select(s => s.Latency).ToArray()),
                RoundTripsPerOp = MedianOrNull(each.Select(s => s.RoundTripsPerOp)),
                BytesPerOp = MedianOrNull(each.Select(s => s.BytesPerOp)),
                PredictedSeconds = MedianOrNull(each.Select(s => s.PredictedSeconds)),
                FirstError = each.Select(s => s.FirstError).FirstOrDefault(e => e is not null),
            };
        }).ToArray();

    // Where the threads ran, over every run: CPU seconds per CPU added up.
    private static ObservedPlacement? Placement(ObservedPlacement[] runs)
    {
        static Dictionary<int, double> Sum(IEnumerable<IReadOnlyDictionary<int, double>> each) =>
            each.SelectMany(d => d).GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => g.Sum(kv => kv.Value));
        return runs.Length == 0 ? null : new ObservedPlacement(Sum(runs.Select(r => r.ClientCpuSeconds)), Sum(runs.Select(r => r.ServerCpuSeconds)), runs.Sum(r => r.Samples));
    }

    private static ResourceUsage? Resources(ResourceUsage[] runs)
    {
        if (runs.Length == 0)
        {
            return null;
        }
        double wall = runs.Sum(r => r.WallSeconds);
        double cpu = runs.Sum(r => r.CpuSeconds);
        int samples = runs.Sum(r => r.Samples);
        return new ResourceUsage
        {
            ProcessId = runs[^1].ProcessId,
            CpuSeconds = cpu,
            CpuPercentMean = wall > 0 ? cpu / wall * 100 : 0,
            CpuPercentMax = runs.Max(r => r.CpuPercentMax),
            RssPeakBytes = runs.Max(r => r.RssPeakBytes),
            RssMeanBytes = samples > 0 ? runs.Sum(r => r.RssMeanBytes * r.Samples) / samples : 0,
            Samples = samples,
            WallSeconds = wall,
        };
    }

    private static double? MedianOrNull(IEnumerable<double?> values)
    {
        double[] present = values.OfType<double>().ToArray();
        return present.Length == 0 ? null : ConfidenceInterval.Median(present);
    }
}
