using System.Diagnostics;

namespace Rpyc.Bench.Tests;

// CPU placement: every thread of a process (and of processes it starts) pinned, read back from /proc.
[Collection(ServerProcesses.Name)]
public class PlacementTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(CpuPlacementMode.SameCpu)]
    [InlineData(CpuPlacementMode.SplitCpus)]
    public void PinServer_RunningChild_EveryThreadOnTheServerCpuThenRestored(CpuPlacementMode mode)
    {
        CpuPlacement placement = CpuPlacement.Resolve(mode);
        output.WriteLine(placement.ToString());
        using ServerHost host = ServerHost.Start(TargetCatalog.RpycThreaded);
        int[] before = CpuPlacement.ThreadAffinities(host.ProcessId).Values.SelectMany(c => c).Distinct().Order().ToArray();
        using (PinnedThreads pin = placement.PinServer(host.ProcessId))
        {
            using (BenchClient client = host.Target.Connect())
            {
                client.Ping();
            }
            // Threads born since (the connection's) inherited the pin from their creator.
            IReadOnlyDictionary<int, int[]> threads = CpuPlacement.ThreadAffinities(host.ProcessId);
            output.WriteLine($"{threads.Count} threads, {pin.ThreadCount} pinned");
            Assert.True(threads.Count > 5);
            Assert.All(threads, t => Assert.Equal([placement.ServerCpu!.Value], t.Value));
        }
        Assert.All(CpuPlacement.ThreadAffinities(host.ProcessId), t => Assert.Equal(before, t.Value));
    }

    [Theory]
    [InlineData(CpuPlacementMode.SameCpu)]
    [InlineData(CpuPlacementMode.SplitCpus)]
    public void PinClient_ThisProcess_EveryThreadOnTheClientCpuThenRestored(CpuPlacementMode mode)
    {
        CpuPlacement placement = CpuPlacement.Resolve(mode);
        int[] available = CpuPlacement.AvailableCpus();
        using (placement.PinClient())
        {
            var thread = new Thread(() => { }) { IsBackground = true };
            thread.Start();
            thread.Join();
            Assert.All(CpuPlacement.ThreadAffinities(Environment.ProcessId), t => Assert.Equal([placement.ClientCpu!.Value], t.Value));
        }
        Assert.All(CpuPlacement.ThreadAffinities(Environment.ProcessId), t => Assert.Equal(available, t.Value));
    }

    [Fact]
    public void Resolve_SplitCpus_ClientAndServerOnDifferentCpus()
    {
        CpuPlacement split = CpuPlacement.Resolve(CpuPlacementMode.SplitCpus);
        CpuPlacement same = CpuPlacement.Resolve(CpuPlacementMode.SameCpu);
        Assert.NotEqual(split.ClientCpu, split.ServerCpu);
        Assert.Equal(same.ClientCpu, same.ServerCpu);
        Assert.Equal("split-cpus", split.Key);
        Assert.Null(CpuPlacement.Resolve(CpuPlacementMode.None).ClientCpu);
    }

    [Fact]
    public void Resolve_SplitOnOneCpu_ClearError()
    {
        // A child restricted to one CPU (as on a 1-CPU machine) asks for split-cpus.
        int cpu = CpuPlacement.AvailableCpus()[0];
        using Process child = CpuPlacement.StartPinned(cpu, () => Process.Start(new ProcessStartInfo(ForkingServer.DotnetHostPath)
        {
            ArgumentList = { "exec", Path.Combine(AppContext.BaseDirectory, "rpycbench-host.dll"), "serve", "tcp_raw", "--watch-stdin" },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!);
        try
        {
            Assert.Equal([cpu], CpuPlacement.ThreadAffinities(child.Id)[child.Id]);
        }
        finally
        {
            child.Kill(entireProcessTree: true);
            child.WaitForExit(5000);
        }
        using (CpuPlacement.PinProcess(Environment.ProcessId, cpu, includeDescendants: false))
        {
            var ex = Assert.Throws<CpuPlacementException>(() => CpuPlacement.Resolve(CpuPlacementMode.SplitCpus));
            output.WriteLine(ex.Message);
            Assert.Contains("split-cpus needs two CPUs", ex.Message, StringComparison.Ordinal);
            Assert.Equal(cpu, CpuPlacement.Resolve(CpuPlacementMode.SameCpu).ServerCpu);
        }
    }

    [Theory]
    [InlineData("none", CpuPlacementMode.None)]
    [InlineData("same-cpu", CpuPlacementMode.SameCpu)]
    [InlineData("split_cpus", CpuPlacementMode.SplitCpus)]
    [InlineData("SPLIT-CPUS", CpuPlacementMode.SplitCpus)]
    public void ParseMode_Names_Parsed(string text, CpuPlacementMode expected) => Assert.Equal(expected, CpuPlacement.ParseMode(text));

    [Fact]
    public void ParseMode_Unknown_ClearError()
    {
        var ex = Assert.Throws<ArgumentException>(() => CpuPlacement.ParseMode("both"));
        Assert.Contains("none, same-cpu or split-cpus", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ThreadPlacement_PinnedServerAndClient_SeenOnTheirCpus()
    {
        CpuPlacement placement = CpuPlacement.Resolve(CpuPlacementMode.SplitCpus);
        using ServerHost host = ServerHost.Start(TargetCatalog.RpycThreaded, options: new ServerHostOptions { ServerCpu = placement.ServerCpu });
        using BenchClient client = host.Target.Connect();
        ObservedPlacement seen;
        using (placement.PinClient())
        using (var observer = new ThreadPlacement(Environment.ProcessId, host.ProcessId, TimeSpan.FromMilliseconds(10)))
        {
            for (int i = 0; i < 3000; i++)
            {
                client.Ping();
            }
            seen = observer.Stop();
        }
        output.WriteLine(seen.ToString());
        Assert.Equal([placement.ClientCpu!.Value], seen.ClientCpuSeconds.Keys);
        Assert.Equal([placement.ServerCpu!.Value], seen.ServerCpuSeconds.Keys);
        Assert.Equal(0, seen.SharedCpuFraction);
    }
}
