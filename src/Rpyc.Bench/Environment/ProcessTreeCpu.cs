using System.Globalization;

namespace Rpyc.Bench;

/// <summary>
/// One look at a process tree's CPU to the nanosecond: every live thread's time on a CPU and time
/// waiting on a run queue for one (<c>/proc/PID/task/TID/schedstat</c>, fields 1 and 2: a thread
/// that wants a CPU and cannot get one is not idle), and which processes the tree holds.
/// <c>/proc/PID/stat</c> counts in 10 ms clock ticks, so telling "below 10 % of a core" from it
/// took a 100 ms window with no tick in it; the suite settles a server before each measured
/// connection, ~9 times per target and run, and those windows were ~16 s of the main job's 3
/// minutes. Between two looks, <see cref="BusyNanosecondsSince"/> counts each thread that ran in
/// both (and a new one's whole time); a thread that exited between them is not counted, but a
/// process that came or went (a forking server's worker) makes the window busy.
/// </summary>
internal sealed class ProcessTreeCpu
{
    private readonly Dictionary<int, long> _threads;
    private readonly int[] _processes;

    private ProcessTreeCpu(Dictionary<int, long> threads, int[] processes)
    {
        _threads = threads;
        _processes = processes;
    }

    /// <summary>
    /// The tree's threads now; <c>null</c> when the root process is gone or none of its threads'
    /// schedstat could be read (a kernel without CONFIG_SCHED_INFO): an empty look would read idle.
    /// </summary>
    public static ProcessTreeCpu? Read(int root, bool includeDescendants)
    {
        var processes = new List<int> { root };
        if (includeDescendants)
        {
            processes.AddRange(ProcStat.Descendants(root).Select(p => p.Pid));
        }
        processes.Sort();
        var threads = new Dictionary<int, long>();
        foreach (int pid in processes)
        {
            string task = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/task/";
            foreach (int tid in CpuAffinity.Threads(pid))
            {
                // Busy: time on a CPU plus time runnable but waiting for one. Thread ids are unique
                // machine-wide while the thread lives.
                if (ProcFs.TryReadSchedstat(task + tid.ToString(CultureInfo.InvariantCulture) + "/schedstat", out long onCpu, out long waiting))
                {
                    threads[tid] = onCpu + waiting;
                }
            }
        }
        return threads.Count == 0 ? null : new ProcessTreeCpu(threads, processes.ToArray());
    }

    /// <summary>
    /// CPU nanoseconds the tree used or waited for since <paramref name="earlier"/>;
    /// <see cref="long.MaxValue"/> when a process came or went in between (its start or exit is the
    /// work being waited out).
    /// </summary>
    public long BusyNanosecondsSince(ProcessTreeCpu earlier)
    {
        if (!_processes.AsSpan().SequenceEqual(earlier._processes))
        {
            return long.MaxValue;
        }
        long busy = 0;
        foreach ((int tid, long nanoseconds) in _threads)
        {
            busy += Math.Max(0, nanoseconds - earlier._threads.GetValueOrDefault(tid));
        }
        return busy;
    }
}
