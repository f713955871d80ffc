using System.Globalization;

namespace Rpyc.Bench.Tests;

public class ReporterTests
{
    internal static BenchmarkReport Sample()
    {
        Statistics Stats(params double[] s) => Statistics.FromSamples(s);
        var target = new TargetReport
        {
            Name = "rpyc_threaded",
            Protocol = "rpyc",
            ServerMode = "threaded",
            Implementation = ".NET ThreadedServer",
            Endpoint = "127.0.0.1:18812",
            Status = TargetStatus.Ok,
            Seconds = 1.5,
            Connection = new ConnectionResult
            {
                Name = "c",
                ConnectionTime = Stats(0.001, 0.002, 0.0035),
                TcpConnect = Stats(0.0001, 0.0002),
                Successes = 3,
                Failures = 0,
                RoundTripsPerConnection = 2,
                Seconds = 0.01,
            },
            Latency = new LatencyResult
            {
                Name = "l",
                Operation = "ping",
                Latency = Stats(0.00005, 0.00006, 0.00007, 0.00012),
                Successes = 4,
                Failures = 1,
                Seconds = 0.0004,
                RoundTripsPerRequest = 1,
                ConnectionsPerRequest = 0,
                CpuPerRequest = new CpuPerRequest(0.0000215, 0.0000184),
                FirstError = "RpycConnectionClosedException: closed",
            },
            Bandwidth = new BandwidthResult
            {
                Name = "b",
                Upload = [new BandwidthSizeResult { SizeBytes = 1024, Transfers = 2, Failures = 0, Seconds = 0.0004, Latency = Stats(0.0002, 0.0002) }],
                Download = [new BandwidthSizeResult { SizeBytes = 1024, Transfers = 0, Failures = 2, Seconds = 0, Latency = Statistics.Empty, FirstError = "bad" }],
            },
            Concurrent = new ConcurrentResult
            {
                Name = "k",
                Clients = 2,
                RequestsPerClient = 2,
                Successes = 4,
                Failures = 0,
                Seconds = 0.002,
                Latency = Stats(0.0004, 0.0005, 0.0006, 0.0007),
                PerClient =
                [
                    new ClientResult { Client = 0, Successes = 2, Failures = 0, Seconds = 0.001, Latency = Stats(0.0004, 0.0005) },
                    new ClientResult { Client = 1, Successes = 2, Failures = 0, Seconds = 0.002, Latency = Stats(0.0006, 0.0007) },
                ],
            },
            ServerResources = new ResourceUsage { ProcessId = 42, CpuSeconds = 0.25, CpuPercentMean = 25, CpuPercentMax = 80, RssPeakBytes = 50_000_000, RssMeanBytes = 40_000_000.5, Samples = 10, WallSeconds = 1 },
            ClientResources = null,
            Wrk = new WrkResult { RequestsPerSecond = 4000, Connections = 2, Threads = 2, Seconds = 3, Path = "/ping", RpycbenchRequestsPerSecond = 3000 },
        };
        return new BenchmarkReport
        {
            Metadata = new RunMetadata
            {
                ToolVersion = "1.0.0",
                StartTime = new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero),
                Seconds = 12.5,
                Machine = "host",
                OperatingSystem = "Linux",
                CpuModel = "cpu",
                ProcessorCount = 2,
                MemoryBytes = 1024,
                Runtime = ".NET 10.0.0",
                PeerVersions = new Dictionary<string, string> { ["rpyc"] = "5.3.0", ["python"] = "3.11.2" },
                Parameters = new Dictionary<string, object> { ["num_requests"] = 4, ["payload_sizes"] = new[] { 1024 }, ["max_phase_seconds"] = 20.5, ["keep_samples"] = false, ["targets"] = new[] { "rpyc_threaded" } },
            },
            Targets = [target],
        };
    }

    [Theory]
    [InlineData("")]
    [InlineData("de-DE")]
    [InlineData("fr-FR")]
    public void JsonReporter_AnyCulture_MatchesExpectedFile(string culture)
    {
        CultureInfo saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(culture);
            string json = JsonReporter.Render(Sample());
            // RPYCBENCH_EXPECTED_OUT=DIR writes what the reporter renders now, to review and copy into Expected/.
            if (Environment.GetEnvironmentVariable("RPYCBENCH_EXPECTED_OUT") is { Length: > 0 } outDir)
            {
                File.WriteAllText(Path.Combine(outDir, "report.json"), json);
            }
            Assert.Equal(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Expected", "report.json")), json);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("de-DE")]
    public void TextReporter_AnyCulture_MatchesExpectedFile(string culture)
    {
        CultureInfo saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(culture);
            string text = TextReporter.Render(Sample());
            // RPYCBENCH_EXPECTED_OUT=DIR: as for report.json.
            if (Environment.GetEnvironmentVariable("RPYCBENCH_EXPECTED_OUT") is { Length: > 0 } outDir)
            {
                File.WriteAllText(Path.Combine(outDir, "summary.txt"), text);
            }
            Assert.Equal(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Expected", "summary.txt")), text);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void SummaryTables_BandwidthPerSize_NeverAveragedAcrossSizes()
    {
        SummaryTable upload = SummaryTables.Build(Sample()).Single(t => t.Title.StartsWith("Upload", StringComparison.Ordinal));
        IReadOnlyList<string> row = Assert.Single(upload.Rows);
        Assert.Equal("1 KiB", row[0]);
        // 2 × 1024 bytes in 0.0004 s = 4.88 MiB/s.
        Assert.Equal("4.88", row[1]);
    }

    [Fact]
    public void PlotReporter_Report_WritesFivePngFiles()
    {
        string dir = Directory.CreateTempSubdirectory("rpycbench-plots").FullName;
        try
        {
            IReadOnlyList<string> files = PlotReporter.Write(Sample(), dir);
            Assert.Equal(5, files.Count);
            Assert.All(files, f => Assert.True(new FileInfo(f).Length > 1000, f));
            Assert.All(files, f => Assert.Equal((byte)0x89, File.ReadAllBytes(f)[0]));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // 'rpycbench report RUN.json' renders what the run printed: the decision scenarios (on by
    // default) and the network they ran through are read back, not left out of every table.
    [Fact]
    public void ReportReader_ScenariosThroughANetwork_RenderTheSameTablesAndNotes()
    {
        BenchmarkReport sample = Sample();
        TargetReport target = sample.Targets[0];
        ScenarioResult Scenario(string key, double p50, double roundTrips, double predicted) => new()
        {
            Key = key,
            Scenario = key.Replace("_by_value", "", StringComparison.Ordinal),
            Style = "a style, with a comma",
            Successes = 3,
            Failures = 1,
            Seconds = 0.5,
            Latency = Statistics.FromSamples([p50 * 0.9, p50, p50 * 1.1]),
            RoundTripsPerOp = roundTrips,
            BytesPerOp = 978,
            PredictedSeconds = predicted,
            FirstError = "timed out",
        };
        var report = new BenchmarkReport
        {
            Metadata = new RunMetadata
            {
                ToolVersion = sample.Metadata.ToolVersion,
                StartTime = sample.Metadata.StartTime,
                Machine = sample.Metadata.Machine,
                OperatingSystem = sample.Metadata.OperatingSystem,
                CpuModel = sample.Metadata.CpuModel,
                ProcessorCount = sample.Metadata.ProcessorCount,
                MemoryBytes = sample.Metadata.MemoryBytes,
                Runtime = sample.Metadata.Runtime,
                PeerVersions = sample.Metadata.PeerVersions,
                Parameters = sample.Metadata.Parameters,
                Network = new NetworkInfo(NetworkProfile.Lan, new Dictionary<string, RelayStatistics>()),
            },
            Targets =
            [
                new TargetReport
                {
                    Name = target.Name,
                    Protocol = target.Protocol,
                    Status = target.Status,
                    Seconds = target.Seconds,
                    Latency = target.Latency,
                    Scenarios = [Scenario("record", 0.0025, 11, 0.0024), Scenario("record_by_value", 0.0009, 1, 0.0003)],
                },
            ],
        };

        BenchmarkReport read = ReportReader.Parse(JsonReporter.Render(report));

        string Text(BenchmarkReport r) => string.Join("\n", SummaryTables.Build(r).Select(t => t.Title + ": " + string.Join(" / ", t.Rows.Select(row => string.Join(" | ", row)))));
        Assert.Contains("Decision scenarios", Text(report), StringComparison.Ordinal);
        Assert.Contains("network rtt=200us,rate=1gbit", Text(report), StringComparison.Ordinal);
        Assert.Equal(Text(report), Text(read));
        Assert.Equal(SummaryTables.Notes(report), SummaryTables.Notes(read));
        Assert.Equal(JsonReporter.Render(report), JsonReporter.Render(read));
    }

    // Through a short RTT the model predicts tens of microseconds: it is shown in the unit of the
    // measurement beside it, not rounded to "0.0 ms".
    [Theory]
    [InlineData(45e-6, 30e-6, "45 µs ×1 (model 30 µs)")]
    [InlineData(0.0025, 0.004, "2,500 µs ×1 (model 4,000 µs)")]
    [InlineData(0.025, 0.0243, "25.0 ms ×1 (model 24.3 ms)")]
    public void SummaryTables_ScenarioModel_InTheMeasurementsUnit(double p50, double predicted, string cell)
    {
        BenchmarkReport sample = Sample();
        var report = new BenchmarkReport
        {
            Metadata = sample.Metadata,
            Targets =
            [
                new TargetReport
                {
                    Name = "rpyc_threaded",
                    Protocol = "rpyc",
                    Status = TargetStatus.Ok,
                    Seconds = 1,
                    Scenarios =
                    [
                        new ScenarioResult
                        {
                            Key = "record_by_value", Scenario = "record", Style = "by value", Successes = 1, Failures = 0, Seconds = 1,
                            Latency = Statistics.FromSamples([p50]), RoundTripsPerOp = 1, PredictedSeconds = predicted,
                        },
                    ],
                },
            ],
        };
        SummaryTable table = SummaryTables.Build(report).Single(t => t.Title.StartsWith("Decision scenarios", StringComparison.Ordinal));
        Assert.Equal(["record_by_value", cell], table.Rows.Single());
    }

    // 'rpycbench report' of a --test-binary-transfer run shows its two binary tables, as the run did.
    [Fact]
    public void ReportReader_BinaryTransfers_RenderTheSameTables()
    {
        BenchmarkReport sample = Sample();
        BinaryWayResult Ok(long size, double seconds) => new()
        {
            Status = BinaryWayStatus.Ok, Iterations = 3, Size = size, Seconds = seconds, MinSeconds = seconds * 0.9, Sha256Ok = true,
            ClientRssPeak = 80L << 20, ServerRssPeak = 120L << 20, RssExact = true,
        };
        var binary = new BinaryTransferResult(65536, 3,
        [
            new BinarySizeResult(1 << 20,
            [
                new BinaryModeResult(BinaryTransferModes.Whole, Ok(1 << 20, 0.004), Ok(1 << 20, 0.005)),
                new BinaryModeResult(BinaryTransferModes.Chunked, Ok(1 << 20, 0.02),
                    new BinaryWayResult { Status = BinaryWayStatus.Failed, Reason = "SHA-256, \"mismatch\"", Iterations = 1, Size = 1 << 20, Seconds = 0.03, MinSeconds = 0.03, Sha256Ok = false }),
            ]),
            new BinarySizeResult(1L << 30,
            [
                new BinaryModeResult(BinaryTransferModes.Whole,
                    new BinaryWayResult { Status = BinaryWayStatus.Refused, Reason = "beyond the 512 MiB frame limit", Size = 1L << 30 },
                    new BinaryWayResult { Status = BinaryWayStatus.Refused, Reason = "beyond the 512 MiB frame limit", Size = 1L << 30 }),
            ]),
        ]);
        TargetReport target = sample.Targets[0];
        var report = new BenchmarkReport
        {
            Metadata = sample.Metadata,
            Targets = [new TargetReport { Name = target.Name, Protocol = target.Protocol, Status = TargetStatus.Failed, Seconds = 2, BinaryTransfer = binary }],
        };

        BenchmarkReport read = ReportReader.Parse(JsonReporter.Render(report));

        string Text(BenchmarkReport r) => string.Join("\n", SummaryTables.Build(r).Select(t => t.Title + ": " + string.Join(" / ", t.Rows.Select(row => string.Join(" | ", row)))));
        Assert.Contains("Binary transfers (MiB/s): 64 KiB chunks, 3 iterations", Text(report), StringComparison.Ordinal);
        Assert.Equal(Text(report), Text(read));
        Assert.Equal(JsonReporter.Render(report), JsonReporter.Render(read));
    }

    // A phase in which every request failed has no rate: its throughput is "failed" in the tables
    // (as a bandwidth size's is) and has no CSV row, not a measured-looking 0 req/s.
    [Fact]
    public void SummaryTablesAndCsv_PhaseWithNoSuccess_ThroughputFailedNotZero()
    {
        var target = new TargetReport
        {
            Name = "rpyc_threaded",
            Protocol = "rpyc",
            Status = TargetStatus.Failed,
            Seconds = 3,
            Latency = new LatencyResult { Name = "l", Operation = "ping", Latency = Statistics.Empty, Successes = 0, Failures = 5, Seconds = 1.5 },
            Concurrent = new ConcurrentResult
            {
                Name = "k", Clients = 2, RequestsPerClient = 2, Successes = 0, Failures = 4, Seconds = 0.5, Latency = Statistics.Empty,
                PerClient =
                [
                    new ClientResult { Client = 0, Successes = 0, Failures = 2, Seconds = 0.5, Latency = Statistics.Empty },
                    new ClientResult { Client = 1, Successes = 0, Failures = 2, Seconds = 0.5, Latency = Statistics.Empty },
                ],
            },
        };
        var report = new BenchmarkReport { Metadata = Sample().Metadata, Targets = [target] };

        IReadOnlyList<SummaryTable> tables = SummaryTables.Build(report);
        string Cell(string title, string metric) =>
            tables.Single(t => t.Title.StartsWith(title, StringComparison.Ordinal)).Rows.Single(r => r[0] == metric)[1];
        Assert.Equal("failed", Cell("Latency", "throughput (req/s)"));
        Assert.Equal("0 / 5", Cell("Latency", "ok / failed"));
        Assert.Equal("failed", Cell("Concurrent", "throughput (req/s)"));
        Assert.Equal("-", Cell("Concurrent", "slowest client (req/s)"));
        Assert.Equal("0.0", Cell("Concurrent", "success rate (%)"));
        string csv = CsvReporter.Render(report);
        Assert.DoesNotContain(",throughput,", csv, StringComparison.Ordinal);
        Assert.Contains("rpyc_threaded,concurrent,success_rate,fraction,0,,,1", csv, StringComparison.Ordinal);
    }
}
