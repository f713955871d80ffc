using System.Diagnostics;
using System.Globalization;

namespace Rpyc.Figures;

/// <summary>
/// CPU time used on the whole machine (/proc/stat) and by this process tree (/proc/self/stat: this process
/// plus every child it reaped, which includes the server hosts, their workers and the Python peers once stopped).
/// The difference over a run is the work other programs did meanwhile, which skews every figure on 2 cores.
/// </summary>
internal readonly record struct CpuSample(long MachineBusyTicks, long SelfTreeTicks, long Timestamp)
{
    // USER_HZ: the unit of both files; 100 on every Linux this runs on.
    private const double TicksPerSecond = 100;

    public static CpuSample Take()
    {
        try
        {
            string stat = File.ReadAllLines("/proc/stat")[0];
            long[] cpu = stat.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            // user nice system idle iowait irq softirq steal ...: busy = all but idle and iowait.
            long busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu.Length > 7 ? cpu[7] : 0);
            string self = File.ReadAllText("/proc/self/stat");
            // Fields after the command name (which may hold spaces) start at state, the 3rd field.
            string[] f = self[(self.LastIndexOf(')') + 2)..].Split(' ');
            long tree = long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture)
                + long.Parse(f[13], CultureInfo.InvariantCulture) + long.Parse(f[14], CultureInfo.InvariantCulture);
            return new CpuSample(busy, tree, Stopwatch.GetTimestamp());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return new CpuSample(-1, -1, Stopwatch.GetTimestamp());
        }
    }

    /// <summary>Cores' worth of CPU that other programs used between <paramref name="before"/> and this sample (NaN when unknown).</summary>
    public double OthersCoresSince(CpuSample before)
    {
        if (MachineBusyTicks < 0 || before.MachineBusyTicks < 0)
        {
            return double.NaN;
        }
        double seconds = (Timestamp - before.Timestamp) / (double)Stopwatch.Frequency;
        if (seconds <= 0)
        {
            return double.NaN;
        }
        long others = (MachineBusyTicks - before.MachineBusyTicks) - (SelfTreeTicks - before.SelfTreeTicks);
        return Math.Max(0, others / TicksPerSecond / seconds);
    }
}

/// <summary>Waits, before a measurement, until other programs leave the CPUs (almost) idle for a moment.</summary>
internal static class IdleGate
{
    private static readonly TimeSpan s_window = TimeSpan.FromSeconds(3);

    /// <summary>Idle means other programs used under this many cores over the window.</summary>
    public const double IdleCores = 0.15;

    /// <summary>Returns the others' load in the last window (cores), after waiting at most <paramref name="maxWait"/> for it to be idle.</summary>
    public static double Wait(TimeSpan maxWait, TextWriter log, string what)
    {
        long deadline = Stopwatch.GetTimestamp() + (long)(maxWait.TotalSeconds * Stopwatch.Frequency);
        bool told = false;
        while (true)
        {
            CpuSample before = CpuSample.Take();
            Thread.Sleep(s_window);
            double others = CpuSample.Take().OthersCoresSince(before);
            if (double.IsNaN(others) || others < IdleCores)
            {
                return others;
            }
            if (Stopwatch.GetTimestamp() >= deadline)
            {
                log.WriteLine($"  (other programs still use {others:0.00} cores; measuring {what} anyway)");
                return others;
            }
            if (!told)
            {
                log.WriteLine($"  (other programs use {others:0.00} cores: waiting up to {maxWait.TotalSeconds:0} s for the machine to go idle before {what})");
                log.Flush();
                told = true;
            }
        }
    }
}

/// <summary>CPU time of a process, all its threads including those that exited.</summary>
internal static class ProcessCpu
{
    /// <summary>This process, in nanoseconds (getrusage: microsecond resolution), or -1.</summary>
    public static long SelfNanoseconds()
    {
        try
        {
            return GetRusage(0, out RUsage usage) == 0
                ? ((usage.UserSeconds + usage.SystemSeconds) * 1_000_000 + usage.UserMicroseconds + usage.SystemMicroseconds) * 1000
                : -1;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return -1;
        }
    }

    /// <summary>Another process, in nanoseconds (/proc/PID/stat utime + stime: 10 ms resolution), or -1.</summary>
    public static long OtherNanoseconds(int pid)
    {
        try
        {
            string self = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            string[] f = self[(self.LastIndexOf(')') + 2)..].Split(' ');
            long ticks = long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
            return ticks * 10_000_000;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return -1;
        }
    }

    // struct rusage on 64-bit Linux: two timevals, then fourteen longs.
    [System.Runtime.InteropServices.StructLayout(System.Runtime.InteropServices.LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds;
        public long UserMicroseconds;
        public long SystemSeconds;
        public long SystemMicroseconds;
        public long MaxRss, IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NVCsw, NIvCsw;
    }

    // DllImport, not LibraryImport: the generated marshaller needs unsafe code, which this project does not allow.
#pragma warning disable SYSLIB1054
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "getrusage")]
    private static extern int GetRusage(int who, out RUsage usage);
#pragma warning restore SYSLIB1054
}

/// <summary>Per-thread CPU of a live process (/proc/PID/task/*: name and schedstat nanoseconds), for a where-does-it-go listing.</summary>
internal static class ThreadCpu
{
    public static Dictionary<int, (string Name, long Nanoseconds)> Snapshot(int pid)
    {
        var threads = new Dictionary<int, (string, long)>();
        try
        {
            foreach (string task in Directory.EnumerateDirectories($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/task"))
            {
                try
                {
                    string name = File.ReadAllText(Path.Combine(task, "comm")).Trim();
                    string text = File.ReadAllText(Path.Combine(task, "schedstat"));
                    long ns = long.Parse(text[..text.IndexOf(' ', StringComparison.Ordinal)], CultureInfo.InvariantCulture);
                    threads[int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture)] = (name, ns);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
                {
                    // The thread exited while we looked.
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
        return threads;
    }

    /// <summary>The threads that used the most CPU between two snapshots, as "name: ms" text.</summary>
    public static string Top(Dictionary<int, (string Name, long Nanoseconds)> before, Dictionary<int, (string Name, long Nanoseconds)> after, int count = 6) =>
        string.Join(", ", after
            .Select(t => (t.Value.Name, Delta: t.Value.Nanoseconds - (before.TryGetValue(t.Key, out var b) ? b.Nanoseconds : 0)))
            .GroupBy(t => t.Name)
            .Select(g => (Name: g.Key, Ms: g.Sum(t => t.Delta) / 1e6, Threads: g.Count()))
            .OrderByDescending(t => t.Ms)
            .Take(count)
            .Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Name}{(t.Threads > 1 ? $" x{t.Threads}" : "")} {t.Ms:0} ms")));
}
