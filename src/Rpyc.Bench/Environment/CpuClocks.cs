namespace Rpyc.Bench;

/// <summary>
/// CPU time to the nanosecond, of this process and of a server's process tree: the kernel's
/// per-process CPU clocks (clock_getcpuclockid(3)), read at the two ends of a measured phase. Not
/// /proc's utime and stime: they count 10 ms ticks, and over a 0.5 s latency phase of 30,000 pings
/// that is ±0.3 µs per request of rounding alone, as large as the differences the per-request figure
/// is there to show. Linux only; elsewhere every reading is <c>null</c>.
/// </summary>
internal static class CpuClocks
{
    // CLOCK_PROCESS_CPUTIME_ID: every thread of the calling process, live or exited.
    private const int ThisProcess = 2;

    /// <summary>CPU seconds of this process so far, or <c>null</c> off Linux.</summary>
    public static double? ThisProcessSeconds() =>
        OperatingSystem.IsLinux() && LinuxClock.TryReadNanos(ThisProcess, out long nanos) ? nanos / 1e9 : null;

    /// <summary>
    /// CPU seconds so far of <paramref name="root"/> and of its live descendants (a ForkingServer's
    /// worker serving the connection), or <c>null</c> when the root is gone or off Linux. A
    /// descendant that exits between two readings takes its time with it: the readings are meant
    /// for a phase on connections that stay open, whose workers live through it.
    /// </summary>
    /// <param name="root">The server's process id.</param>
    public static double? ProcessTreeSeconds(int root)
    {
        if (!OperatingSystem.IsLinux() || ProcessNanos(root) is not long total)
        {
            return null;
        }
        foreach (ProcStat child in ProcStat.Descendants(root))
        {
            total += ProcessNanos(child.Pid) ?? 0;
        }
        return total / 1e9;
    }

    private static long? ProcessNanos(int pid) =>
        LinuxClock.ProcessCpuClock(pid) is int clock && LinuxClock.TryReadNanos(clock, out long nanos) ? nanos : null;
}
