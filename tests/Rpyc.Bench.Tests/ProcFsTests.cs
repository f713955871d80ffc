using System.Diagnostics;
using System.Text;

namespace Rpyc.Bench.Tests;

// The /proc readers behind the samplers (ProcFs, ProcStat, ThreadPlacement) and SamplerGate.
[Collection(ServerProcesses.Name)]
public class ProcFsTests
{
    [Fact]
    public void StatFields_CommandNameWithSpacesAndParentheses_FieldsCountFromTheLastParenthesis()
    {
        byte[] line = Encoding.ASCII.GetBytes("4242 (a) b (c) S 17 4242 4242 0 -1 4194560 10 0 0 0 250 75 3 1 20 0 1 0 99 1000 321\n");
        Span<long> f = stackalloc long[24];
        int count = ProcFs.StatFields(line, f);
        Assert.Equal(22, count);
        Assert.Equal(0, f[0]);      // state: a letter
        Assert.Equal(17, f[1]);     // ppid
        Assert.Equal(-1, f[5]);     // tpgid may be negative
        Assert.Equal(250, f[11]);   // utime
        Assert.Equal(321, f[21]);   // rss pages
    }

    [Fact]
    public void Numbers_StopsAtTheBufferAndAtTheLineEnd()
    {
        Span<long> two = stackalloc long[2];
        Assert.Equal(2, ProcFs.Numbers("7 8 9\n"u8, two));
        Assert.Equal([7, 8], two.ToArray());
        Span<long> many = stackalloc long[8];
        Assert.Equal(3, ProcFs.Numbers("  7 8 9\n10"u8, many));
        Assert.Equal(0, ProcFs.Numbers(""u8, many));
    }

    [Fact]
    public void Read_MissingFile_MinusOne()
    {
        Span<byte> buffer = stackalloc byte[64];
        Assert.Equal(-1, ProcFs.Read("/proc/0/stat-not-there", buffer));
    }

    [Fact]
    public void TryRead_ThisProcess_MatchesItsParentAndCountsItsCpu()
    {
        Assert.True(ProcStat.TryRead(Environment.ProcessId, out ProcStat self));
        Assert.Equal(Environment.ProcessId, self.Pid);
        // status names the parent as well, in another format.
        string ppid = File.ReadLines("/proc/self/status").First(l => l.StartsWith("PPid:", StringComparison.Ordinal))[5..].Trim();
        Assert.Equal(int.Parse(ppid, System.Globalization.CultureInfo.InvariantCulture), self.ParentPid);
        Assert.True(self.UserSeconds + self.SystemSeconds > 0);
        Assert.True(self.RssBytes > 1 << 20);
    }

