using System.Diagnostics;

namespace Rpyc.Bench.Tests;

// MachineNoise (other programs' CPU) and MachineInfo (one description of the machine).
[Collection(ServerProcesses.Name)]
public class MachineTests(ITestOutputHelper output)
{
    [Fact]
    public void Noise_BusyLoopChild_ShowsUpAsNoise()
    {
        // A process that is neither the client nor a server tree given: someone else's program.
        using Process busy = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "while :; do :; done"]) { UseShellExecute = false })!;
        try
        {
            MachineNoise noise = MachineNoise.Start();
            double busyCpu = WaitForCpu(busy.Id, seconds: 0.5);
            MachineNoiseResult r = noise.Stop();
            output.WriteLine($"{r}; the busy loop used {busyCpu:0.00} s of CPU");
            // Everything the busy loop used is other programs' CPU (USER_HZ ticks: 10 ms each).
            Assert.True(r.OtherCores * r.Seconds >= busyCpu - 0.05, $"others {r.OtherCores * r.Seconds:0.00} s < the busy loop's {busyCpu:0.00} s");
            // A busy loop that got a fair share of a CPU makes the interval busy.
            Assert.True(busyCpu / r.Seconds <= MachineNoise.BusyCores + 0.05 || r.Busy, $"{busyCpu / r.Seconds:0.00} cores of a busy loop, not Busy");
        }
        finally
        {
            busy.Kill();
            busy.WaitForExit(5000);
        }
    }

    [Fact]
    public void Noise_BusyLoopInAServerTree_IsOurs()
    {
        using Process busy = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "while :; do :; done"]) { UseShellExecute = false })!;
        try
        {
            MachineNoise noise = MachineNoise.Start(busy.Id);
            double busyCpu = WaitForCpu(busy.Id, seconds: 0.5);
            MachineNoiseResult r = noise.Stop();
            output.WriteLine($"{r}; the busy loop used {busyCpu:0.00} s of CPU");
            Assert.True(r.OurCores * r.Seconds >= busyCpu - 0.05, $"ours {r.OurCores * r.Seconds:0.00} s < the busy loop's {busyCpu:0.00} s");
        }
        finally
        {
            busy.Kill();
            busy.WaitForExit(5000);
        }
    }

    [Fact]
    public void Noise_BusyLoopUnderAClientHelper_IsOurs()
    {
        // rpyc's Python client of a pyclient_* target: a child of the client, neither a server nor
        // someone else's program; the CPU is burnt by its child, so its whole tree must count.
        using Process helper = StartHelperWithBusyChild(out int busyPid);
        try
        {
            MachineNoise noise = MachineNoise.Start(Environment.ProcessId, [], [helper.Id]);
            double busyCpu = WaitForCpu(busyPid, seconds: 0.5);
            MachineNoiseResult r = noise.Stop();
            output.WriteLine($"{r}; the helper's busy child used {busyCpu:0.00} s of CPU");
            Assert.True(r.OurCores * r.Seconds >= busyCpu - 0.05, $"ours {r.OurCores * r.Seconds:0.00} s < the busy loop's {busyCpu:0.00} s");
        }
        finally
        {
            helper.Kill(entireProcessTree: true);
            helper.WaitForExit(5000);
        }
    }

    [Fact]
    public void ResourceSampler_ClientHelperTree_CountsInTheClient()
    {
        using Process helper = StartHelperWithBusyChild(out int busyPid);
        try
        {
            using var withHelper = new ResourceSampler(Environment.ProcessId, includeDescendants: false, helperPids: [helper.Id]);
            using var alone = new ResourceSampler(Environment.ProcessId, includeDescendants: false);
            double busyCpu = WaitForCpu(busyPid, seconds: 0.5);
            ResourceUsage with = withHelper.Stop();
            ResourceUsage without = alone.Stop();
            output.WriteLine($"with the helper {with.CpuSeconds:0.00} s, {with.RssPeakBytes} B; alone {without.CpuSeconds:0.00} s, {without.RssPeakBytes} B; busy child {busyCpu:0.00} s");
            // The two samplers watch the same window: what one has over the other is the helper tree's.
            Assert.True(with.CpuSeconds - without.CpuSeconds >= busyCpu - 0.05, $"the helper tree added {with.CpuSeconds - without.CpuSeconds:0.00} s < its child's {busyCpu:0.00} s");
            Assert.True(with.RssPeakBytes > without.RssPeakBytes, "the helper tree's memory counts too");
        }
        finally
        {
            helper.Kill(entireProcessTree: true);
            helper.WaitForExit(5000);
        }
    }

    // A shell whose child spins: the child's pid once it is running.
    private static Process StartHelperWithBusyChild(out int busyPid)
    {
        Process helper = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "/bin/sh -c 'while :; do :; done' & wait"]) { UseShellExecute = false })!;
        long deadline = Clock.Now + Clock.FromSeconds(10);
        busyPid = 0;
        while (busyPid == 0 && Clock.Now < deadline)
        {
            busyPid = ProcStat.Descendants(helper.Id).Select(p => p.Pid).FirstOrDefault();
            if (busyPid == 0)
            {
                Thread.Sleep(10);
            }
        }
        Assert.True(busyPid != 0, "the helper's busy child did not start");
        return helper;
    }

    [Fact]
    public void Noise_OurOwnCpu_IsNotNoise()
    {
        MachineNoise noise = MachineNoise.Start();
        double spun = SpinThisProcess(seconds: 0.5);
        MachineNoiseResult r = noise.Stop();
        output.WriteLine($"{r} (spun {spun:0.00} s)");
        // Our spinning is counted as ours, so it is not left in the others' share.
        Assert.True(r.OurCores * r.Seconds >= spun - 0.05, $"ours {r.OurCores * r.Seconds:0.00} s < spun {spun:0.00} s");
        // /proc/stat counts in 10 ms ticks and a process's CPU finer, so the machine's total can read a
        // tick below ours; the others' share is clamped at zero, never above what is left.
        Assert.True(r.OtherCores <= Math.Max(0, r.MachineCores - r.OurCores) + (0.01 / r.Seconds) + 1e-9, $"{r}");
    }

    [Fact]
    public void MachineInfo_Collect_DescribesThisMachine()
    {
        MachineInfo info = MachineInfo.Collect();
        output.WriteLine(info.ToString());
        Assert.Equal(Environment.MachineName, info.Hostname);
        Assert.Equal(Environment.ProcessorCount, info.ProcessorCount);
        Assert.NotEmpty(info.AvailableCpus);
        Assert.True(info.MemoryBytes > 0);
        Assert.NotNull(info.Kernel);
        Assert.Equal(3, info.LoadAverage.Count);
        Assert.True(info.Optimized, "tests run the Release build");
        IReadOnlyDictionary<string, object> values = info.ToDictionary();
        Assert.Equal(info.CpuModel, values["cpu_model"]);
        Assert.DoesNotContain(values, kv => kv.Value is null);
    }

    // Waits until a process has used the given CPU seconds (it runs on its own), bounded at 10 s; returns what it used.
    private static double WaitForCpu(int pid, double seconds)
    {
        ProcStat.TryRead(pid, out ProcStat start);
        long deadline = Clock.Now + Clock.FromSeconds(10);
        double used = 0;
        while (Clock.Now < deadline && used < seconds && ProcStat.TryRead(pid, out ProcStat now))
        {
            used = now.UserSeconds + now.SystemSeconds - start.UserSeconds - start.SystemSeconds;
            Thread.Sleep(20);
        }
        ProcStat.TryRead(pid, out ProcStat end);
        return end.UserSeconds + end.SystemSeconds - start.UserSeconds - start.SystemSeconds;
    }

    // Burns CPU on this thread until this process has used the given CPU seconds more, bounded at 10 s.
    private static double SpinThisProcess(double seconds)
    {
        ProcStat.TryRead(Environment.ProcessId, out ProcStat start);
        long deadline = Clock.Now + Clock.FromSeconds(10);
        double used = 0;
        while (Clock.Now < deadline && used < seconds)
        {
            for (int i = 0; i < 1_000_000; i++)
            {
                Thread.SpinWait(1);
            }
            ProcStat.TryRead(Environment.ProcessId, out ProcStat now);
            used = now.UserSeconds + now.SystemSeconds - start.UserSeconds - start.SystemSeconds;
        }
        return used;
    }
}
