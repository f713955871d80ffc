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
        Assert.Equal(2e-6, r.CpuPerRequest!.Client!.Value, 12);
        Assert.Null(r.CpuPerRequest.Server);
        Assert.Null(new LatencyBenchmark("none", () => true, new RunLimits(5, TimeSpan.FromSeconds(10))).Execute().CpuPerRequest);
        Assert.Null(new LatencyBenchmark("no reading", () => true, new RunLimits(5, TimeSpan.FromSeconds(10))) { Cpu = new CpuMeters(() => null, () => null) }.Execute().CpuPerRequest);
    }

    [Fact]
    public void AcrossRuns_EachSidesMedianAndInterval_Weighted_ByRequests()
    {
        CpuPerRequest combined = CpuPerRequest.AcrossRuns([new(10e-6, 20e-6), null, new(30e-6, null), new(20e-6, 40e-6)])!;
        Assert.Equal(20e-6, combined.Client!.Value, 12);
        Assert.Equal(30e-6, combined.Server!.Value, 12);
        Assert.Equal(3, combined.Runs!.Count);
        Interval client = combined.ClientCi95!.Value;
        Assert.True(client.Low < 20e-6 && client.High > 20e-6);
        Assert.NotNull(combined.ServerCi95);
        Assert.Null(CpuPerRequest.AcrossRuns([null, null]));
        // One connection of 100 requests at 10 µs and one of 300 at 30: 25 µs a request.
        Assert.Equal(25e-6, CpuPerRequest.Weighted(new(10e-6, null), 100, new(30e-6, 5e-6), 300)!.Client!.Value, 12);
        Assert.Equal(5e-6, CpuPerRequest.Weighted(new(10e-6, null), 100, new(30e-6, 5e-6), 300)!.Server!.Value, 12);
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
            Runs = 2,
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
            Assert.All(l.CpuPerRequest!.Runs!, run =>
            {
                Assert.InRange(run.Client!.Value, 1e-7, 2 * Environment.ProcessorCount * wall);
                Assert.InRange(run.Server!.Value, 1e-7, 2 * Environment.ProcessorCount * wall);
            });
            Assert.Equal(2, l.CpuPerRequest.Runs!.Count);
            Assert.NotNull(l.CpuPerRequest.ServerCi95);
        }
        // The machine's speed was probed before each target of each run, in the rounds' order.
        Assert.Equal([1, 1, 2, 2], report.Metadata.SpeedProbes.Select(p => p.Run));
        Assert.Equal(["rpyc_threaded", "tcp_raw"], report.Metadata.SpeedProbes.Where(p => p.Run == 1).Select(p => p.Target));
        Assert.All(report.Metadata.SpeedProbes, p => Assert.True(p.Microseconds > 0 && p.LoopbackMicroseconds > 0 && p.TransferMicroseconds > 0 && p.TransferByCpuMicroseconds!.Count == Environment.ProcessorCount));
        string json = JsonReporter.Render(report);
        using JsonDocument doc = JsonDocument.Parse(json);
        JsonElement cpu = doc.RootElement.GetProperty("rpyc_threaded").GetProperty("latency").GetProperty("cpu_per_request");
        CpuPerRequest measured = report.Targets[0].Latency!.CpuPerRequest!;
        Assert.Equal(measured.Client!.Value, cpu.GetProperty("client").GetDouble());
        Assert.Equal(measured.Server!.Value, cpu.GetProperty("server").GetDouble());
        Assert.Equal(2, cpu.GetProperty("runs").GetArrayLength());
        Assert.Equal(2, cpu.GetProperty("ci95").GetProperty("server").GetArrayLength());
        TargetReport back = ReportReader.Parse(json).Targets[0];
        Assert.Equal(measured.Server, back.Latency!.CpuPerRequest!.Server);
        Assert.Equal(measured.ClientCi95, back.Latency.CpuPerRequest.ClientCi95);
        Assert.Equal(measured.Runs!.Select(r => r.Server), back.Latency.CpuPerRequest.Runs!.Select(r => r.Server));
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
        Assert.Null(only.Latency!.CpuPerRequest);
    }
}
