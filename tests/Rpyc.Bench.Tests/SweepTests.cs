using System.Diagnostics;
using System.Text.Json;

namespace Rpyc.Bench.Tests;

public class SweepTests
{
    [Fact]
    public void Points_TwoAxes_EveryCombinationLastAxisFastest()
    {
        IReadOnlyList<IReadOnlyDictionary<string, int>> points = ParameterSweep.Points(
            [new SweepAxis(SweepAxis.Clients, [1, 8]), new SweepAxis(SweepAxis.PayloadSize, [1024, 4096, 65536])]);
        Assert.Equal(
            ["1/1024", "1/4096", "1/65536", "8/1024", "8/4096", "8/65536"],
            points.Select(p => $"{p[SweepAxis.Clients]}/{p[SweepAxis.PayloadSize]}"));
    }

    [Fact]
    public void Points_NoAxis_OnePointWithoutParameters() =>
        Assert.Empty(Assert.Single(ParameterSweep.Points([])));

    [Fact]
    public void Run_RepeatedOrEmptyAxis_Throws()
    {
        Assert.Throws<ArgumentException>(() => ParameterSweep.Run(new SuiteOptions(), [new SweepAxis(SweepAxis.Clients, [])]));
        Assert.Throws<ArgumentException>(() => ParameterSweep.Run(new SuiteOptions(), [new SweepAxis(SweepAxis.Clients, [1]), new SweepAxis(SweepAxis.Clients, [2])]));
        Assert.Throws<ArgumentException>(() => ParameterSweep.Run(new SuiteOptions(), [new SweepAxis("nope", [1])]));
    }

