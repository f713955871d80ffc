using System.Globalization;

namespace Rpyc.Bench;

/// <summary>
/// Samples a process's CPU time and resident memory from <c>/proc</c> on its own thread, off the
/// measured path. With <c>includeDescendants</c> the whole process tree counts (a forking server's
/// workers, and the CPU of children it has reaped); helper processes given count with their trees. Linux only; elsewhere the usage stays empty.
/// </summary>
public sealed class ResourceSampler : IDisposable
{
    /// <summary>
    /// The window <see cref="WaitUntilIdle"/> judges: with CPU time read to the nanosecond
    /// (<see cref="ProcessTreeCpu"/>), 10 % of a core in 25 ms is 2.5 ms of work, which a GC, a
    /// JIT compile or a worker's start or exit exceeds; ticks of 10 ms needed 100 ms.
    /// </summary>
    public static readonly TimeSpan IdleWindow = TimeSpan.FromMilliseconds(25);

    private readonly int _pid;
    private readonly bool _includeDescendants;
    private readonly int[] _helperPids;
    private readonly TimeSpan _interval;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _stop = new();
    private readonly SamplerGate? _gate;
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
    /// <param name="gate">Holds the sampling while a quiet phase is measured; none by default.</param>
    /// <param name="helperPids">
    /// Processes that are part of what is measured, with their descendants, whatever
    /// <paramref name="includeDescendants"/> says: rpyc's Python client of a <c>pyclient_*</c> target
    /// is the client as much as this process is. None by default.
    /// </param>
    public ResourceSampler(int pid, bool includeDescendants, TimeSpan? interval = null, SamplerGate? gate = null, IEnumerable<int>? helperPids = null)
    {
        _gate = gate;
        _pid = pid;
        _helperPids = (helperPids ?? []).Where(p => p != pid).Distinct().ToArray();
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
        while (!_stop.Wait(_interval) && (_gate is null || _gate.WaitWhilePaused(_stop)))
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
        double cpu = 0;
        if (!TryAdd(_pid, _includeDescendants, ref cpu, ref rss))
        {
            return -1;
        }
        foreach (int helper in _helperPids)
        {
            TryAdd(helper, withDescendants: true, ref cpu, ref rss);
        }
        return cpu;
    }

    // Adds a process's CPU seconds and RSS, and with its descendants theirs (each one's own and its
    // reaped children's, so a child that exited mid-phase still counts); false when it is gone.
    private static bool TryAdd(int pid, bool withDescendants, ref double cpu, ref long rss)
    {
        if (!ProcStat.TryRead(pid, out ProcStat root))
        {
            return false;
        }
        cpu += root.UserSeconds + root.SystemSeconds;
        rss += root.RssBytes;
        if (withDescendants)
        {
            cpu += root.ChildrenUserSeconds + root.ChildrenSystemSeconds;
            foreach (ProcStat child in ProcStat.Descendants(pid))
            {
                cpu += child.UserSeconds + child.SystemSeconds + child.ChildrenUserSeconds + child.ChildrenSystemSeconds;
                rss += child.RssBytes;
            }
        }
        return true;
    }

    /// <summary>
    /// Waits until a process (tree) is nearly idle: below <paramref name="maxPercent"/> of a core over
    /// a <see cref="IdleWindow"/> with no process starting or exiting in it, or until
    /// <paramref name="maxWait"/> passes. Run before a measured phase, so work left from the previous
    /// one (a forking server starting its next worker, a GC) does not land in it.
    /// </summary>
    /// <param name="pid">The process.</param>
    /// <param name="includeDescendants">Count its descendants too.</param>
    /// <param name="maxPercent">Idle threshold in percent of one core.</param>
    /// <param name="maxWait">The most time to wait.</param>
    /// <returns><c>true</c> when it became idle in time.</returns>
    public static bool WaitUntilIdle(int pid, bool includeDescendants, double maxPercent, TimeSpan maxWait)
    {
        long deadline = Clock.Now + Clock.FromSeconds(maxWait.TotalSeconds);
        ProcessTreeCpu? last = ProcessTreeCpu.Read(pid, includeDescendants);
        if (last is null && ProcStat.TryRead(pid, out _))
        {
            // Alive, but no thread's schedstat is readable here: clock ticks, as before it.
            return WaitUntilIdleByTicks(pid, includeDescendants, maxPercent, deadline);
        }
        long lastTicks = Clock.Now;
        while (last is not null && Clock.Now < deadline)
        {
            Thread.Sleep(IdleWindow);
            ProcessTreeCpu? next = ProcessTreeCpu.Read(pid, includeDescendants);
            long now = Clock.Now;
            if (next is null)
            {
                return false;
            }
            long busy = next.BusyNanosecondsSince(last);
            if (busy != long.MaxValue && busy / 1e9 / Clock.ToSeconds(now - lastTicks) * 100 < maxPercent)
            {
                return true;
            }
            last = next;
            lastTicks = now;
        }
        return false;
    }

    // /proc/PID/stat's 10 ms ticks: below maxPercent over 100 ms means no tick at all in it.
    private static bool WaitUntilIdleByTicks(int pid, bool includeDescendants, double maxPercent, long deadline)
    {
        using var sampler = new ResourceSampler(pid, includeDescendants, Timeout.InfiniteTimeSpan);
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
