using System.Text.Json;

namespace Rpyc.Bench.Tests;

[Collection(ServerProcesses.Name)]
public class SuiteTests(ITestOutputHelper output)
{
    private static SuiteOptions Short(params string[] targets) => Short(TimeSpan.Zero, targets);

    private static SuiteOptions Short(TimeSpan receiveSpin, params string[] targets) => new()
    {
        Targets = targets,
        ReceiveSpin = receiveSpin,
        NumConnections = 5,
        NumRequests = 20,
        WarmupRequests = 5,
        WarmupDuration = TimeSpan.Zero,
        NumConcurrentClients = 3,
        RequestsPerClient = 20,
        PayloadSizes = [1024, 65536],
        TransfersPerSize = 3,
        MinPhaseDuration = TimeSpan.Zero,
        RunWrk = false,
    };

    [Fact]
    public void RunAll_DotnetTargets_EveryResultKeptAndValid()
    {
        BenchmarkReport report = BenchmarkSuite.RunAll(Short(TargetCatalog.RpycThreaded, TargetCatalog.HttpThreaded, TargetCatalog.TcpRaw));
        output.WriteLine(TextReporter.Render(report));
        Assert.False(report.AnyFailed);
        Assert.Equal([TargetCatalog.RpycThreaded, TargetCatalog.HttpThreaded, TargetCatalog.TcpRaw], report.Targets.Select(t => t.Name));
        foreach (TargetReport t in report.Targets)
        {
            Assert.Equal(TargetStatus.Ok, t.Status);
            Assert.Equal(5, t.Connection!.Successes);
            Assert.Equal(20, t.Latency!.Successes);
            Assert.Equal(1.0, t.Latency.RoundTripsPerRequest);
            Assert.Equal([1024, 65536], t.Bandwidth!.Upload.Select(u => u.SizeBytes));
            Assert.All(t.Bandwidth.Download, d => Assert.Equal(3, d.Transfers));
            Assert.Equal(60, t.Concurrent!.Successes);
            Assert.Equal(3, t.Concurrent.PerClient.Count);
            Assert.Equal(1.0, t.Concurrent.SuccessRate);
            Assert.NotNull(t.ServerResources);
            Assert.True(t.ServerResources.RssPeakBytes > 0);
        }
        Assert.Equal(2.0, report.Targets[0].Connection!.RoundTripsPerConnection);
        // Both .NET servers' clients were measured again beside the floor's, in alternating slices.
        Assert.All(report.Targets.Take(2), t => Assert.True(t.Concurrent!.Floor is { Failures: 0, Slices: >= 3, Clients: 3 }, t.Name));
        Assert.Null(report.Targets[2].Concurrent!.Floor);
        using JsonDocument json = JsonDocument.Parse(JsonReporter.Render(report));
        Assert.Equal(1.0, json.RootElement.GetProperty("rpyc_threaded").GetProperty("round_trips_per_request").GetDouble());
        Assert.True(json.RootElement.GetProperty("metadata").GetProperty("parameters").GetProperty("num_requests").GetInt32() == 20);
        Assert.Equal(0, json.RootElement.GetProperty("metadata").GetProperty("parameters").GetProperty("receive_spin_us").GetDouble());
    }

    [Fact]
    public void RunAll_ReceiveSpin_ServerStartedWithItAndReported()
    {
        string? serverCommandLine = null;
        BenchmarkReport report = BenchmarkSuite.RunAll(Short(TimeSpan.FromMicroseconds(50), TargetCatalog.RpycThreaded), new Progress(p =>
        {
            if (p.Phase == "latency")
            {
                serverCommandLine = ServerCommandLines().SingleOrDefault();
            }
        }));
        output.WriteLine(TextReporter.Render(report));
        TargetReport only = Assert.Single(report.Targets);
        Assert.True(only.Status == TargetStatus.Ok, only.Error);
        Assert.Equal(20, only.Latency!.Successes);
        Assert.NotNull(serverCommandLine);
        Assert.Contains("\0--receive-spin-us\0" + "50\0", serverCommandLine, StringComparison.Ordinal);
        using JsonDocument json = JsonDocument.Parse(JsonReporter.Render(report));
        Assert.Equal(50, json.RootElement.GetProperty("metadata").GetProperty("parameters").GetProperty("receive_spin_us").GetDouble());
    }

