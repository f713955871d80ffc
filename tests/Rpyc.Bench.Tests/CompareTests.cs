using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Rpyc.Bench.Tests;

public class CompareTests(ITestOutputHelper output)
{
    // One target measured in three runs; every time multiplied by timeScale, every rate divided by it.
    internal static BenchmarkReport Report(double timeScale, string name = "rpyc_threaded", int runs = 3, double spread = 0.01, string? implementation = null)
    {
        Statistics Runs(params double[] seconds)
        {
            var each = Enumerable.Range(0, runs).Select(r => Statistics.FromSamples(seconds.Select(s => s * timeScale * (1 + (spread * (r - 1)))))).ToArray();
            return runs > 1 ? Statistics.AcrossRuns(each) : each[0];
        }
        BandwidthSizeResult Size(int size, double seconds)
        {
            BandwidthSizeResult[] each = Enumerable.Range(0, runs).Select(r => new BandwidthSizeResult
            {
                SizeBytes = size, Transfers = 10, Failures = 0, Seconds = seconds * timeScale * (1 + (spread * (r - 1))), Latency = Runs(seconds / 10),
            }).ToArray();
            return runs == 1 ? each[0] : new BandwidthSizeResult
            {
                SizeBytes = size, Transfers = 30, Failures = 0, Seconds = each.Sum(e => e.Seconds), Latency = Runs(seconds / 10),
                BytesPerSecond = ConfidenceInterval.Median(each.Select(e => e.BytesPerSecond)), Runs = each,
                BytesPerSecondCi95 = ConfidenceInterval.Of95(each.Select(e => e.BytesPerSecond)),
            };
        }
        ConcurrentResult Concurrent(double seconds) => new()
        {
            Name = "k", Clients = 2, RequestsPerClient = 50, Successes = 100, Failures = 0, Seconds = seconds * timeScale,
            Latency = Runs(0.0004, 0.0005), PerClient = [],
        };
        var target = new TargetReport
        {
            Name = name,
            Protocol = "rpyc",
            Implementation = implementation,
            RunCount = runs,
            Status = TargetStatus.Ok,
            Seconds = 2,
            Connection = new ConnectionResult { Name = "c", ConnectionTime = Runs(0.001, 0.0012, 0.0015), TcpConnect = Runs(0.0001), Successes = 3, Failures = 0, Seconds = 0.01 },
            Latency = new LatencyResult { Name = "l", Operation = "ping", Latency = Runs(0.00005, 0.00006, 0.00007, 0.00009), Successes = 4 * runs, Failures = 0, Seconds = 0.001 },
            Bandwidth = new BandwidthResult { Name = "b", Upload = [Size(1024, 0.001)], Download = [Size(1024 * 1024, 0.01)] },
            Concurrent = runs == 1 ? Concurrent(0.01) : CombinedConcurrent(Enumerable.Range(0, runs).Select(r => 0.01 * timeScale * (1 + (spread * (r - 1)))).ToArray()),
        };
        return new BenchmarkReport { Metadata = ReporterTests.Sample().Metadata, Targets = [target] };

        ConcurrentResult CombinedConcurrent(double[] seconds)
        {
            ConcurrentResult[] each = seconds.Select(s => new ConcurrentResult
            {
                Name = "k", Clients = 2, RequestsPerClient = 50, Successes = 100, Failures = 0, Seconds = s, Latency = Statistics.FromSamples([0.0004 * timeScale]), PerClient = [],
            }).ToArray();
            return new ConcurrentResult
            {
                Name = "k", Clients = 2, RequestsPerClient = 50, Successes = 100 * each.Length, Failures = 0, Seconds = seconds.Sum(),
                Latency = Statistics.AcrossRuns(each.Select(e => e.Latency).ToArray()), PerClient = [],
                Throughput = ConfidenceInterval.Median(each.Select(e => e.Throughput)), Runs = each,
                ThroughputCi95 = ConfidenceInterval.Of95(each.Select(e => e.Throughput)),
            };
        }
    }

