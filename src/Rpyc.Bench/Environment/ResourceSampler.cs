using System.Globalization;

namespace Rpyc.Bench;

/// <summary>
/// Samples a process's CPU time and resident memory from <c>/proc</c> on its own thread, off the
/// measured path. With <c>includeDescendants</c> the whole process tree counts (a forking server's
/// workers, and the CPU of children it has reaped). Linux only; elsewhere the usage stays empty.
/// </summary>
public sealed class ResourceSampler : IDisposable
{
    private readonly int _pid;
    private readonly bool _includeDescendants;
    private readonly TimeSpan _interval;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _stop = new();
    private readonly long _startTicks;
    private readonly double _startCpu;
    private double _lastCpu;
    private long _lastTicks;
    private double _maxPercent;
    private long _rssPeak;
    private double _rssSum;
    private int _samples;
    private ResourceUsage? _result;

    /// <summary>Starts sampling.</summary>
    /// <param name="pid">The process.</param>
    /// <param name="includeDescendants">Add the CPU and memory of its descendants (and of reaped children).</param>
    /// <param name="interval">Time between samples; default 100 ms.</param>
    public ResourceSampler(int pid, bool includeDescendants, TimeSpan? interval = null)
    {
        _pid = pid;
        _includeDescendants = includeDescendants;
        _interval = interval ?? TimeSpan.FromMilliseconds(100);
        _startTicks = _lastTicks = Clock.Now;
        _startCpu = _lastCpu = Read(out long rss);
        Observe(rss);
        _thread = new Thread(Loop) { IsBackground = true, Name = $"resource-sampler:{pid}", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    /// <summary>Stops sampling (idempotent) and returns the usage over the window.</summary>
    /// <returns>CPU and memory of the window.</returns>
    public ResourceUsage Stop()
    {
        if (_result is not null)
        {
            return _result;
        }
        _stop.Set();
        _thread.Join();
        Sample();
        double wall = Clock.SecondsSince(_startTicks);
        double cpu = Math.Max(0, _lastCpu - _startCpu);
        _result = new ResourceUsage
        {
            ProcessId = _pid,
            CpuSeconds = cpu,
            CpuPercentMean = wall > 0 ? cpu / wall * 100 : 0,
            CpuPercentMax = _maxPercent,
            RssPeakBytes = _rssPeak,
            RssMeanBytes = _samples > 0 ? _rssSum / _samples : 0,
            Samples = _samples,
            WallSeconds = wall,
        };
        return _result;
    }

    private void Loop()
    {
        while (!_stop.Wait(_interval))
        {
            Sample();
        }
    }

    private void Sample()
    {
        double cpu = Read(out long rss);
        long now = Clock.Now;
        double wall = Clock.ToSeconds(now - _lastTicks);
        if (cpu >= 0 && wall > 0.01)
        {
            _maxPercent = Math.Max(_maxPercent, Math.Max(0, cpu - _lastCpu) / wall * 100);
            _lastCpu = cpu;
            _lastTicks = now;
        }
        Observe(rss);
    }

    private void Observe(long rss)
    {
        if (rss <= 0)
        {
            return;
        }
        _rssPeak = Math.Max(_rssPeak, rss);
        _rssSum += rss;
        _samples++;
    }

    // CPU seconds of the process (and tree) so far; -1 when it is gone.
    private double Read(out long rss)
    {
        rss = 0;
        if (!ProcStat.TryRead(_pid, out ProcStat root))
        {
            return -1;
        }
        double cpu = root.UserSeconds + root.SystemSeconds;
        rss = root.RssBytes;
        if (_includeDescendants)
        {
            cpu += root.ChildrenUserSeconds + root.ChildrenSystemSeconds;
            foreach (ProcStat child in ProcStat.Descendants(_pid))
            {
                cpu += child.UserSeconds + child.SystemSeconds + child.ChildrenUserSeconds + child.ChildrenSystemSeconds;
                rss += child.RssBytes;
            }
        }
        return cpu;
    }

    /// <summary>
    /// Waits until a process (tree) is nearly idle: below <paramref name="maxPercent"/> of a core over
    /// a 100 ms window, or until <paramref name="maxWait"/> passes. Run before a measured phase, so
    /// work left from the previous one (a forking server starting its next worker, a GC) does not
    /// land in it.
    /// </summary>
    /// <param name="pid">The process.</param>
    /// <param name="includeDescendants">Count its descendants too.</param>
    /// <param name="maxPercent">Idle threshold in percent of one core.</param>
    /// <param name="maxWait">The most time to wait.</param>
    /// <returns><c>true</c> when it became idle in time.</returns>
    public static bool WaitUntilIdle(int pid, bool includeDescendants, double maxPercent, TimeSpan maxWait)
    {
        using var sampler = new ResourceSampler(pid, includeDescendants, Timeout.InfiniteTimeSpan);
        long deadline = Clock.Now + Clock.FromSeconds(maxWait.TotalSeconds);
        double last = sampler.Read(out _);
        long lastTicks = Clock.Now;
        while (Clock.Now < deadline)
        {
            Thread.Sleep(100);
            double cpu = sampler.Read(out _);
            long now = Clock.Now;
            if (cpu < 0)
            {
                return false;
            }
            if ((cpu - last) / Clock.ToSeconds(now - lastTicks) * 100 < maxPercent)
            {
                return true;
            }
            last = cpu;
            lastTicks = now;
        }
        return false;
    }

    /// <summary>Stops the sampling thread.</summary>
    public void Dispose()
    {
        Stop();
        _stop.Dispose();
    }
}

// One /proc/<pid>/stat line: fields after the ")" of the command name (proc(5)).
internal readonly record struct ProcStat(int Pid, int ParentPid, double UserSeconds, double SystemSeconds, double ChildrenUserSeconds, double ChildrenSystemSeconds, long RssBytes)
{
    // USER_HZ is 100 on every Linux ABI .NET runs on.
    private const double ClockTicksPerSecond = 100;

    public static bool TryRead(int pid, out ProcStat stat)
    {
        stat = default;
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        int close = text.LastIndexOf(')');
        if (close < 0)
        {
            return false;
        }
        string[] f = text[(close + 2)..].Split(' ');
        // f[0] = state (field 3), f[1] = ppid (4), f[11..14] = utime, stime, cutime, cstime (14-17), f[21] = rss pages (24).
        if (f.Length < 22)
        {
            return false;
        }
        stat = new ProcStat(
            pid,
            int.Parse(f[1], CultureInfo.InvariantCulture),
            long.Parse(f[11], CultureInfo.InvariantCulture) / ClockTicksPerSecond,
            long.Parse(f[12], CultureInfo.InvariantCulture) / ClockTicksPerSecond,
            long.Parse(f[13], CultureInfo.InvariantCulture) / ClockTicksPerSecond,
            long.Parse(f[14], CultureInfo.InvariantCulture) / ClockTicksPerSecond,
            long.Parse(f[21], CultureInfo.InvariantCulture) * Environment.SystemPageSize);
        return true;
    }

    public static List<ProcStat> Descendants(int root)
    {
        var all = new List<ProcStat>();
        try
        {
            foreach (string dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid) && pid != root && TryRead(pid, out ProcStat stat))
                {
                    all.Add(stat);
                }
            }
        }
        catch (IOException)
        {
        }
        var result = new List<ProcStat>();
        var parents = new HashSet<int> { root };
        bool grew = true;
        while (grew)
        {
            grew = false;
            foreach (ProcStat stat in all)
            {
                if (!parents.Contains(stat.Pid) && parents.Contains(stat.ParentPid))
                {
                    parents.Add(stat.Pid);
                    result.Add(stat);
                    grew = true;
                }
            }
        }
        return result;
    }
}