    [Fact]
    public void ClientTarget_ReceiveSpin_EveryRpycTargetsClientSpins()
    {
        SuiteOptions options = Short(TimeSpan.FromMicroseconds(50));
        using IDisposable server = LocalServer.Start(TargetCatalog.RpycThreaded, "127.0.0.1", 0, out int port);
        foreach (TargetInfo info in TargetCatalog.All.Where(t => t.Protocol == "rpyc" && t.Client != TargetClient.Python && !BenchTls.IsTlsTarget(t.Name)))
        {
            using var client = (RpycBenchClient)options.ClientTarget(info, "127.0.0.1", port).Connect();
            client.Ping();
            Assert.Equal(TimeSpan.FromMicroseconds(50), client.Connection.Options.ReceiveSpin);
        }
    }

    [Fact]
    public void Defaults_ReceiveSpin_EverySuiteClientPollsAlikeButHttpClient()
    {
        var options = new SuiteOptions();
        Assert.Equal(TimeSpan.FromMicroseconds(50), options.ReceiveSpin);
        Assert.Equal(options.ReceiveSpin, ServerHostOptions.Default.ReceiveSpin);
        Assert.Contains("polls 50 us", options.ClientTarget(TargetCatalog.Get(TargetCatalog.TcpRaw), "127.0.0.1", 1).ClientDescription, StringComparison.Ordinal);
        Assert.Contains("polls 50 us", options.ClientTarget(TargetCatalog.Get(TargetCatalog.HttpThreaded), "127.0.0.1", 1).ClientDescription, StringComparison.Ordinal);
        Assert.DoesNotContain("polls", options.ClientTarget(TargetCatalog.Get(TargetCatalog.HttpThreadedHttpClient), "127.0.0.1", 1).ClientDescription, StringComparison.Ordinal);
        Assert.DoesNotContain("polls", (options with { ReceiveSpin = TimeSpan.Zero }).ClientTarget(TargetCatalog.Get(TargetCatalog.TcpRaw), "127.0.0.1", 1).ClientDescription, StringComparison.Ordinal);
    }

    [Fact]
    public void LargestPayload_UploadAndDownloadOverTheSuitesRpycClientAndServer()
    {
        // Rpyc's default frame limit is exactly 64 MiB: a 64 MiB payload's frame was refused and its
        // connection closed, so the largest --payload-sizes entry could never be measured.
        using IDisposable server = LocalServer.Start(TargetCatalog.RpycThreaded, "127.0.0.1", 0, out int port);
        using BenchClient client = new SuiteOptions().ClientTarget(TargetCatalog.Get(TargetCatalog.RpycThreaded), "127.0.0.1", port).Connect();
        client.Upload(Payload.Create(BenchLimits.MaxPayloadBytes));
        client.Download(BenchLimits.MaxPayloadBytes);
    }

    [Fact]
    public void RunAll_PythonPeers_MeasuredLikeTheOthers()
    {
        BenchmarkReport report = BenchmarkSuite.RunAll(Short(TargetCatalog.PyRpycThreaded, TargetCatalog.PyRpycForking, TargetCatalog.PyFlaskThreaded, TargetCatalog.TcpRaw));
        output.WriteLine(TextReporter.Render(report));
        Assert.All(report.Targets, t => Assert.True(t.Status == TargetStatus.Ok, $"{t.Name}: {t.Error}"));
        // Their pings are paired with the floor's; their concurrent clients are not (a .NET server's only).
        Assert.All(report.Targets.Take(3), t =>
        {
            Assert.NotNull(t.Latency!.Floor);
            Assert.Null(t.Concurrent!.Floor);
        });
        Assert.Equal("5.3.0", report.Metadata.PeerVersions["rpyc"]);
        // werkzeug closes every connection after its reply: each Flask ping opens one, and the
        // report says so; the RPyC peers keep theirs.
        TargetReport flask = report.Targets.Single(t => t.Name == TargetCatalog.PyFlaskThreaded);
        Assert.Equal(1.0, flask.Latency!.ConnectionsPerRequest!.Value, 2);
        Assert.Contains(SummaryTables.Notes(report), n => n.StartsWith("py_flask_threaded: the server closed the connection after every reply", StringComparison.Ordinal));
        Assert.DoesNotContain(SummaryTables.Notes(report), n => n.StartsWith("py_rpyc", StringComparison.Ordinal) && n.Contains("closed the connection", StringComparison.Ordinal));
    }

