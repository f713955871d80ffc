namespace Rpyc.Figures.Placement;

/// <summary>
/// Where the threads of this process (the client) and of the server process run for a pinned figure.
/// <paramref name="SkipReason"/>: why the placement cannot be made here, or null.
/// </summary>
internal sealed record CpuPlacement(string Key, string Description, int ClientCpu, int ServerCpu, string? SkipReason = null)
{
    /// <summary>
    /// Both processes on one CPU, then on two different ones: the first two CPUs this process may use. On a VM whose
    /// idle vCPUs halt, a round trip between threads on two vCPUs pays an IPI to wake the other one (~55-80 us on the
    /// reference VM) and one on a single vCPU does not (~13-16 us): left to the scheduler, the mode changes per run.
    /// </summary>
    public static IReadOnlyList<CpuPlacement> Pinned()
    {
        const string SameKey = "same_cpu";
        const string SplitKey = "split_cpus";
        if (!OperatingSystem.IsLinux())
        {
            const string NotLinux = "skipped: CPU pinning needs Linux (sched_setaffinity)";
            return [new(SameKey, "both processes on one CPU", -1, -1, NotLinux), new(SplitKey, "the processes on two CPUs", -1, -1, NotLinux)];
        }
        int[] cpus = CpuAffinity.TryGet(Environment.ProcessId) is ulong[] mask ? CpuAffinity.Cpus(mask).ToArray() : [];
        if (cpus.Length == 0)
        {
            const string Unreadable = "skipped: sched_getaffinity failed for this process";
            return [new(SameKey, "both processes on one CPU", -1, -1, Unreadable), new(SplitKey, "the processes on two CPUs", -1, -1, Unreadable)];
        }
        var same = new CpuPlacement(SameKey, $"every thread of both processes on CPU {cpus[0]}", cpus[0], cpus[0]);
        CpuPlacement split = cpus.Length >= 2 && Environment.ProcessorCount >= 2
            ? new(SplitKey, $"every thread of this process on CPU {cpus[0]}, of the server process on CPU {cpus[1]}", cpus[0], cpus[1])
            : new(SplitKey, "the processes on two CPUs", -1, -1, $"skipped: this process may use {cpus.Length} CPU(s) (ProcessorCount {Environment.ProcessorCount}); two are needed");
        return [same, split];
    }
}
