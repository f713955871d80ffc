using System.Runtime.InteropServices;

namespace Rpyc.Bench;

/// <summary>The libc clock, sleep and thread calls of the relay (Linux only; callers check the OS).</summary>
internal static class LinuxClock
{
    public const int Monotonic = 1;
    public const int TimerAbsTime = 1;
    public const int PrSetTimerSlack = 29;
    public const int Eintr = 4;

    /// <summary>Reads a clock in nanoseconds, or 0 when the clock id is not valid.</summary>
    public static long ReadNanos(int clockId) =>
        clock_gettime(clockId, out Timespec ts) == 0 ? ts.Seconds * 1_000_000_000 + ts.Nanoseconds : 0;

    /// <summary>Reads a clock in nanoseconds; false when the clock id is not valid (a process that is gone).</summary>
    public static bool TryReadNanos(int clockId, out long nanos)
    {
        bool ok = clock_gettime(clockId, out Timespec ts) == 0;
        nanos = ok ? ts.Seconds * 1_000_000_000 + ts.Nanoseconds : 0;
        return ok;
    }

    /// <summary>The CPU-time clock id of process <paramref name="pid"/> (all its threads, live or exited), or null when there is no such process.</summary>
    public static int? ProcessCpuClock(int pid) =>
        clock_getcpuclockid(pid, out int clockId) == 0 ? clockId : null;

    /// <summary>Sleeps until <paramref name="nanos"/> on CLOCK_MONOTONIC; an interrupted sleep resumes towards the same deadline.</summary>
    public static void SleepUntil(long nanos)
    {
        var ts = new Timespec { Seconds = nanos / 1_000_000_000, Nanoseconds = nanos % 1_000_000_000 };
        while (clock_nanosleep(Monotonic, TimerAbsTime, in ts, IntPtr.Zero) == Eintr)
        {
        }
    }

    /// <summary>Sets the calling thread's timer slack; false when the kernel refuses.</summary>
    public static bool SetTimerSlack(long nanos) => prctl(PrSetTimerSlack, (nuint)nanos, 0, 0, 0) == 0;

    /// <summary>The CPU-time clock id of the calling thread, or -1.</summary>
    public static int CurrentThreadCpuClock() =>
        pthread_getcpuclockid(pthread_self(), out int clockId) == 0 ? clockId : -1;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc")]
    private static extern int clock_gettime(int clockId, out Timespec time);

    // Returns the error number itself (not -1 and errno).
    [DllImport("libc")]
    private static extern int clock_getcpuclockid(int pid, out int clockId);

    // Returns the error number itself (not -1 and errno).
    [DllImport("libc")]
    private static extern int clock_nanosleep(int clockId, int flags, in Timespec request, IntPtr remain);

    // Variadic in C; every argument is a register-sized integer, which the x64 and arm64 ABIs pass alike.
    [DllImport("libc")]
    private static extern int prctl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [DllImport("libc")]
    private static extern nuint pthread_self();

    [DllImport("libc")]
    private static extern int pthread_getcpuclockid(nuint thread, out int clockId);
}