    [Fact]
    public void RunTarget_ServerDiesMidRun_CountedFailuresAndPartialReport()
    {
        SuiteOptions options = Short(TargetCatalog.RpycThreaded);
        TargetReport report = BenchmarkSuite.RunTarget(TargetCatalog.Get(TargetCatalog.RpycThreaded), options, phase =>
        {
            if (phase == "concurrent")
            {
                KillServers();
            }
        });
        output.WriteLine(report.Error);
        Assert.Equal(TargetStatus.Failed, report.Status);
        Assert.Equal(5, report.Connection!.Successes);
        Assert.Equal(20, report.Latency!.Successes);
        Assert.NotNull(report.Bandwidth);
        Assert.Equal(0, report.Concurrent!.Successes);
        Assert.Equal(60, report.Concurrent.Failures);
        Assert.Contains("exited", report.Error, StringComparison.Ordinal);
        using JsonDocument json = JsonDocument.Parse(JsonReporter.Render(new BenchmarkReport
        {
            Metadata = BenchmarkSuite.CollectMetadata(options, DateTimeOffset.Now, 1, false),
            Targets = [report],
        }));
        Assert.Equal("failed", json.RootElement.GetProperty("rpyc_threaded").GetProperty("status").GetString());
        Assert.Equal(60, json.RootElement.GetProperty("rpyc_threaded").GetProperty("concurrent").GetProperty("failed_requests").GetInt32());
    }

    [Fact]
    public void LatencyBenchmark_ServerKilledDuringMeasuredPhase_RemainingRequestsFail()
    {
        using var host = new RpycServerHost();
        using BenchClient client = host.Target.Connect();
        int calls = 0;
        LatencyResult result = new LatencyBenchmark("dies", () =>
        {
            if (++calls == 11)
            {
                System.Diagnostics.Process.GetProcessById(host.ProcessId).Kill();
                System.Diagnostics.Process.GetProcessById(host.ProcessId).WaitForExit();
            }
            client.Ping();
            return true;
        }, new RunLimits(30, TimeSpan.FromSeconds(30))).Execute();
        Assert.Equal(10, result.Successes);
        Assert.Equal(20, result.Failures);
        Assert.NotNull(result.FirstError);
    }

    [Fact]
    public void RunAll_Cancelled_InterruptedPartialReport()
    {
        using var cancel = new CancellationTokenSource();
        BenchmarkReport report = BenchmarkSuite.RunAll(Short(TargetCatalog.TcpRaw, TargetCatalog.HttpThreaded), new Progress(p =>
        {
            if (p.Phase == "bandwidth")
            {
                cancel.Cancel();
            }
        }), cancel.Token);
        Assert.True(report.Metadata.Interrupted);
        TargetReport only = Assert.Single(report.Targets);
        Assert.Equal(TargetStatus.Interrupted, only.Status);
        Assert.NotNull(only.Latency);
        Assert.Null(only.Concurrent);
    }

    // The command lines of this test process's server processes (the rpycbench serve children), NUL-separated.
    private static IEnumerable<string> ServerCommandLines() =>
        ProcStat.Descendants(Environment.ProcessId)
            .Select(child => File.ReadAllText($"/proc/{child.Pid}/cmdline"))
            .Where(cmdline => cmdline.Contains("\0serve\0", StringComparison.Ordinal))
            .ToList();

    // Kills this test process's server processes (the rpycbench serve children).
    private static void KillServers()
    {
        foreach (ProcStat child in ProcStat.Descendants(Environment.ProcessId))
        {
            string cmdline = File.ReadAllText($"/proc/{child.Pid}/cmdline");
            if (cmdline.Contains("serve", StringComparison.Ordinal))
            {
                using var process = System.Diagnostics.Process.GetProcessById(child.Pid);
                process.Kill();
                process.WaitForExit();
            }
        }
    }

    private sealed class Progress(Action<SuiteProgress> report) : IProgress<SuiteProgress>
    {
        public void Report(SuiteProgress value) => report(value);
    }
}
