using System.Globalization;
using System.Runtime.InteropServices;

namespace Rpyc.Bench;

// sched_getaffinity / sched_setaffinity on one Linux thread (a tid; a pid names the process's main
// thread, 0 the calling thread), and the thread ids of a process (/proc/PID/task).
internal static class CpuAffinity
{
    // cpu_set_t: 1024 bits.
    private const int MaskWords = 16;

    private const int Esrch = 3;

    // The thread's CPU mask, or null when it exited (or the call is unavailable).
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

    // 0 on success, -1 when the thread exited meanwhile, else the errno.
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

    // The CPU the calling thread runs on now, or -1 where sched_getcpu is missing.
    public static int CurrentCpu()
    {
        try
        {
            return SchedGetCpu();
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return -1;
        }
    }

    public static ulong[] Only(int cpu)
    {
        ulong[] mask = new ulong[MaskWords];
        mask[cpu / 64] = 1UL << (cpu % 64);
        return mask;
    }

    public static int[] Cpus(ulong[] mask)
    {
        var cpus = new List<int>();
        for (int cpu = 0; cpu < mask.Length * 64; cpu++)
        {
            if ((mask[cpu / 64] & (1UL << (cpu % 64))) != 0)
            {
                cpus.Add(cpu);
            }
        }
        return [.. cpus];
    }

    public static int[] Threads(int pid)
    {
        try
        {
            return Directory.EnumerateDirectories($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/task")
                .Select(d => int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out int tid) ? tid : 0)
                .Where(tid => tid > 0)
                .ToArray();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    // DllImport, not LibraryImport: the generated marshaller needs unsafe code, which this project does not allow.
    // A blittable array is pinned and passed as a pointer, so the kernel writes straight into it.
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static extern int SchedGetAffinity(int pid, nuint cpuSetSize, [Out] ulong[] mask);

    [DllImport("libc", EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static extern int SchedSetAffinity(int pid, nuint cpuSetSize, ulong[] mask);

    [DllImport("libc", EntryPoint = "sched_getcpu")]
    private static extern int SchedGetCpu();
#pragma warning restore SYSLIB1054
}