    [Fact]
    public void Compare_SameReport_EveryFigureSame()
    {
        ReportComparison c = ReportComparison.Compare(Report(1), Report(1));
        Assert.Equal(7, c.Figures.Count);
        Assert.All(c.Figures, f => Assert.Equal(Verdict.Same, f.Verdict));
        Assert.All(c.Figures, f => Assert.Equal(VerdictBasis.ConfidenceIntervals, f.Basis));
        Assert.Empty(c.Regressions(0));
    }

    [Fact]
    public void Compare_TwiceAsSlowWithRuns_SlowerFromIntervals()
    {
        ReportComparison c = ReportComparison.Compare(Report(1), Report(2));
        Assert.All(c.Figures, f => Assert.Equal(Verdict.Slower, f.Verdict));
        FigureComparison p50 = c.Figures.Single(f => f.Figure == "latency p50");
        Assert.Equal(100, p50.ChangePercent, 6);
        Assert.Equal("µs", p50.Unit);
        FigureComparison upload = c.Figures.Single(f => f.Figure == "upload 1 KiB");
        Assert.True(upload.HigherIsBetter);
        Assert.Equal(-50, upload.ChangePercent, 6);
        Assert.Equal(50, upload.WorsePercent, 6);
        Assert.Equal(c.Figures.Count, c.Regressions(10).Count);
        Assert.Empty(c.Regressions(100));
    }

    [Fact]
    public void Compare_CpuPerRequest_DecidedByTheNoiseBandOnlyWhereBothHaveIt()
    {
        static BenchmarkReport WithCpu(double clientUs, double? serverUs)
        {
            TargetReport t = Report(1).Targets[0];
            LatencyResult l = t.Latency!;
            var latency = new LatencyResult
            {
                Name = l.Name, Operation = l.Operation, Latency = l.Latency, Successes = l.Successes, Failures = l.Failures, Seconds = l.Seconds,
                CpuPerRequest = new CpuPerRequest(clientUs / 1e6, serverUs / 1e6),
            };
            var target = new TargetReport { Name = t.Name, Protocol = t.Protocol, RunCount = t.RunCount, Status = t.Status, Seconds = t.Seconds, Latency = latency };
            return new BenchmarkReport { Metadata = ReporterTests.Sample().Metadata, Targets = [target] };
        }
        ReportComparison c = ReportComparison.Compare(WithCpu(20, 15), WithCpu(30, 15.5));
        FigureComparison client = c.Figures.Single(f => f.Figure == "client CPU/req");
        Assert.Equal(20, client.Base, 9);
        Assert.Equal(30, client.New, 9);
        Assert.Equal("µs", client.Unit);
        Assert.Equal(Verdict.Slower, client.Verdict);
        Assert.Equal(VerdictBasis.NoiseBand, client.Basis);
        FigureComparison server = c.Figures.Single(f => f.Figure == "server CPU/req");
        Assert.Equal(Verdict.Same, server.Verdict);
        // These figures' names fit the console table's figure column: the unit stands under its header.
        string[] rows = ComparisonReporter.RenderText(c).Split('\n');
        int unit = rows.Single(l => l.StartsWith("figure ", StringComparison.Ordinal)).IndexOf(" unit", StringComparison.Ordinal) + 1;
        Assert.All(rows.Where(l => l.Contains("CPU", StringComparison.Ordinal)), l => Assert.Equal(unit, l.IndexOf(" µs", StringComparison.Ordinal) + 1));
        // A side measured in one report only (a remote server) is not compared.
        Assert.DoesNotContain(ReportComparison.Compare(WithCpu(20, null), WithCpu(20, 15)).Figures, f => f.Figure == "server CPU/req");
    }

    [Fact]
    public void Compare_Faster_IsFasterAndNoRegression()
    {
        ReportComparison c = ReportComparison.Compare(Report(1), Report(0.5));
        Assert.All(c.Figures, f => Assert.Equal(Verdict.Faster, f.Verdict));
        Assert.Empty(c.Regressions(0));
    }

    [Fact]
    public void Compare_OverlappingIntervals_SameEvenBeyondTheNoiseBand()
    {
        // Runs 50 % apart: wide intervals; a 20 % shift stays within them.
        ReportComparison c = ReportComparison.Compare(Report(1, spread: 0.5), Report(1.2, spread: 0.5), noiseBandPercent: 1);
        Assert.Equal(Verdict.Same, c.Figures.Single(f => f.Figure == "latency mean").Verdict);
    }

