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
