namespace Rpyc.Bench;

/// <summary>
/// Every thread of a process (and of its descendants, when asked) held to one CPU until disposed;
/// then every thread goes back to the mask it had, and one born meanwhile (it inherited the pin
/// from its creator) to its process's original mask. <see cref="Reapply"/> pins threads and
/// processes that appeared since (a forking server's new workers are born pinned anyway: they
/// inherit the mask of the thread that forks them).
/// </summary>
public sealed class PinnedThreads : IDisposable
{
    private readonly Dictionary<int, ulong[]> _savedByTid = [];
    private readonly Dictionary<int, ulong[]> _originalByPid = [];
    private readonly int _rootPid;
    private readonly int _cpu;
    private readonly bool _includeDescendants;

    private PinnedThreads(int rootPid, int cpu, bool includeDescendants)
    {
        _rootPid = rootPid;
        _cpu = cpu;
        _includeDescendants = includeDescendants;
    }

    /// <summary>The CPU, or -1 for a pin that pins nothing.</summary>
    public int Cpu => _cpu;

    /// <summary>Threads pinned so far.</summary>
    public int ThreadCount => _savedByTid.Count;

    internal static PinnedThreads Empty() => new(0, -1, false);

    internal static PinnedThreads Pin(int pid, int cpu, bool includeDescendants)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new CpuPlacementException("CPU pinning needs Linux (sched_setaffinity).");
        }
        ArgumentOutOfRangeException.ThrowIfNegative(cpu);
        var pinned = new PinnedThreads(pid, cpu, includeDescendants);
        try
        {
            pinned.Reapply();
            return pinned;
        }
        catch
        {
            pinned.Dispose();
            throw;
        }
    }

    /// <summary>Pins the threads (and processes) that appeared since the last pass. Cheap when none did.</summary>
    /// <exception cref="CpuPlacementException">A mask could not be set, or the process kept starting threads.</exception>
    public void Reapply()
    {
        if (_cpu < 0)
        {
            return;
        }
        List<int> pids = [_rootPid];
        if (_includeDescendants)
        {
            pids.AddRange(ProcStat.Descendants(_rootPid).Select(p => p.Pid));
        }
        foreach (int pid in pids)
        {
            PinProcess(pid);
        }
    }

    private void PinProcess(int pid)
    {
        if (!_originalByPid.ContainsKey(pid))
        {
            if (CpuAffinity.TryGet(pid) is not ulong[] original)
            {
                if (pid == _rootPid)
                {
                    throw new CpuPlacementException($"sched_getaffinity failed for pid {pid}: is it running?");
                }
                return;
            }
            _originalByPid[pid] = original;
        }
        ulong[] target = CpuAffinity.Only(_cpu);
        // A thread started while we go through the list inherits its creator's mask, which may not be
        // pinned yet: go round until a pass finds no thread left to pin.
        for (int pass = 0; pass < 20; pass++)
        {
            bool pinnedAny = false;
            foreach (int tid in CpuAffinity.Threads(pid))
            {
                if (_savedByTid.ContainsKey(tid) || CpuAffinity.TryGet(tid) is not ulong[] mask)
                {
                    continue;
                }
                int error = CpuAffinity.Set(tid, target);
                if (error > 0)
                {
                    throw new CpuPlacementException($"sched_setaffinity(tid {tid} of pid {pid}, CPU {_cpu}) failed with errno {error}.");
                }
                if (error == 0)
                {
                    _savedByTid[tid] = mask;
                    pinnedAny = true;
                }
            }
            if (!pinnedAny)
            {
                return;
            }
        }
        throw new CpuPlacementException($"pid {pid} kept starting threads while they were being pinned.");
    }

    /// <summary>Restores every thread's mask.</summary>
    public void Dispose()
    {
        foreach ((int pid, ulong[] original) in _originalByPid)
        {
            // A thread started while we go through the list inherits its creator's mask, which may
            // still be the pinned one (a test saw one such thread stay pinned): go round until a
            // pass finds every thread as it was, as pinning does.
            for (int pass = 0; pass < 20; pass++)
            {
                bool restoredAny = false;
                foreach (int tid in CpuAffinity.Threads(pid))
                {
                    ulong[] wanted = _savedByTid.GetValueOrDefault(tid, original);
                    if (CpuAffinity.TryGet(tid) is ulong[] mask && !mask.AsSpan().SequenceEqual(wanted))
                    {
                        // A failure means the thread exited, or nothing can be done about it: keep restoring the rest.
                        restoredAny |= CpuAffinity.Set(tid, wanted) == 0;
                    }
                }
                if (!restoredAny)
                {
                    break;
                }
            }
        }
        _originalByPid.Clear();
        _savedByTid.Clear();
    }
}