    [Theory]
    [InlineData(1.05, 10, Verdict.Same)]
    [InlineData(1.15, 10, Verdict.Slower)]
    [InlineData(1.15, 20, Verdict.Same)]
    [InlineData(0.8, 10, Verdict.Faster)]
    public void Compare_SingleRuns_NoiseBandDecides(double scale, double band, Verdict expected)
    {
        ReportComparison c = ReportComparison.Compare(Report(1, runs: 1), Report(scale, runs: 1), band);
        FigureComparison mean = c.Figures.Single(f => f.Figure == "latency mean");
        Assert.Equal(VerdictBasis.NoiseBand, mean.Basis);
        Assert.Equal(expected, mean.Verdict);
    }

    [Fact]
    public void Compare_DifferentTargets_OnlyCommonComparedAndOthersListed()
    {
        ReportComparison c = ReportComparison.Compare(Report(1, "a"), Report(1, "b"));
        Assert.Empty(c.Figures);
        Assert.Equal(["a"], c.OnlyInBase);
        Assert.Equal(["b"], c.OnlyInNew);
    }

    // A target that stopped working has no figures left to compare: it must not drop out unnoticed.
    private static BenchmarkReport WithFailed(BenchmarkReport report, string name, string error) => new()
    {
        Metadata = report.Metadata,
        Targets = [.. report.Targets, new TargetReport { Name = name, Protocol = "rpyc", Status = TargetStatus.Failed, Error = error, Seconds = 1 }],
    };

    private static BenchmarkReport WithOk(BenchmarkReport report, string name) => new()
    {
        Metadata = report.Metadata,
        Targets = [.. report.Targets, .. Report(1, name).Targets],
    };

    [Fact]
    public void Compare_TargetFailedInNewOnly_IsARegressionWhateverTheThreshold()
    {
        ReportComparison c = ReportComparison.Compare(WithOk(Report(1), "rpyc_forking"), WithFailed(Report(1), "rpyc_forking", "the server did not start"));
        Assert.Equal(["rpyc_forking"], c.NewlyFailed.Select(t => t.Name));
        Assert.Empty(c.FailedInBoth);
        Assert.Empty(c.Regressions(1000));
        Assert.True(c.Regressed(1000));
        Assert.Contains("FAILED in new, not in base: rpyc_forking: the server did not start", ComparisonReporter.RenderText(c, 10), StringComparison.Ordinal);
        JsonNode json = JsonNode.Parse(ComparisonReporter.RenderJson(c, 10))!;
        Assert.Equal("rpyc_forking", (string)json["newly_failed"]![0]!["target"]!);

        ReportComparison both = ReportComparison.Compare(WithFailed(Report(1), "rpyc_forking", "x"), WithFailed(Report(1), "rpyc_forking", "y"));
        Assert.Empty(both.NewlyFailed);
        Assert.Equal(["rpyc_forking"], both.FailedInBoth);
        Assert.False(both.Regressed(10));

        ReportComparison recovered = ReportComparison.Compare(WithFailed(Report(1), "rpyc_forking", "x"), WithOk(Report(1), "rpyc_forking"));
        Assert.Empty(recovered.NewlyFailed);
        Assert.False(recovered.Regressed(10));
    }

    // The error of a target failed in new is often the server's stderr, a frame a line: in the
    // Markdown it stays one paragraph, and a pipe or a traceback's '<module>' is text.
    [Fact]
    public void RenderMarkdown_NewlyFailedMultiLineError_OneEscapedLine()
    {
        const string error = "the server did not start. Server stderr:\r\nTraceback (most recent call last):\n  File \"<string>\", line 1, in <module>\n| ValueError: a|b";
        ReportComparison c = ReportComparison.Compare(WithOk(Report(1), "rpyc_forking"), WithFailed(Report(1), "rpyc_forking", error));

        string md = ComparisonReporter.RenderMarkdown(c, 10);

        output.WriteLine(md);
        Assert.Contains(
            "\nFAILED in new, not in base: rpyc_forking: the server did not start. Server stderr:<br>Traceback (most recent call last):<br>  File \"&lt;string&gt;\", line 1, in &lt;module&gt;<br>\\| ValueError: a\\|b\n",
            md, StringComparison.Ordinal);
        Assert.DoesNotContain(md.Split('\n'), line => line.StartsWith("Traceback", StringComparison.Ordinal) || line.StartsWith("| ValueError", StringComparison.Ordinal));
        // The text stays as it was: a terminal shows the error's own lines.
        Assert.Contains("rpyc_forking: the server did not start. Server stderr:\r\nTraceback", ComparisonReporter.RenderText(c, 10), StringComparison.Ordinal);
    }

