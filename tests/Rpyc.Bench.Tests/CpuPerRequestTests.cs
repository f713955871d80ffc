using System.Diagnostics;
using System.Text.Json;

namespace Rpyc.Bench.Tests;

// CPU per request: the clocks (CpuClocks), the phase's bracket around the measured requests
// (LatencyBenchmark.Cpu), and the suite's figure in the report, its JSON and back.
[Collection(ServerProcesses.Name)]
public class CpuPerRequestTests(ITestOutputHelper output)
{
    [Fact]
    public void LatencyBenchmark_Cpu_BracketsTheMeasuredRequestsOnly()
    {
        // Each request "spends" 2 µs on the client's meter, the warmup's included: only the
        // measured ones may count. The server's meter has no reading.
        double spent = 0;
        LatencyResult r = new LatencyBenchmark("cpu", () =>
        {
            spent += 2e-6;
            return true;
        }, new RunLimits(50, TimeSpan.FromSeconds(10), Warmup: 30))
        {
            Cpu = new CpuMeters(() => spent, () => null),
        }.Execute();
        Assert.Equal(50, r.Successes);
        Assert.Equal(2e-6, r.ClientCpuPerRequest!.Value, 12);
        Assert.Null(r.ServerCpuPerRequest);
        Assert.Null(new LatencyBenchmark("none", () => true, new RunLimits(5, TimeSpan.FromSeconds(10))).Execute().ClientCpuPerRequest);
    }

    [Fact]
    public void ThisProcessSeconds_GrowsByTheCpuBurnt()
    {
        double before = CpuClocks.ThisProcessSeconds()!.Value;
        long end = Clock.Now + Clock.FromSeconds(0.2);
        long spins = 0;
        while (Clock.Now < end)
        {
            spins++;
        }
        double after = CpuClocks.ThisProcessSeconds()!.Value;
        Assert.True(spins > 0);
        // 0.2 s of wall on this thread; other threads may add, a busy machine may take some away.
        Assert.InRange(after - before, 0.1, 10);
    }

    [Fact]
    public void ProcessTreeSeconds_CountsADescendantsCpu_NullForNoProcess()
    {
        // sh starts a child that burns ~0.3 s of CPU and then sleeps: the tree's time is the child's.
        using Process sh = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "/bin/sh -c 'i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 30' & wait"]) { UseShellExecute = false })!;
        try
        {
            double tree = 0;
            long deadline = Clock.Now + Clock.FromSeconds(20);
            while (Clock.Now < deadline && tree < 0.1)
            {
                Thread.Sleep(50);
                tree = CpuClocks.ProcessTreeSeconds(sh.Id) ?? 0;
            }
            Assert.True(tree >= 0.1, $"the tree's CPU stayed at {tree:0.000} s");
            // The root itself only waits.
            Assert.True(sh.TotalProcessorTime.TotalSeconds < tree / 2, $"root {sh.TotalProcessorTime.TotalSeconds:0.000} s, tree {tree:0.000} s");
        }
        finally
        {
            sh.Kill(entireProcessTree: true);
            sh.WaitForExit(5000);
        }
        Assert.Null(CpuClocks.ProcessTreeSeconds(sh.Id));
    }

    [Fact]
    public void Suite_PingCpuPerRequest_BothSidesMeasuredWrittenAndReadBack()
    {
        BenchmarkReport report = BenchmarkSuite.RunAll(new SuiteOptions
        {
            Targets = [TargetCatalog.RpycThreaded, TargetCatalog.TcpRaw],
            NumConnections = 3,
            NumRequests = 2000,
            WarmupRequests = 50,
            WarmupDuration = TimeSpan.Zero,
            NumConcurrentClients = 2,
            RequestsPerClient = 10,
            PayloadSizes = [1024],
            TransfersPerSize = 3,
            MinPhaseDuration = TimeSpan.Zero,
            Scenarios = [],
            RunWrk = false,
        });
        output.WriteLine(TextReporter.Render(report));
        foreach (TargetReport t in report.Targets)
        {
            Assert.True(t.Status == TargetStatus.Ok, t.Error);
            LatencyResult l = t.Latency!;
            double wall = l.Seconds / l.Successes;
            // Each side's CPU per ping is some of the ping's time and never more than all of it on
            // both CPUs (a receive spin can make it most of it).
            Assert.InRange(l.ClientCpuPerRequest!.Value, 1e-7, 2 * Environment.ProcessorCount * wall);
            Assert.InRange(l.ServerCpuPerRequest!.Value, 1e-7, 2 * Environment.ProcessorCount * wall);
        }
        string json = JsonReporter.Render(report);
        using JsonDocument doc = JsonDocument.Parse(json);
        JsonElement cpu = doc.RootElement.GetProperty("rpyc_threaded").GetProperty("latency").GetProperty("cpu_per_request");
        Assert.Equal(report.Targets[0].Latency!.ClientCpuPerRequest!.Value, cpu.GetProperty("client").GetDouble());
        Assert.Equal(report.Targets[0].Latency!.ServerCpuPerRequest!.Value, cpu.GetProperty("server").GetDouble());
        TargetReport back = ReportReader.Parse(json).Targets[0];
        Assert.Equal(report.Targets[0].Latency!.ServerCpuPerRequest, back.Latency!.ServerCpuPerRequest);
        Assert.Contains("server CPU / request (µs)", TextReporter.Render(report), StringComparison.Ordinal);
    }

    [Fact]
    public void Suite_ServerInTheClientsProcess_NeitherSideMeasured()
    {
        BenchmarkReport report = BenchmarkSuite.RunAll(new SuiteOptions
        {
            Targets = [TargetCatalog.RpycThreaded],
            ServerOptions = new ServerHostOptions { InProcess = true },
            NumConnections = 2,
            NumRequests = 50,
            WarmupRequests = 5,
            WarmupDuration = TimeSpan.Zero,
            NumConcurrentClients = 2,
            RequestsPerClient = 5,
            PayloadSizes = [1024],
            TransfersPerSize = 2,
            MinPhaseDuration = TimeSpan.Zero,
            Scenarios = [],
            RunWrk = false,
        });
        TargetReport only = Assert.Single(report.Targets);
        Assert.True(only.Status == TargetStatus.Ok, only.Error);
        Assert.Null(only.Latency!.ClientCpuPerRequest);
        Assert.Null(only.Latency.ServerCpuPerRequest);
    }
}
