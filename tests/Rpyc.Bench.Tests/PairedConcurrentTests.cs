using System.Collections.Concurrent;
using System.Text.Json;

namespace Rpyc.Bench.Tests;

// N clients beside a reference's N in alternating time slices, against two real raw TCP servers on
// 127.0.0.1: that the sides never overlap, what is counted, a broken side, the arithmetic over
// runs, and where the ratio goes in the report.
[Collection(ServerProcesses.Name)]
public sealed class PairedConcurrentTests : IDisposable
{
    private readonly TcpRawServer _a = new("127.0.0.1", 0, TimeSpan.Zero);
    private readonly TcpRawServer _b = new("127.0.0.1", 0, TimeSpan.Zero);

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }

    [Fact]
    public void Slices_AlternateSides_NeverOverlap_EveryMeasuredRequestCounted()
    {
        var calls = new ConcurrentQueue<(long Ticks, int Port)>();
        var ports = new ConcurrentDictionary<BenchClient, int>();
        PairedThroughputResult r = new PairedConcurrentBenchmark("pair", new Tagged(_a, ports), new Tagged(_b, ports), clients: 3,
            new RunLimits(4, TimeSpan.FromSeconds(30), Warmup: 2))
        {
            Slice = TimeSpan.FromMilliseconds(20),
            Request = c =>
            {
                c.Ping();
                calls.Enqueue((Clock.Now, ports[c]));
            },
        }.Execute();
        Assert.Equal(0, r.Failures);
        Assert.Null(r.FirstError);
        Assert.Equal(4, r.Slices);
        Assert.Equal(3, r.Clients);
        Assert.Equal(0.02, r.SliceSeconds, 9);
        Assert.Equal(r.Subject / r.Reference, r.Ratio, 9);
        // After the warmup's alternating requests (2 per side per client), the calls fall into runs
        // of one side: one unmeasured slice of each, then 4 measured of each, A first every time.
        (long Ticks, int Port)[] ordered = calls.OrderBy(c => c.Ticks).Skip(3 * 2 * 2).ToArray();
        var runs = new List<(int Port, int Count)>();
        foreach ((long _, int port) in ordered)
        {
            if (runs.Count > 0 && runs[^1].Port == port)
            {
                runs[^1] = (port, runs[^1].Count + 1);
            }
            else
            {
                runs.Add((port, 1));
            }
        }
        Assert.Equal(10, runs.Count);
        Assert.Equal(Enumerable.Range(0, 10).Select(i => i % 2 == 0 ? _a.Port : _b.Port), runs.Select(x => x.Port));
        // The rates rest on the measured slices' requests: each side's over at most its 4 slices' time.
        long subjectMeasured = runs.Skip(2).Where(x => x.Port == _a.Port).Sum(x => x.Count);
        Assert.True(r.Subject >= subjectMeasured / (4 * 0.02 * 3) && r.Subject <= subjectMeasured / (4 * 0.02), $"{r.Subject} req/s from {subjectMeasured} requests");
        Assert.True(r.Seconds >= 8 * 0.02, $"{r.Seconds} s");
    }

    [Fact]
    public void MinDuration_MoreSlicesThanTheCount()
    {
        PairedThroughputResult r = new PairedConcurrentBenchmark("pair", Target(_a), Target(_b), clients: 2,
            new RunLimits(1, TimeSpan.FromSeconds(30)) { MinDuration = TimeSpan.FromMilliseconds(200) })
        {
            Slice = TimeSpan.FromMilliseconds(20),
        }.Execute();
        Assert.Equal(0, r.Failures);
        Assert.True(r.Slices >= 5, $"{r.Slices} slices in at least 0.2 s of 2 x 20 ms pairs");
        Assert.True(r.Seconds >= 0.2, $"{r.Seconds} s");
        Assert.True(r.Subject > 0 && r.Reference > 0);
    }

    [Fact]
    public void ReferenceUnreachable_CountedAsFailure_NothingMeasured_NotCompared()
    {
        int closedPort = _b.Port;
        _b.Dispose();
        PairedThroughputResult r = new PairedConcurrentBenchmark("pair", Target(_a), new TcpRawBenchTarget("tcp_raw", "127.0.0.1", closedPort), clients: 3,
            new RunLimits(2, TimeSpan.FromSeconds(30)))
        {
            Slice = TimeSpan.FromMilliseconds(20),
        }.Execute();
        Assert.Equal(3, r.Failures);
        Assert.Equal(0, r.Slices);
        Assert.True(double.IsNaN(r.Ratio));
        Assert.Contains("could not connect", r.FirstError, StringComparison.Ordinal);
        TargetReport target = Target("rpyc_threaded", r);
        FloorRatio ratio = FloorComparison.Of(Report(Target(TargetCatalog.TcpRaw, null), target), target).Single(f => f.Figure == "concurrent_throughput");
        Assert.False(ratio.Paired);
    }

    [Fact]
    public void ReferenceFailsMidway_TheSliceEndsTheMeasurement_FirstErrorKept()
    {
        int referenceCalls = 0;
        var ports = new ConcurrentDictionary<BenchClient, int>();
        PairedThroughputResult r = new PairedConcurrentBenchmark("pair", new Tagged(_a, ports), new Tagged(_b, ports), clients: 2, new RunLimits(1_000, TimeSpan.FromSeconds(30)))
        {
            Slice = TimeSpan.FromMilliseconds(20),
            Request = c =>
            {
                if (ports[c] == _b.Port && Interlocked.Increment(ref referenceCalls) > 50)
                {
                    throw new InvalidOperationException("floor gone");
                }
                c.Ping();
            },
        }.Execute();
        Assert.True(r.Failures >= 1);
        Assert.True(r.Slices < 1_000, $"{r.Slices} slices: a broken side ends the phase");
        Assert.Contains("floor gone", r.FirstError, StringComparison.Ordinal);
    }

    [Fact]
    public void AcrossRuns_MedianOfTheRunsRatios_WithInterval_RunsWithFailuresLeftOut()
    {
        PairedThroughputResult combined = PairedThroughputResult.AcrossRuns([Pairing(0.9), Pairing(0.95), Pairing(0.85), Pairing(5, failures: 2)])!;
        Assert.Equal(0.9, combined.Ratio, 9);
        Assert.Equal(ConfidenceInterval.Of95([0.9, 0.95, 0.85])!.Value, combined.RatioCi95);
        Assert.Equal(45_000, combined.Subject, 9);
        Assert.Equal(50_000, combined.Reference, 9);
        Assert.Equal(4 * 3, combined.Slices);
        Assert.Equal(2, combined.Failures);
        Assert.Equal(4, combined.Runs!.Count);
        Assert.Null(PairedThroughputResult.AcrossRuns([]));
        PairedThroughputResult one = Pairing(0.9);
        Assert.Same(one, PairedThroughputResult.AcrossRuns([one]));
    }

    [Fact]
    public void Report_ThroughputRatioIsThePairedOne_InJsonTableAndReadBack()
    {
        TargetReport floor = Target(TargetCatalog.TcpRaw, null);
        TargetReport paired = Target("rpyc_threaded", PairedThroughputResult.AcrossRuns([Pairing(0.9), Pairing(0.92), Pairing(0.91)]));
        TargetReport faster = Target("odd", PairedThroughputResult.AcrossRuns([Pairing(1.3), Pairing(1.31), Pairing(1.29)]));
        TargetReport separate = Target("unpaired", null);
        BenchmarkReport report = Report(floor, paired, faster, separate);
        FloorRatio p = FloorComparison.Of(report, paired).Single(f => f.Figure == "concurrent_throughput");
        Assert.True(p.Paired);
        Assert.Equal(0.91, p.Ratio, 9);
        Assert.False(p.BeatsFloor);
        Assert.True(FloorComparison.Of(report, faster).Single(f => f.Figure == "concurrent_throughput").BeatsFloor);
        FloorRatio s = FloorComparison.Of(report, separate).Single(f => f.Figure == "concurrent_throughput");
        Assert.False(s.Paired);
        Assert.Equal(1.0, s.Ratio, 9);
        string json = JsonReporter.Render(report);
        using JsonDocument doc = JsonDocument.Parse(json);
        JsonElement rpyc = doc.RootElement.GetProperty("rpyc_threaded");
        Assert.Equal("paired", rpyc.GetProperty("vs_floor").GetProperty("concurrent_throughput").GetProperty("method").GetString());
        JsonElement pairing = rpyc.GetProperty("concurrent").GetProperty("floor_pairing");
        Assert.Equal(0.91, pairing.GetProperty("ratio").GetDouble(), 9);
        Assert.Equal(3, pairing.GetProperty("runs").GetArrayLength());
        Assert.Equal(2, pairing.GetProperty("ci95").GetProperty("ratio").GetArrayLength());
        Assert.False(doc.RootElement.GetProperty("unpaired").GetProperty("concurrent").TryGetProperty("floor_pairing", out _));
        // The reader gives back what was written.
        Assert.Equal(json, JsonReporter.Render(ReportReader.Parse(json)));
        SummaryTable table = SummaryTables.Build(report).Single(t => t.Title.Contains("beside the floor's", StringComparison.Ordinal));
        Assert.Equal(["-", "0.91 ± 0.02", "1.30 ± 0.02", "-"], table.Rows.Single(r => r[0] == "ours ÷ floor (x)").Skip(1));
        Assert.Equal(["-", "45,500", "65,000", "-"], table.Rows.Single(r => r[0] == "ours (req/s)").Skip(1));
        Assert.DoesNotContain(SummaryTables.Build(Report(floor, separate)), t => t.Title.Contains("beside the floor's", StringComparison.Ordinal));
    }

    [Fact]
    public void CompareAndCsv_TheRatiosToTheFloor_ComparedByTheirIntervals_NotWithFailures()
    {
        static BenchmarkReport Run(double pingRatio, double rateRatio, long failures = 0)
        {
            TargetReport t = Target("rpyc_threaded", PairedThroughputResult.AcrossRuns([Pairing(rateRatio - 0.01), Pairing(rateRatio, failures), Pairing(rateRatio + 0.01)]));
            PairedLatencyResult[] pings = [.. new[] { pingRatio - 0.01, pingRatio, pingRatio + 0.01 }.Select(r => new PairedLatencyResult
            {
                Subject = Statistics.FromSamples(Enumerable.Repeat(r * 10e-6, 10)), Reference = Statistics.FromSamples(Enumerable.Repeat(10e-6, 10)),
                Ratio = r, Blocks = 2, BlockSize = 5, Seconds = 0.1, Failures = failures,
            })];
            var latency = new LatencyResult
            {
                Name = "l", Operation = "ping", Latency = Statistics.FromSamples(Enumerable.Repeat(10e-6, 10)), Successes = 10, Failures = 0, Seconds = 1,
                Floor = PairedLatencyResult.AcrossRuns(pings),
            };
            return Report(new TargetReport { Name = t.Name, Protocol = t.Protocol, Status = t.Status, Seconds = t.Seconds, RunCount = 3, Concurrent = t.Concurrent, Latency = latency });
        }
        ReportComparison c = ReportComparison.Compare(Run(1.05, 0.95), Run(1.30, 0.80));
        FigureComparison ping = c.Figures.Single(f => f.Figure == "ping ÷ floor");
        Assert.Equal(Verdict.Slower, ping.Verdict);
        Assert.Equal(VerdictBasis.ConfidenceIntervals, ping.Basis);
        Assert.Equal(1.05, ping.Base, 9);
        FigureComparison rate = c.Figures.Single(f => f.Figure == "conc ÷ floor");
        Assert.True(rate.HigherIsBetter);
        Assert.Equal(Verdict.Slower, rate.Verdict);
        Assert.Equal(Verdict.Same, ReportComparison.Compare(Run(1.05, 0.95), Run(1.055, 0.951)).Figures.Single(f => f.Figure == "conc ÷ floor").Verdict);
        // A pairing with failures on either side is not compared.
        Assert.DoesNotContain(ReportComparison.Compare(Run(1.05, 0.95), Run(1.05, 0.95, failures: 1)).Figures, f => f.Figure.EndsWith("÷ floor", StringComparison.Ordinal));
        // The console table keeps its columns with these names.
        Assert.All(ComparisonReporter.RenderText(c).Split('\n'), l => Assert.True(l.Length <= ComparisonReporter.TextWidth, l));
        string[] csv = CsvReporter.Render(Run(1.05, 0.95)).Split('\n');
        Assert.Contains(csv, l => l.StartsWith("rpyc_threaded,latency,floor_ratio,ratio,1.05,", StringComparison.Ordinal));
        Assert.Contains(csv, l => l.StartsWith("rpyc_threaded,concurrent,floor_ratio,ratio,0.95,", StringComparison.Ordinal));
    }

    private static TcpRawBenchTarget Target(TcpRawServer server) => new("tcp_raw", "127.0.0.1", server.Port);

    // A raw TCP target whose clients are remembered with their server's port, to tell the sides apart.
    private sealed class Tagged(TcpRawServer server, ConcurrentDictionary<BenchClient, int> ports) : BenchTarget("tcp_raw", "tcp", "127.0.0.1", server.Port)
    {
        public override BenchClient Connect()
        {
            var client = new TcpRawBenchClient(Host, Port, TimeSpan.Zero);
            ports[client] = Port;
            return client;
        }
    }

    // A run's pairing at ratio × the reference's 50,000 req/s, 3 slices of 0.1 s each side.
    private static PairedThroughputResult Pairing(double ratio, long failures = 0) => new()
    {
        Subject = ratio * 50_000,
        Reference = 50_000,
        Ratio = ratio,
        Clients = 10,
        Slices = 3,
        SliceSeconds = 0.1,
        Seconds = 0.6,
        Failures = failures,
    };

    private static TargetReport Target(string name, PairedThroughputResult? floor)
    {
        var concurrent = new ConcurrentResult
        {
            Name = "c", Clients = 10, RequestsPerClient = 100, Successes = 1000, Failures = 0, Seconds = 0.02,
            Latency = Statistics.FromSamples(Enumerable.Repeat(10e-6, 10)), PerClient = [],
        };
        concurrent.Floor = floor;
        return new TargetReport { Name = name, Protocol = "tcp", Status = TargetStatus.Ok, Seconds = 1, Concurrent = concurrent };
    }

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