    [Fact]
    public void Descendants_ByChildrenFiles_SameTreeAsAScanOfEveryProcess()
    {
        Assert.True(ProcFs.HasChildrenFiles, "this kernel has no /proc/PID/task/TID/children (CONFIG_PROC_CHILDREN)");
        // A child with a grandchild: sh starts sleep in the background and waits.
        using Process sh = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "sleep 30 & wait"]) { UseShellExecute = false })!;
        try
        {
            int[] byChildren = [];
            long deadline = Clock.Now + Clock.FromSeconds(5);
            while (Clock.Now < deadline && byChildren.Length < 2)
            {
                Thread.Sleep(20);
                byChildren = [.. ProcStat.Descendants(Environment.ProcessId).Where(IsOurs).Select(p => p.Pid).Order()];
            }
            int[] byScan = [.. ProcStat.DescendantsByScan(Environment.ProcessId).Where(IsOurs).Select(p => p.Pid).Order()];
            Assert.Equal(2, byChildren.Length);
            Assert.Contains(sh.Id, byChildren);
            Assert.Equal(byScan, byChildren);
        }
        finally
        {
            sh.Kill(entireProcessTree: true);
            sh.WaitForExit(5000);
        }

        bool IsOurs(ProcStat p) => p.Pid == sh.Id || p.ParentPid == sh.Id;
    }

    [Fact]
    public void WaitUntilIdle_SleepingTree_Idle_SpinningTree_Busy_ChildStarting_Busy()
    {
        // sh waits on a sleeping child: idle. Two shell loops spinning (sh and its subshell): busy
        // for as long as they spin, on a loaded machine too (time waiting for a CPU counts).
        using Process sleeping = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "sleep 30 & wait"]) { UseShellExecute = false })!;
        using Process spinning = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", "(while :; do :; done) & while :; do :; done"]) { UseShellExecute = false })!;
        try
        {
            Assert.True(ResourceSampler.WaitUntilIdle(sleeping.Id, includeDescendants: true, maxPercent: 10, TimeSpan.FromSeconds(5)));
            Assert.False(ResourceSampler.WaitUntilIdle(spinning.Id, includeDescendants: true, maxPercent: 10, TimeSpan.FromSeconds(0.3)));

            // The spinning shells ran or waited to run between two looks, and no more than the
            // time between them allows (a thread's wait is accounted when it gets a CPU, so the
            // bound has room); a process that appears in the tree makes the window busy however
            // little CPU it used.
            ProcessTreeCpu before = ProcessTreeCpu.Read(spinning.Id, includeDescendants: true)!;
            long start = Clock.Now;
            long busy = 0;
            while (busy < 10_000_000 && Clock.SecondsSince(start) < 5)
            {
                Thread.Sleep(25);
                busy = ProcessTreeCpu.Read(spinning.Id, includeDescendants: true)!.BusyNanosecondsSince(before);
            }
            Assert.InRange(busy, 10_000_000, (long)((Clock.SecondsSince(start) * 2 * 1e9) + 500_000_000));
            ProcessTreeCpu self = ProcessTreeCpu.Read(Environment.ProcessId, includeDescendants: true)!;
            using Process child = Process.Start(new ProcessStartInfo("/bin/sleep", ["30"]) { UseShellExecute = false })!;
            try
            {
                Assert.Equal(long.MaxValue, ProcessTreeCpu.Read(Environment.ProcessId, includeDescendants: true)!.BusyNanosecondsSince(self));
            }
            finally
            {
                child.Kill();
                child.WaitForExit(5000);
            }
        }
        finally
        {
            foreach (Process p in new[] { sleeping, spinning })
            {
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
        }
        Assert.Null(ProcessTreeCpu.Read(spinning.Id, includeDescendants: true));
    }

    [Fact]
    public void ThreadPlacement_ReadsThisThreadsRunTimeAndCpu()
    {
        string dir = $"/proc/{Environment.ProcessId}/task/{CpuAffinity.Threads(Environment.ProcessId)[0]}/";
        Assert.True(ThreadPlacement.TryReadRunTime(dir, out long before));
        Assert.True(ThreadPlacement.TryReadCpu(dir, out int cpu));
        Assert.InRange(cpu, 0, Environment.ProcessorCount * 64);
        Assert.True(before > 0);
        Assert.False(ThreadPlacement.TryReadRunTime("/proc/0/task/0/", out _));
    }

    [Fact]
    public void ResourceSampler_Paused_TakesNoSamplesUntilResumed()
    {
        var gate = new SamplerGate();
        ResourceUsage held;
        using (gate.Pause())
        {
            using var sampler = new ResourceSampler(Environment.ProcessId, includeDescendants: false, TimeSpan.FromMilliseconds(10), gate);
            Thread.Sleep(300);
            held = sampler.Stop();
        }
        // The first look (at start) and the last (at Stop): none in between.
        Assert.Equal(2, held.Samples);
        Assert.False(gate.IsPaused);

        using var resumed = new ResourceSampler(Environment.ProcessId, includeDescendants: false, TimeSpan.FromMilliseconds(10), gate);
        IDisposable pause = gate.Pause();
        Thread.Sleep(100);
        pause.Dispose();
        pause.Dispose(); // a second Dispose does not resume a pause it does not own
        using (gate.Pause())
        {
            Assert.True(gate.IsPaused);
        }
        Thread.Sleep(300);
        Assert.True(resumed.Stop().Samples > 5, "the sampler did not resume");
    }
}