    [Fact]
    public void Render_Json_MetadataGridAndEachPointsFullReport()
    {
        SweepReport sweep = TwoPoints();
        using JsonDocument doc = JsonDocument.Parse(SweepJsonReporter.Render(sweep));
        JsonElement metadata = doc.RootElement.GetProperty("metadata");
        Assert.Equal("sweep", metadata.GetProperty("kind").GetString());
        Assert.Equal("a test grid", metadata.GetProperty("description").GetString());
        Assert.Equal([1, 8], metadata.GetProperty("grid").GetProperty("num_concurrent_clients").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("remote-box", metadata.GetProperty("remote_machine").GetProperty("hostname").GetString());
        Assert.Equal("here", metadata.GetProperty("machine").GetProperty("hostname").GetString());
        JsonElement[] points = doc.RootElement.GetProperty("points").EnumerateArray().ToArray();
        Assert.Equal([1, 8], points.Select(p => p.GetProperty("parameters").GetProperty("num_concurrent_clients").GetInt32()));
        // Each report is the run command's JSON, byte for byte as JsonReporter renders it.
        foreach ((JsonElement point, SweepPoint expected) in points.Zip(sweep.Points))
        {
            using JsonDocument run = JsonDocument.Parse(JsonReporter.Render(expected.Report));
            Assert.Equal(run.RootElement.GetRawText().Replace(" ", "").Replace("\n", ""), point.GetProperty("report").GetRawText().Replace(" ", "").Replace("\n", ""));
        }
    }

    // 'rpycbench report sweep.json' (or compare) is told the file is a sweep and where its runs are,
    // not that it is "not a well-formed rpycbench report: a target has no name".
    [Fact]
    public void ReportReader_SweepJson_RefusedAsASweepNamingItsPoints()
    {
        var e = Assert.Throws<ReportFormatException>(() => ReportReader.Parse(SweepJsonReporter.Render(TwoPoints()), "sweep.json"));
        Assert.Contains("'sweep.json' is a sweep (rpycbench sweep)", e.Message, StringComparison.Ordinal);
        Assert.Contains("points[].report", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("target has no name", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_Plots_OneLinePlotPerFigureAgainstTheSweptParameter()
    {
        IReadOnlyList<(string FileName, string Title, byte[] Png)> plots = SweepPlotReporter.Render(TwoPoints());
        Assert.Contains("concurrent_throughput_vs_num_concurrent_clients.png", plots.Select(p => p.FileName));
        Assert.Contains("latency_p50_vs_num_concurrent_clients.png", plots.Select(p => p.FileName));
        Assert.All(plots, p => Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], p.Png[..4]));
        Assert.All(plots, p => Assert.EndsWith("vs num_concurrent_clients", p.Title, StringComparison.Ordinal));
    }

    [Fact]
    public void Render_Plots_SingleValueAxisIsNotPlotted()
    {
        SweepReport sweep = TwoPoints();
        var single = sweep with
        {
            Metadata = sweep.Metadata with { Grid = [new SweepAxis(SweepAxis.Clients, [1])] },
            Points = sweep.Points.Take(1).ToArray(),
        };
        Assert.Empty(SweepPlotReporter.Render(single));
    }

    // A target that failed at the middle point (no figure there) was drawn as one line from the
    // first point to the last, a value at the middle that was never measured. Its line now breaks
    // there, and the point is marked as failed.
    [Fact]
    public void Lines_FailedMiddlePoint_BreaksTheLineAndMarksTheFailure()
    {
        BenchmarkReport ok = HtmlReportTests.ThreeTargets();
        TargetReport measured = ok.Targets[0];
        var failed = new TargetReport { Name = measured.Name, Protocol = measured.Protocol, Status = TargetStatus.Failed, Seconds = 3, Error = "server did not start" };
        BenchmarkReport middle = new() { Metadata = ok.Metadata, Targets = [failed, .. ok.Targets.Skip(1)] };
        var axis = new SweepAxis(SweepAxis.Clients, [1, 8, 32]);
        SweepPoint[] points =
        [
            new(new Dictionary<string, int> { [SweepAxis.Clients] = 1 }, ok),
            new(new Dictionary<string, int> { [SweepAxis.Clients] = 8 }, middle),
            new(new Dictionary<string, int> { [SweepAxis.Clients] = 32 }, ok),
        ];
        SweepFigure p50 = SweepFigure.All.Single(f => f.Key == "latency_p50");
        double y = p50.Value(measured)!.Value;

        IReadOnlyList<SweepLine<int>> lines = SweepPlotReporter.Lines(axis, points, p50);

        SweepLine<int> broken = lines.Single(l => l.Target == measured.Name);
        Assert.Equal([[(1, y)], [(32, y)]], broken.Segments.Select(s => s.ToArray()).ToArray());
        Assert.Equal([8], broken.Failed);
        foreach (SweepLine<int> whole in lines.Where(l => l.Target != measured.Name))
        {
            Assert.Equal([1, 8, 32], Assert.Single(whole.Segments).Select(p => p.X));
            Assert.Empty(whole.Failed);
        }
        SweepReport sweep = TwoPoints() with { Metadata = TwoPoints().Metadata with { Grid = [axis] }, Points = points };
        Assert.Contains("latency_p50_vs_num_concurrent_clients.png", SweepPlotReporter.Render(sweep).Select(p => p.FileName));
    }

    [Fact]
    public void Figures_ReadTheReportsValues()
    {
        TargetReport target = HtmlReportTests.ThreeTargets().Targets[0];
        SweepFigure p50 = SweepFigure.All.Single(f => f.Key == "latency_p50");
        Assert.Equal(target.Latency!.Latency.P50 * 1e6, p50.Value(target));
        SweepFigure throughput = SweepFigure.All.Single(f => f.Key == "concurrent_throughput");
        Assert.Equal(target.Concurrent?.Successes > 0 ? target.Concurrent.Throughput : null, throughput.Value(target));
    }

    internal static SweepReport TwoPoints()
    {
        BenchmarkReport report = HtmlReportTests.ThreeTargets();
        return new SweepReport(
            new SweepMetadata("a test grid", [new SweepAxis(SweepAxis.Clients, [1, 8])], "1.0.0", new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero), 12.5, false,
                new Dictionary<string, object> { ["hostname"] = "here", ["processor_count"] = 2 },
                new Dictionary<string, object> { ["hostname"] = "remote-box", ["available_cpus"] = new object[] { 0L, 1L } }),
            [
                new SweepPoint(new Dictionary<string, int> { [SweepAxis.Clients] = 1 }, report),
                new SweepPoint(new Dictionary<string, int> { [SweepAxis.Clients] = 8 }, report),
            ]);
    }
}

// The sweep command, run as users run it.
[Collection(ServerProcesses.Name)]
public class SweepCommandTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("sweep")]
    [InlineData("sweep", "--clients", "0")]
    [InlineData("sweep", "--clients", "1,x")]
    [InlineData("sweep", "--payload-sizes", "1X")]
    [InlineData("sweep", "--clients", "1", "--targets", "nope")]
    [InlineData("sweep", "--clients", "1", "--ssh-key", "/nonexistent")]
    [InlineData("sweep", "--clients", "1", "--remote-host", "user@host:99999")]
    [InlineData("--remote-host", "-oProxyCommand=evil")]
    [InlineData("--keep-remote")]
    [InlineData("--remote-host", "host", "--remote-dir", "relative/dir")]
    [InlineData("--remote-host", "host", "--remote-deploy", "sometimes")]
    [InlineData("--remote-host", "host", "--in-process")]
    [InlineData("--remote-host", "host", "--targets", "rpyc_threaded", "--rpyc-host", "10.0.0.2")]
    public void BadUsage_MessageAndExitCode2(params string[] args)
    {
        (int code, string stdout) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains("Error:", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Sweep_SmallGrid_JsonPointsReportsAndPlots()
    {
        string dir = Directory.CreateTempSubdirectory("rpycbench-sweep").FullName;
        try
        {
            string json = Path.Combine(dir, "sweep.json");
            (int code, string stdout) = Run("sweep", "--clients", "1,3", "--payload-sizes", "1K,8K", "--targets", "tcp_raw,rpyc_threaded",
                "--num-connections", "3", "--num-requests", "10", "--warmup", "2", "--requests-per-client", "5", "--transfers-per-size", "2",
                "--no-wrk", "--min-phase-seconds", "0", "--description", "tiny grid", "-o", json, "--plots", Path.Combine(dir, "plots"));
            Assert.Equal(0, code);
            Assert.Contains("tiny grid", stdout, StringComparison.Ordinal);
            Assert.Contains("concurrent req/s", stdout, StringComparison.Ordinal);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
            JsonElement metadata = doc.RootElement.GetProperty("metadata");
            Assert.Equal("tiny grid", metadata.GetProperty("description").GetString());
            Assert.False(metadata.TryGetProperty("remote_machine", out _));
            JsonElement[] points = doc.RootElement.GetProperty("points").EnumerateArray().ToArray();
            Assert.Equal(4, points.Length);
            foreach (JsonElement point in points)
            {
                int clients = point.GetProperty("parameters").GetProperty("num_concurrent_clients").GetInt32();
                int size = point.GetProperty("parameters").GetProperty("payload_size").GetInt32();
                JsonElement report = point.GetProperty("report");
                JsonElement parameters = report.GetProperty("metadata").GetProperty("parameters");
                Assert.Equal(clients, parameters.GetProperty("num_concurrent_clients").GetInt32());
                Assert.Equal([size], parameters.GetProperty("payload_sizes").EnumerateArray().Select(e => e.GetInt32()));
                foreach (string target in new[] { "tcp_raw", "rpyc_threaded" })
                {
                    JsonElement t = report.GetProperty(target);
                    Assert.Equal("ok", t.GetProperty("status").GetString());
                    Assert.False(t.GetProperty("remote").GetBoolean());
                    Assert.Equal(clients, t.GetProperty("concurrent").GetProperty("connections").GetInt32());
                    Assert.Equal(2, t.GetProperty("upload_bandwidth").GetProperty(size.ToString(System.Globalization.CultureInfo.InvariantCulture)).GetProperty("transfers").GetInt32());
                }
            }
            string[] plots = Directory.GetFiles(Path.Combine(dir, "plots"), "*.png").Select(Path.GetFileName).ToArray()!;
            // Each of the 8 figures against each axis, once per value of the other axis (2 × 2 × 8).
            Assert.Equal(32, plots.Length);
            Assert.Contains("concurrent_throughput_vs_num_concurrent_clients_payload_size_1024.png", plots);
            Assert.Contains("upload_bandwidth_vs_payload_size_num_concurrent_clients_3.png", plots);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private (int Code, string Stdout) Run(params string[] args)
    {
        using Process process = Process.Start(CliTests.Rpycbench(args))!;
        process.StandardInput.Close();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(300_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("rpycbench did not finish in 300 s");
        }
        output.WriteLine(stdout);
        output.WriteLine(stderr.Result);
        return (process.ExitCode, stdout);
    }
}