    // A report file's target names are any text (a hand-edited file, another tool's): compare
    // --markdown wrote them raw in its rows and its summary, so a '|' split the row's cells and
    // '*', '_', backticks and '<i>' became markup. The text output keeps them as written.
    [Fact]
    public void CompareCommand_TargetNameWithMarkup_MarkdownEscapesIt()
    {
        const string name = "evil|*bold* _em_ `code` <i>x</i>";
        const string escaped = @"evil\|\*bold\* \_em\_ \`code\` &lt;i&gt;x&lt;/i&gt;";
        string dir = Directory.CreateTempSubdirectory("rpycbench-compare-names").FullName;
        try
        {
            string baseline = Path.Combine(dir, "base.json"), slow = Path.Combine(dir, "slow.json"), md = Path.Combine(dir, "c.md");
            JsonReporter.Write(Report(1, name), baseline);
            JsonReporter.Write(Report(2, name), slow);

            (int code, string stdout) = Cli("compare", baseline, slow, "--threshold", "10%", "--markdown", md);

            Assert.Equal(1, code);
            string text = File.ReadAllText(md);
            output.WriteLine(text);
            Assert.Equal(7, text.Split('\n').Count(l => l.StartsWith($"| {escaped} | ", StringComparison.Ordinal)));
            Assert.Contains($"\n| {escaped} | latency p50 | µs | ", text, StringComparison.Ordinal);
            Assert.Contains($"<br>  {escaped} latency p50 +", text, StringComparison.Ordinal);
            Assert.DoesNotContain(name, text, StringComparison.Ordinal);
            MarkdownTables.AssertWhole(text);
            Assert.Contains($"\n{name}\n", stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void RenderText_LongTargetNames_NoLineOver80AndNamesWhole()
    {
        BenchmarkReport a = Report(1, "py_flask_threaded_with_a_long_name"), b = Report(1.5, "py_flask_threaded_with_a_long_name");
        string text = ComparisonReporter.RenderText(ReportComparison.Compare(a, b), 10);
        output.WriteLine(text);
        Assert.All(text.Split('\n'), line => Assert.True(line.Length <= 80, $"{line.Length} columns: {line}"));
        Assert.Contains("\npy_flask_threaded_with_a_long_name\n", text, StringComparison.Ordinal);
        Assert.Contains("slower", text, StringComparison.Ordinal);
        Assert.Contains("7 slower by more than 10%", text, StringComparison.Ordinal);
    }

    [Fact]
    public void RenderJsonAndMarkdown_CarryEveryFigure()
    {
        ReportComparison c = ReportComparison.Compare(Report(1), Report(2));
        JsonNode json = JsonNode.Parse(ComparisonReporter.RenderJson(c, 10))!;
        Assert.Equal(7, json["figures"]!.AsArray().Count);
        Assert.Equal(7, (int)json["regressions"]!);
        Assert.Equal("slower", (string)json["figures"]![0]!["verdict"]!);
        Assert.Equal("ci95", (string)json["figures"]![0]!["basis"]!);
        string md = ComparisonReporter.RenderMarkdown(c, 10);
        Assert.Equal(7, md.Split('\n').Count(l => l.StartsWith("| rpyc_threaded |", StringComparison.Ordinal)));
        Assert.Contains("**slower**", md, StringComparison.Ordinal);
    }

    [Fact]
    public void ReportReader_RoundTrip_RendersTheSameJson()
    {
        foreach (BenchmarkReport report in (BenchmarkReport[])[ReporterTests.Sample(), Report(1), Report(1, runs: 1)])
        {
            string json = JsonReporter.Render(report);
            Assert.Equal(json, JsonReporter.Render(ReportReader.Parse(json)));
        }
    }

    [Fact]
    public void ReportReader_OtherSchemaVersion_ClearError()
    {
        JsonNode json = JsonNode.Parse(JsonReporter.Render(Report(1)))!;
        json["metadata"]!["schema_version"] = 99;
        var ex = Assert.Throws<ReportFormatException>(() => ReportReader.Parse(json.ToJsonString(), "old.json"));
        Assert.Contains("'old.json' has schema version 99; this rpycbench reads schema version 1 only", ex.Message, StringComparison.Ordinal);
        json["metadata"]!.AsObject().Remove("schema_version");
        ex = Assert.Throws<ReportFormatException>(() => ReportReader.Parse(json.ToJsonString(), "old.json"));
        Assert.Contains("no schema_version", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1, 2]")]
    [InlineData("{\"metadata\": {\"tool\": \"other\"}}")]
    public void ReportReader_NotAReport_ClearError(string text)
    {
        var ex = Assert.Throws<ReportFormatException>(() => ReportReader.Parse(text, "x.json"));
        Assert.Contains("'x.json' is not", ex.Message, StringComparison.Ordinal);
    }

    private (int Code, string Stdout) Cli(params string[] args)
    {
        using Process process = Process.Start(CliTests.Rpycbench(args))!;
        process.StandardInput.Close();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("rpycbench did not finish in 60 s");
        }
        output.WriteLine(stdout);
        output.WriteLine(stderr.Result);
        return (process.ExitCode, stdout);
    }

    [Fact]
    public void CompareCommand_ExitCodesAndOutputs()
    {
        string dir = Directory.CreateTempSubdirectory("rpycbench-compare").FullName;
        try
        {
            string baseline = Path.Combine(dir, "base.json"), same = Path.Combine(dir, "same.json"), slow = Path.Combine(dir, "slow.json");
            JsonReporter.Write(Report(1), baseline);
            JsonReporter.Write(Report(1), same);
            JsonReporter.Write(Report(1.3), slow);

            (int code, string stdout) = Cli("compare", baseline, same, "--threshold", "10%");
            Assert.Equal(0, code);
            Assert.Equal(7, stdout.Split('\n').Count(l => l.TrimEnd().EndsWith("same", StringComparison.Ordinal)));
            Assert.All(stdout.Split('\n'), line => Assert.True(line.Length <= 80, line));

            (code, stdout) = Cli("compare", baseline, slow, "--threshold", "10%");
            Assert.Equal(1, code);
            Assert.Contains("slower by more than 10%", stdout, StringComparison.Ordinal);
            // Without a threshold nothing gates: 0.
            Assert.Equal(0, Cli("compare", baseline, slow).Code);
            // 30 % worse is within a 50 % threshold.
            Assert.Equal(0, Cli("compare", baseline, slow, "--threshold", "50").Code);

            string md = Path.Combine(dir, "c.md");
            (code, stdout) = Cli("compare", baseline, slow, "--json", "--markdown", md);
            Assert.Equal(0, code);
            Assert.Equal(7, JsonNode.Parse(stdout)!["figures"]!.AsArray().Count(f => (string)f!["verdict"]! == "slower"));
            Assert.Contains("| rpyc_threaded | latency p50 | µs |", File.ReadAllText(md), StringComparison.Ordinal);

            string broken = Path.Combine(dir, "broken.json"), withForking = Path.Combine(dir, "with-forking.json");
            JsonReporter.Write(WithOk(Report(1), "rpyc_forking"), withForking);
            JsonReporter.Write(WithFailed(Report(1), "rpyc_forking", "the server did not start"), broken);
            (code, stdout) = Cli("compare", withForking, broken, "--threshold", "10%");
            Assert.Equal(1, code);
            Assert.Contains("FAILED in new, not in base: rpyc_forking", stdout, StringComparison.Ordinal);
            Assert.Equal(0, Cli("compare", withForking, broken).Code);

            File.WriteAllText(Path.Combine(dir, "bad.json"), "{\"hello\": 1}");
            (code, stdout) = Cli("compare", baseline, Path.Combine(dir, "bad.json"), "--threshold", "10%");
            Assert.Equal(2, code);
            Assert.Contains("is not an rpycbench report", stdout, StringComparison.Ordinal);
            (code, stdout) = Cli("compare", baseline, Path.Combine(dir, "missing.json"));
            Assert.Equal(2, code);
            Assert.Contains("Cannot read", stdout, StringComparison.Ordinal);
            (code, stdout) = Cli("compare", baseline, same, "--threshold", "lots");
            Assert.Equal(2, code);
            Assert.Contains("Bad --threshold 'lots'", stdout, StringComparison.Ordinal);
            Assert.Contains("rpycbench compare --help", stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("USAGE", stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}

public class CompareBusyTests
{
    // Without noise figures, only the load at the start counts: at the end it holds the run's own processes.
    [Theory]
    [InlineData(new[] { 0.2, 0.4 }, false)]
    [InlineData(new[] { 0.2, 3.8 }, false)]
    [InlineData(new[] { 1.0, 0.2 }, true)]
    [InlineData(new double[0], false)]
    public void BusyWarning_NoNoiseFigures_LoadAtTheStartOfHalfTheCpus_Warns(double[] load, bool warns)
    {
        BenchmarkReport quiet = CompareTests.Report(1);
        ReportComparison c = ReportComparison.Compare(quiet, WithLoad(quiet, load));
        Assert.Equal(warns, ComparisonReporter.BusyWarning(c) is not null);
        Assert.Equal(warns, ComparisonReporter.RenderText(c).Contains("Warning: the machine was busy during new (load 1.0 on 2 CPUs at its start)", StringComparison.Ordinal));
    }

    // A default run on 2 CPUs ends at a load of 3.8 of its own making; other programs' CPU while
    // each target was measured decides.
    [Theory]
    [InlineData(0.03, false)]
    [InlineData(0.35, true)]
    public void BusyWarning_NoiseFigures_DecideWhateverTheLoad(double noise, bool warns)
    {
        BenchmarkReport quiet = CompareTests.Report(1);
        BenchmarkReport loaded = WithLoad(quiet, [2.6, 3.8]);
        TargetReport t = loaded.Targets[0];
        var noisy = new BenchmarkReport
        {
            Metadata = loaded.Metadata,
            Targets =
            [
                new TargetReport
                {
                    Name = t.Name, Protocol = t.Protocol, RunCount = t.RunCount, Status = t.Status, Seconds = t.Seconds, Connection = t.Connection,
                    Latency = t.Latency, Bandwidth = t.Bandwidth, Concurrent = t.Concurrent, NoiseCores = noise,
                },
            ],
        };
        ReportComparison c = ReportComparison.Compare(noisy, noisy);
        string? warning = ComparisonReporter.BusyWarning(c);
        Assert.Equal(warns, warning is not null);
        if (warns)
        {
            Assert.Contains("base (other programs used 0.35 cores while rpyc_threaded was measured) and new", warning, StringComparison.Ordinal);
        }
    }

    private static BenchmarkReport WithLoad(BenchmarkReport report, double[] load)
    {
        RunMetadata m = report.Metadata;
        return new BenchmarkReport
        {
            Metadata = new RunMetadata
            {
                ToolVersion = m.ToolVersion, StartTime = m.StartTime, Machine = m.Machine, OperatingSystem = m.OperatingSystem, CpuModel = m.CpuModel,
                ProcessorCount = 2, MemoryBytes = m.MemoryBytes, Runtime = m.Runtime, PeerVersions = m.PeerVersions, Parameters = m.Parameters, LoadAverage = load,
            },
            Targets = report.Targets,
        };
    }
}

public class PercentTests
{
    [Theory]
    [InlineData(12.345, "+12.3%")]
    [InlineData(-8.04, "-8.0%")]
    [InlineData(0, "0.0%")]
    [InlineData(4704.6, "+4705%")]
    [InlineData(-99.99, "-100%")]
    [InlineData(250000, ">+9999%")]
    [InlineData(double.NaN, "-")]
    public void Percent_AtMostSevenCharacters(double value, string expected)
    {
        Assert.Equal(expected, ReportComparison.Percent(value));
        Assert.True(expected.Length <= 7);
    }
}
