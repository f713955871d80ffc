namespace Rpyc.Bench.Tests;

// The ping beside the floor's in alternating blocks: the order of the requests, what is measured,
// the arithmetic over runs, and where the ratio goes in the report.
public class FloorPairingTests
{
    [Fact]
    public void Blocks_Alternate_FirstRequestOfEachBlockNotMeasured()
    {
        var calls = new List<char>();
        PairedLatencyResult r = new PairedLatencyBenchmark("pair", () => Call(calls, 'A'), () => Call(calls, 'B'), new RunLimits(2, TimeSpan.FromSeconds(30), Warmup: 1))
        {
            BlockSize = 3,
        }.Execute();
        // Warmup: one of each, alternating; then per block one wake-up request and three measured.
        Assert.Equal("AB" + "AAAA" + "BBBB" + "AAAA" + "BBBB", new string(calls.ToArray()));
        Assert.Equal(2, r.Blocks);
        Assert.Equal(3, r.BlockSize);
        Assert.Equal(6, r.Subject.Count);
        Assert.Equal(6, r.Reference.Count);
        Assert.Equal(0, r.Failures);
        Assert.Equal(r.Subject.P50 / r.Reference.P50, r.Ratio, 9);
    }

    [Fact]
    public void FailingReference_CountedAndBounded_NoRatioInTheComparison()
    {
        int calls = 0;
        PairedLatencyResult r = new PairedLatencyBenchmark("pair", () => true, () =>
        {
            calls++;
            throw new InvalidOperationException("floor gone");
        }, new RunLimits(1_000_000, TimeSpan.FromSeconds(30)))
        {
            BlockSize = 10,
        }.Execute();
        Assert.True(r.Failures >= LatencyBenchmark.MaxConsecutiveFailures, r.Failures.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(calls < 2 * LatencyBenchmark.MaxConsecutiveFailures, $"{calls} calls: a broken side ends the phase");
        Assert.Contains("floor gone", r.FirstError, StringComparison.Ordinal);
        TargetReport target = Target("rpyc_threaded", r);
        Assert.False(FloorComparison.Of(Report(Target(TargetCatalog.TcpRaw, null), target), target).Single(f => f.Figure == "ping_p50").Paired);
    }

    [Fact]
    public void AcrossRuns_MedianOfTheRunsRatios_WithInterval_RunsWithFailuresLeftOut()
    {
        PairedLatencyResult combined = PairedLatencyResult.AcrossRuns([Pairing(1.1), Pairing(1.3), Pairing(1.2), Pairing(9, failures: 1)])!;
        Assert.Equal(1.2, combined.Ratio, 9);
        Interval expected = ConfidenceInterval.Of95([1.1, 1.3, 1.2])!.Value;
        Assert.Equal(expected, combined.RatioCi95);
        Assert.Equal(4, combined.Runs!.Count);
        Assert.Equal(4 * 10, combined.Blocks);
        Assert.Equal(1, combined.Failures);
        Assert.Null(PairedLatencyResult.AcrossRuns([]));
        PairedLatencyResult one = Pairing(1.4);
        Assert.Same(one, PairedLatencyResult.AcrossRuns([one]));
    }

    [Fact]
    public void FloorComparison_PingRatioIsThePairedOne_BeatsOnlyWhenTheIntervalIsBelowOne()
    {
        TargetReport floor = Target(TargetCatalog.TcpRaw, null);
        TargetReport paired = Target("rpyc_threaded", PairedLatencyResult.AcrossRuns([Pairing(1.04), Pairing(1.06), Pairing(1.05)]));
        TargetReport faster = Target("odd", PairedLatencyResult.AcrossRuns([Pairing(0.80), Pairing(0.81), Pairing(0.79)]));
        TargetReport separate = Target("unpaired", null);
        BenchmarkReport report = Report(floor, paired, faster, separate);
        FloorRatio p = FloorComparison.Of(report, paired).Single(f => f.Figure == "ping_p50");
        Assert.True(p.Paired);
        Assert.Equal(1.05, p.Ratio, 9);
        Assert.False(p.BeatsFloor);
        Assert.True(FloorComparison.Of(report, faster).Single(f => f.Figure == "ping_p50").BeatsFloor);
        FloorRatio s = FloorComparison.Of(report, separate).Single(f => f.Figure == "ping_p50");
        Assert.False(s.Paired);
        Assert.Equal(1.0, s.Ratio, 9);
        string json = JsonReporter.Render(report);
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        System.Text.Json.JsonElement rpyc = doc.RootElement.GetProperty("rpyc_threaded");
        Assert.Equal("paired", rpyc.GetProperty("vs_floor").GetProperty("ping_p50").GetProperty("method").GetString());
        Assert.Equal("separate", doc.RootElement.GetProperty("unpaired").GetProperty("vs_floor").GetProperty("ping_p50").GetProperty("method").GetString());
        System.Text.Json.JsonElement pairing = rpyc.GetProperty("latency").GetProperty("floor_pairing");
        Assert.Equal(3, pairing.GetProperty("runs").GetArrayLength());
        Assert.Equal(2, pairing.GetProperty("ci95").GetProperty("ratio").GetArrayLength());
        // The reader gives back what was written.
        Assert.Equal(json, JsonReporter.Render(ReportReader.Parse(json)));
        SummaryTable table = SummaryTables.Build(report).Single(t => t.Title.StartsWith("Ping beside the tcp_raw floor", StringComparison.Ordinal));
        IReadOnlyList<string> row = table.Rows.Single(r => r[0] == "ours ÷ floor (x)");
        Assert.Equal(["-", "1.05 ± 0.02", "0.80 ± 0.02", "-"], row.Skip(1));
        // A report without a pairing has no such table.
        Assert.DoesNotContain(SummaryTables.Build(Report(floor, separate)), t => t.Title.StartsWith("Ping beside", StringComparison.Ordinal));
    }

    private static bool Call(List<char> calls, char side)
    {
        calls.Add(side);
        return true;
    }

    // A run's pairing whose subject p50 is ratio × the reference's 10 µs.
    private static PairedLatencyResult Pairing(double ratio, long failures = 0) => new()
    {
        Subject = Statistics.FromSamples(Enumerable.Repeat(ratio * 10e-6, 100)),
        Reference = Statistics.FromSamples(Enumerable.Repeat(10e-6, 100)),
        Ratio = ratio,
        Blocks = 10,
        BlockSize = 10,
        Seconds = 0.1,
        Failures = failures,
    };

    private static TargetReport Target(string name, PairedLatencyResult? floor) => new()
    {
        Name = name,
        Protocol = "tcp",
        Status = TargetStatus.Ok,
        Seconds = 1,
        Latency = new LatencyResult
        {
            Name = "l", Operation = "ping", Latency = Statistics.FromSamples(Enumerable.Repeat(10e-6, 10)), Successes = 10, Failures = 0, Seconds = 1, Floor = floor,
        },
    };

    private static BenchmarkReport Report(params TargetReport[] targets) => new()
    {
        Metadata = new RunMetadata
        {
            ToolVersion = "t", StartTime = DateTimeOffset.UnixEpoch, Machine = "m", OperatingSystem = "o", CpuModel = "c",
            ProcessorCount = 2, MemoryBytes = 1, Runtime = "r", PeerVersions = new Dictionary<string, string>(), Parameters = new Dictionary<string, object>(),
        },
        Targets = targets,
    };
}
