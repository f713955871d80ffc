using System.Globalization;

namespace Rpyc.Figures.Placement;

/// <summary>A placement could not be made (not Linux, or the kernel refused the mask).</summary>
internal sealed class PlacementException(string message) : Exception(message);

/// <summary>
/// Every thread of some processes held to one CPU each (per process) until disposed; then every thread goes back
/// to the mask it had, and a thread born meanwhile (it inherited the pin from its creator) to its process's original mask.
/// </summary>
internal sealed class PinnedThreads : IDisposable
{
    private readonly Dictionary<int, ulong[]> _savedByTid = [];
    private readonly List<(int Pid, ulong[] Original)> _processes = [];

    private PinnedThreads()
    {
    }

    /// <exception cref="PlacementException">A mask could not be read or set; whatever was pinned is restored first.</exception>
    public static PinnedThreads Pin(IReadOnlyList<(int Pid, int Cpu)> placements)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlacementException("CPU pinning needs Linux (sched_setaffinity)");
        }
        var pinned = new PinnedThreads();
        try
        {
            foreach ((int pid, int cpu) in placements)
            {
                pinned.PinProcess(pid, cpu);
            }
            return pinned;
        }
        catch
        {
            pinned.Dispose();
            throw;
        }
    }

    private void PinProcess(int pid, int cpu)
    {
        ulong[] original = CpuAffinity.TryGet(pid) ?? throw new PlacementException($"sched_getaffinity failed for pid {pid}");
        _processes.Add((pid, original));
        ulong[] target = CpuAffinity.Only(cpu);
        // A thread started while we go through the list inherits its creator's mask, which may not be pinned yet:
        // go round until a pass finds no thread left to pin.
        for (int pass = 0; pass < 20; pass++)
        {
            bool pinnedAny = false;
            foreach (int tid in Threads(pid).Where(t => !_savedByTid.ContainsKey(t)))
            {
                if (CpuAffinity.TryGet(tid) is not ulong[] mask)
                {
                    continue;
                }
                int error = CpuAffinity.Set(tid, target);
                if (error > 0)
                {
                    throw new PlacementException($"sched_setaffinity(tid {tid} of pid {pid}, CPU {cpu}) failed with errno {error}");
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
        throw new PlacementException($"pid {pid} kept starting threads while they were being pinned");
    }

    private static IEnumerable<int> Threads(int pid)
    {
        try
        {
            return Directory.EnumerateDirectories($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/task")
                .Select(d => int.Parse(Path.GetFileName(d), CultureInfo.InvariantCulture))
                .ToArray();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    public void Dispose()
    {
        foreach ((int pid, ulong[] original) in _processes)
        {
            foreach (int tid in Threads(pid))
            {
                // A failure here means the thread exited, or nothing can be done about it: keep restoring the rest.
                CpuAffinity.Set(tid, _savedByTid.GetValueOrDefault(tid, original));
            }
        }
        _processes.Clear();
        _savedByTid.Clear();
    }
}
