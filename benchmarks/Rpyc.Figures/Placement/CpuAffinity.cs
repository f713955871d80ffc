using System.Runtime.InteropServices;

namespace Rpyc.Figures.Placement;

/// <summary>sched_getaffinity / sched_setaffinity on one thread (a Linux tid; a pid names the process's main thread).</summary>
internal static class CpuAffinity
{
    // cpu_set_t: 1024 bits.
    private const int MaskWords = 16;

    private const int Esrch = 3;

    /// <summary>The thread's CPU mask, or null when it exited (or the call is unavailable).</summary>
    public static ulong[]? TryGet(int tid)
    {
        ulong[] mask = new ulong[MaskWords];
        try
        {
            return SchedGetAffinity(tid, (nuint)(MaskWords * sizeof(ulong)), mask) == 0 ? mask : null;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Sets the thread's CPU mask: 0 on success, -1 when the thread exited meanwhile, else the errno.</summary>
    public static int Set(int tid, ulong[] mask)
    {
        try
        {
            if (SchedSetAffinity(tid, (nuint)(mask.Length * sizeof(ulong)), mask) == 0)
            {
                return 0;
            }
            int errno = Marshal.GetLastPInvokeError();
            return errno == Esrch ? -1 : errno;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return int.MaxValue;
        }
    }

    /// <summary>A mask holding one CPU.</summary>
    public static ulong[] Only(int cpu)
    {
        ulong[] mask = new ulong[MaskWords];
        mask[cpu / 64] = 1UL << (cpu % 64);
        return mask;
    }

    /// <summary>The CPUs in a mask, lowest first.</summary>
    public static IEnumerable<int> Cpus(ulong[] mask)
    {
        for (int cpu = 0; cpu < mask.Length * 64; cpu++)
        {
            if ((mask[cpu / 64] & (1UL << (cpu % 64))) != 0)
            {
                yield return cpu;
            }
        }
    }

    // DllImport, not LibraryImport: the generated marshaller needs unsafe code, which this project does not allow.
    // A blittable array is pinned and passed as a pointer, so the kernel writes straight into it.
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static extern int SchedGetAffinity(int pid, nuint cpuSetSize, [Out] ulong[] mask);

    [DllImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static extern int SchedSetAffinity(int pid, nuint cpuSetSize, ulong[] mask);
#pragma warning restore SYSLIB1054
}
