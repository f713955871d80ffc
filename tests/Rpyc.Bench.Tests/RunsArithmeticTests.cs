namespace Rpyc.Bench.Tests;

// The arithmetic of several runs: medians, Student's t intervals, the interleaving order, and how
// one target's runs combine into the report's figures.
public class RunsArithmeticTests
{
    [Fact]
    public void Of95_ThreeRuns_StudentTWithTwoDegreesOfFreedom()
    {
        // mean 12, s = 1, t(0.975, 2) = 4.303: half-width 4.303 / sqrt(3) = 2.4843.
        Interval ci = ConfidenceInterval.Of95([11, 12, 13])!.Value;
        Assert.Equal(12 - 2.48434, ci.Low, 4);
        Assert.Equal(12 + 2.48434, ci.High, 4);
        Assert.Equal(2.48434, ci.HalfWidth, 4);
    }

    [Fact]
    public void Of95_ScatteredTimes_SymmetricSoThePrintedHalfWidthMatchesBothBounds()
    {
        // Two runs of 17.78 and 22.11 µs: t(0.975, 1) = 12.706, s = 3.0618, half-width 27.51 about
        // the mean 19.945. Cut at zero, the interval was [0, 47.46] and the console's ± 23.7.
        Interval ci = ConfidenceInterval.Of95([17.78, 22.11])!.Value;
        Assert.Equal(27.508, ci.HalfWidth, 2);
        Assert.Equal(19.945 - 27.508, ci.Low, 2);
        Assert.Equal(19.945 + 27.508, ci.High, 2);
    }

    [Theory]
    [InlineData(31, 2.0395)]
    [InlineData(40, 2.0211)]
    [InlineData(60, 2.0003)]
    [InlineData(120, 1.9799)]
    public void T975_BeyondTheTable_WithinATenthOfAPercentOfTheExactQuantile(int degreesOfFreedom, double exact)
    {
        Assert.Equal(exact, ConfidenceInterval.T975(degreesOfFreedom), exact * 0.001);
    }

    [Fact]
    public void Of95_ManyRuns_NormalQuantile_AndNonFiniteValuesLeftOut()
    {
        double[] values = Enumerable.Range(0, 40).Select(i => (double)(i % 2)).Append(double.NaN).ToArray();
        Interval ci = ConfidenceInterval.Of95(values)!.Value;
        double s = Math.Sqrt(40 * 0.25 / 39);
        Assert.Equal(0.5 - (ConfidenceInterval.T975(39) * s / Math.Sqrt(40)), ci.Low, 6);
        Assert.Equal(2.0227, ConfidenceInterval.T975(39), 3);
        Assert.Null(ConfidenceInterval.Of95([5]));
        Assert.Null(ConfidenceInterval.Of95([double.NaN, 1]));
        Assert.Equal(0, ConfidenceInterval.Of95([4, 4, 4])!.Value.HalfWidth);
    }

    [Theory]
    [InlineData(new double[] { 3, 1, 2 }, 2)]
    [InlineData(new double[] { 4, 1, 3, 2 }, 2.5)]
    [InlineData(new double[] { 7 }, 7)]
    [InlineData(new double[] { double.NaN, 1, 5 }, 3)]
    public void Median_OddEvenAndNaN(double[] values, double expected) => Assert.Equal(expected, ConfidenceInterval.Median(values));

    [Fact]
    public void T975_Table()
    {
        Assert.Equal(12.706, ConfidenceInterval.T975(1));
        Assert.Equal(2.262, ConfidenceInterval.T975(9));
        // t(0.975, 100) = 1.9840, not the normal 1.96.
        Assert.Equal(1.9840, ConfidenceInterval.T975(100), 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => ConfidenceInterval.T975(0));
    }

    [Fact]
    public void Order_RotatesByOneEachRound_EveryTargetOncePerRound()
    {
        Assert.Equal([0, 1, 2], InterleavedSchedule.Order(3, 0));
        Assert.Equal([1, 2, 0], InterleavedSchedule.Order(3, 1));
        Assert.Equal([2, 0, 1], InterleavedSchedule.Order(3, 2));
        Assert.Equal([0, 1, 2], InterleavedSchedule.Order(3, 3));
        Assert.Empty(InterleavedSchedule.Order(0, 5));
        for (int round = 0; round < 7; round++)
        {
            Assert.Equal(Enumerable.Range(0, 5), InterleavedSchedule.Order(5, round).Order());
        }
        // Over n rounds each target takes each position once.
        int[][] rounds = Enumerable.Range(0, 4).Select(r => InterleavedSchedule.Order(4, r)).ToArray();
        for (int position = 0; position < 4; position++)
        {
            Assert.Equal(Enumerable.Range(0, 4), rounds.Select(r => r[position]).Order());
        }
    }

    [Fact]
    public void AcrossRuns_MediansTotalsExtremes_RunsKept()
    {
        Statistics a = Statistics.FromSamples([1, 2, 3]);
        Statistics b = Statistics.FromSamples([10, 20, 30, 40]);
        Statistics c = Statistics.FromSamples([5, 6]);
        Statistics all = Statistics.AcrossRuns([a, b, c]);
        Assert.Equal(9, all.Count);
        Assert.Equal(1, all.Min);
        Assert.Equal(40, all.Max);
        Assert.Equal(5.5, all.Mean);  // the runs' means are 2, 25, 5.5
        Assert.Equal(5.5, all.P50);   // the runs' medians are 2, 25, 5.5
        Assert.Equal([a, b, c], all.Runs);
        Assert.Equal(ConfidenceInterval.Of95([2, 25, 5.5]), all.Ci95!["mean"]);
        Assert.Equal(new[] { "mean", "p50", "p90", "p99" }.Order(StringComparer.Ordinal), all.Ci95.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void AcrossRuns_EmptyRunDoesNotVote()
    {
        Statistics all = Statistics.AcrossRuns([Statistics.FromSamples([1, 3]), Statistics.Empty, Statistics.FromSamples([5, 7])]);
        Assert.Equal(4, all.Count);
        Assert.Equal(4, all.Mean);
        Assert.Equal(3, all.Runs!.Count);
        Assert.True(double.IsNaN(Statistics.AcrossRuns([Statistics.Empty]).Mean));
    }

    [Fact]
    public void Combine_BandwidthAndThroughput_MedianOfRatesWithInterval()
    {
        TargetReport[] runs =
        [
            Run(bytesPerSecondSeconds: 1.0, throughputSeconds: 1.0, TargetStatus.Ok),
            Run(bytesPerSecondSeconds: 2.0, throughputSeconds: 0.5, TargetStatus.Ok),
            Run(bytesPerSecondSeconds: 4.0, throughputSeconds: 0.25, TargetStatus.Failed),
        ];
        TargetReport combined = RunCombiner.Combine(runs);
        Assert.Equal(3, combined.RunCount);
        Assert.Equal(TargetStatus.Failed, combined.Status);
        Assert.StartsWith("run 3: ", combined.Error, StringComparison.Ordinal);
        BandwidthSizeResult size = Assert.Single(combined.Bandwidth!.Upload);
        // 1000 bytes in 1, 2 and 4 s: rates 1000, 500, 250; the median is 500, not total bytes / total time.
        Assert.Equal(500, size.BytesPerSecond);
        Assert.Equal(3000, size.Bytes);
        Assert.Equal(ConfidenceInterval.Of95([1000, 500, 250]), size.BytesPerSecondCi95);
        Assert.Equal(3, size.Runs!.Count);
        // 100 requests in 1, 0.5 and 0.25 s: 100, 200, 400 req/s.
        Assert.Equal(200, combined.Concurrent!.Throughput);
        Assert.Equal(300, combined.Concurrent.Successes);
        Assert.Equal(ConfidenceInterval.Of95([100, 200, 400]), combined.Concurrent.ThroughputCi95);
        Assert.Equal(30, combined.Latency!.Latency.Count);
        Assert.Equal(6, combined.Latency.WarmupFailures);
        Assert.Equal(3, combined.Connection!.WarmupFailures);
        Assert.Equal(1.5, combined.Connection.WarmupSeconds!.Value, 9);
        Assert.True(combined.Connection.WarmupSettled);
    }

    [Fact]
    public void Combine_ARunWithNoSuccessfulRequest_CountsInFailuresNotInTheThroughput()
    {
        // 100 requests in 1 s, then a run whose every client was refused (0 req/s).
        TargetReport good = Run(1, 1, TargetStatus.Ok), dead = Run(1, 1, TargetStatus.Failed);
        dead = new TargetReport
        {
            Name = dead.Name, Protocol = dead.Protocol, Status = dead.Status, Error = dead.Error, Seconds = dead.Seconds,
            Concurrent = new ConcurrentResult
            {
                Name = "k", Clients = 1, RequestsPerClient = 100, Successes = 0, Failures = 100, Seconds = 0.01, Latency = Statistics.Empty, PerClient = [],
            },
        };
        ConcurrentResult combined = RunCombiner.Combine([good, dead]).Concurrent!;
        Assert.Equal(100, combined.Throughput);
        Assert.Null(combined.ThroughputCi95);
        Assert.Equal(100, combined.Failures);
        Assert.Equal(2, combined.Runs!.Count);
        Assert.Equal(0, RunCombiner.Combine([dead, dead]).Concurrent!.Throughput);
    }

    [Fact]
    public void Combine_OneRun_Unchanged()
    {
        TargetReport one = Run(1, 1, TargetStatus.Ok);
        Assert.Same(one, RunCombiner.Combine([one]));
        Assert.Equal(1, one.RunCount);
        Assert.Throws<ArgumentException>(() => RunCombiner.Combine([]));
    }

    [Fact]
    public void Json_RunsAndCi95_OnEveryStatsObjectBandwidthSizeAndConcurrent()
    {
        TargetReport combined = RunCombiner.Combine([Run(1, 1, TargetStatus.Ok), Run(2, 0.5, TargetStatus.Ok)]);
        var report = new BenchmarkReport
        {
            Metadata = new RunMetadata
            {
                ToolVersion = "t", StartTime = DateTimeOffset.UnixEpoch, Machine = "m", OperatingSystem = "o", CpuModel = "c",
                ProcessorCount = 2, MemoryBytes = 1, Runtime = "r", PeerVersions = new Dictionary<string, string>(), Parameters = new Dictionary<string, object> { ["runs"] = 2 },
            },
            Targets = [combined],
        };
        using var doc = System.Text.Json.JsonDocument.Parse(JsonReporter.Render(report));
        System.Text.Json.JsonElement t = doc.RootElement.GetProperty("x");
        Assert.Equal(2, t.GetProperty("runs").GetInt32());
        System.Text.Json.JsonElement latency = t.GetProperty("latency");
        Assert.Equal(2, latency.GetProperty("runs").GetArrayLength());
        foreach (string figure in new[] { "mean", "p50", "p90", "p99" })
        {
            Assert.Equal(2, latency.GetProperty("ci95").GetProperty(figure).GetArrayLength());
        }
        System.Text.Json.JsonElement size = t.GetProperty("upload_bandwidth").GetProperty("1000");
        Assert.Equal(2, size.GetProperty("runs").GetArrayLength());
        Assert.Equal(2, size.GetProperty("ci95").GetProperty("bytes_per_second").GetArrayLength());
        Assert.Equal(2, size.GetProperty("transfer_time").GetProperty("runs").GetArrayLength());
        System.Text.Json.JsonElement concurrent = t.GetProperty("concurrent");
        Assert.Equal(2, concurrent.GetProperty("runs").GetArrayLength());
        Assert.Equal(2, concurrent.GetProperty("ci95").GetProperty("throughput").GetArrayLength());
        Assert.Equal(2, concurrent.GetProperty("latency").GetProperty("runs").GetArrayLength());
        Assert.Equal(2, t.GetProperty("connection_time").GetProperty("runs").GetArrayLength());
    }

    [Fact]
    public void FloorComparison_BeatsFloorOnlyBeyondNoise()
    {
        TargetReport floor = Run(1.0, 1.0, TargetStatus.Ok, TargetCatalog.TcpRaw);
        TargetReport same = Run(1.05, 1.0, TargetStatus.Ok, "within_noise");
        TargetReport faster = Run(0.5, 0.5, TargetStatus.Ok, "faster");
        var report = new BenchmarkReport
        {
            Metadata = new RunMetadata
            {
                ToolVersion = "t", StartTime = DateTimeOffset.UnixEpoch, Machine = "m", OperatingSystem = "o", CpuModel = "c",
                ProcessorCount = 2, MemoryBytes = 1, Runtime = "r", PeerVersions = new Dictionary<string, string>(), Parameters = new Dictionary<string, object>(),
            },
            Targets = [floor, same, faster],
        };
        Assert.Empty(FloorComparison.Of(report, floor));
        IReadOnlyList<FloorRatio> near = FloorComparison.Of(report, same);
        Assert.Equal(["ping_p50", "upload_1000", "concurrent_throughput"], near.Select(r => r.Figure));
        Assert.All(near, r => Assert.False(r.BeatsFloor));
        IReadOnlyList<FloorRatio> beats = FloorComparison.Of(report, faster);
        Assert.Equal(0.5, beats.Single(r => r.Figure == "ping_p50").Ratio, 6);
        Assert.Equal(2.0, beats.Single(r => r.Figure == "upload_1000").Ratio, 6);
        Assert.All(beats, r => Assert.True(r.BeatsFloor, r.Figure));
    }

    [Theory]
    [InlineData(1, 100, 100)]
    [InlineData(3, 100, 34)]
    [InlineData(3, 1, 1)]
    [InlineData(4, 1000, 250)]
    public void PerRun_EachRunMakesItsShare(int runs, int count, int perRun) =>
        Assert.Equal(perRun, new SuiteOptions { Runs = runs }.PerRun(count));

    [Fact]
    public void PerRunMinPhase_SplitAcrossRunsWithAFloor()
    {
        Assert.Equal(0.5, new SuiteOptions { Runs = 1 }.PerRunMinPhase.TotalSeconds);
        Assert.Equal(0.25, new SuiteOptions { Runs = 2 }.PerRunMinPhase.TotalSeconds);
        Assert.Equal(0.15, new SuiteOptions { Runs = 5 }.PerRunMinPhase.TotalSeconds);
        Assert.Equal(0.1, new SuiteOptions { Runs = 5, MinPhaseDuration = TimeSpan.FromSeconds(0.1) }.PerRunMinPhase.TotalSeconds);
        Assert.Equal(0, new SuiteOptions { Runs = 3, MinPhaseDuration = TimeSpan.Zero }.PerRunMinPhase.TotalSeconds);
    }

    private static TargetReport Run(double bytesPerSecondSeconds, double throughputSeconds, TargetStatus status, string name = "x")
    {
        Statistics latency = Statistics.FromSamples(Enumerable.Range(1, 10).Select(i => i * bytesPerSecondSeconds * 1e-6));
        return new TargetReport
        {
            Name = name,
            Protocol = "tcp",
            Status = status,
            Error = status == TargetStatus.Ok ? null : "broke",
            Seconds = 1,
            Connection = new ConnectionResult { Name = "c", ConnectionTime = latency, TcpConnect = latency, Successes = 10, Failures = 0, Seconds = 1, WarmupSeconds = 0.5, WarmupSettled = true, WarmupFailures = 1 },
            Latency = new LatencyResult { Name = "l", Operation = "ping", Latency = latency, Successes = 10, Failures = 0, Seconds = 1, WarmupFailures = 2 },
            Bandwidth = new BandwidthResult
            {
                Name = "b",
                Upload = [new BandwidthSizeResult { SizeBytes = 1000, Transfers = 1, Failures = 0, Seconds = bytesPerSecondSeconds, Latency = latency }],
                Download = [],
            },
            Concurrent = new ConcurrentResult
            {
                Name = "k", Clients = 1, RequestsPerClient = 100, Successes = 100, Failures = 0, Seconds = throughputSeconds, Latency = latency, PerClient = [],
            },
        };
    }
}
