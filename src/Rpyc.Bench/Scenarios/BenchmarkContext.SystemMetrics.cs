namespace Rpyc.Bench;

// This process's CPU and memory during the context: samples taken on demand
// (RecordSystemMetrics) and, with sampleSystemMetrics, by a ResourceSampler.
public sealed partial class BenchmarkContext
{
    // Shorter windows than this say more about the 10 ms CPU-time resolution than about the load.
    private const double MinCpuWindowSeconds = 0.01;

    private readonly List<ResourceUsage> _samplerWindows = [];
    private readonly double _startCpuSeconds;
    private ResourceSampler? _sampler;
    private double _lastSampleCpuSeconds;
    private long _lastSampleTicks;
    private double _lastCpuSeconds;
    private long _lastCpuTicks;
    private double _maxCpuPercent;
    private long _rssPeak;
    private double _rssSum;
    private int _samples;

    /// <summary>
    /// Takes one sample of this process's CPU time (user + system, since the context started) and
    /// resident memory now. The samples appear in <see cref="ContextStatistics.SystemMetrics"/>:
    /// CPU seconds and mean percent from the context's start to the last sample, the highest
    /// percent between two samples, and the peak and mean resident memory of the samples.
    /// </summary>
    /// <example>
    /// <code>
    /// for (int batch = 0; batch &lt; 10; batch++)
    /// {
    ///     RunBatch(bench);
    ///     bench.RecordSystemMetrics();
    /// }
    /// ResourceUsage cpu = bench.ComputeStatistics().SystemMetrics!;
    /// </code>
    /// </example>
    public void RecordSystemMetrics()
    {
        double cpu = ProcessCpuSeconds();
        long rss = Environment.WorkingSet;
        long now = Clock.Now;
        lock (_sync)
        {
            double window = Clock.ToSeconds(now - _lastCpuTicks);
            if (window >= MinCpuWindowSeconds)
            {
                _maxCpuPercent = Math.Max(_maxCpuPercent, Math.Max(0, cpu - _lastCpuSeconds) / window * 100);
                _lastCpuSeconds = cpu;
                _lastCpuTicks = now;
            }
            _lastSampleCpuSeconds = Math.Max(_lastSampleCpuSeconds, cpu);
            _lastSampleTicks = Math.Max(_lastSampleTicks, now);
            if (rss > 0)
            {
                _rssPeak = Math.Max(_rssPeak, rss);
                _rssSum += rss;
                _samples++;
            }
        }
    }

    private static double ProcessCpuSeconds() => Environment.CpuUsage.TotalTime.TotalSeconds;

    private static ResourceSampler StartSampler() => new(Environment.ProcessId, includeDescendants: false);

    // Caller holds _sync. A ResourceSampler reports only once stopped, so a snapshot of a running
    // context closes the current window and opens the next; the windows are merged.
    private void StopSampler(bool restart)
    {
        if (_sampler is null)
        {
            return;
        }
        _samplerWindows.Add(_sampler.Stop());
        _sampler.Dispose();
        _sampler = restart ? StartSampler() : null;
    }

    // Caller holds _sync.
    private ResourceUsage? SnapshotSystemMetrics()
    {
        StopSampler(restart: _endTicks == 0);
        ResourceUsage? sampled = Merge(_samplerWindows);
        ResourceUsage? manual = null;
        if (_samples > 0)
        {
            double wall = Clock.ToSeconds(_lastSampleTicks - _startTicks);
            double cpu = Math.Max(0, _lastSampleCpuSeconds - _startCpuSeconds);
            manual = new ResourceUsage
            {
                ProcessId = Environment.ProcessId,
                CpuSeconds = cpu,
                CpuPercentMean = wall > 0 ? cpu / wall * 100 : 0,
                CpuPercentMax = _maxCpuPercent,
                RssPeakBytes = _rssPeak,
                RssMeanBytes = _rssSum / _samples,
                Samples = _samples,
                WallSeconds = wall,
            };
        }
        if (sampled is null || manual is null)
        {
            return sampled ?? manual;
        }
        // The sampler covers the whole context, so its CPU time stands; manual samples add memory readings.
        return new ResourceUsage
        {
            ProcessId = sampled.ProcessId,
            CpuSeconds = sampled.CpuSeconds,
            CpuPercentMean = sampled.CpuPercentMean,
            CpuPercentMax = Math.Max(sampled.CpuPercentMax, manual.CpuPercentMax),
            RssPeakBytes = Math.Max(sampled.RssPeakBytes, manual.RssPeakBytes),
            RssMeanBytes = ((sampled.RssMeanBytes * sampled.Samples) + (manual.RssMeanBytes * manual.Samples)) / (sampled.Samples + manual.Samples),
            Samples = sampled.Samples + manual.Samples,
            WallSeconds = sampled.WallSeconds,
        };
    }

    // Consecutive windows of one process as one: times add, peaks take the highest, means weigh by samples.
    internal static ResourceUsage? Merge(IReadOnlyList<ResourceUsage> windows)
    {
        if (windows.Count == 0)
        {
            return null;
        }
        double cpu = windows.Sum(w => w.CpuSeconds);
        double wall = windows.Sum(w => w.WallSeconds);
        int samples = windows.Sum(w => w.Samples);
        return new ResourceUsage
        {
            ProcessId = windows[0].ProcessId,
            CpuSeconds = cpu,
            CpuPercentMean = wall > 0 ? cpu / wall * 100 : 0,
            CpuPercentMax = windows.Max(w => w.CpuPercentMax),
            RssPeakBytes = windows.Max(w => w.RssPeakBytes),
            RssMeanBytes = samples > 0 ? windows.Sum(w => w.RssMeanBytes * w.Samples) / samples : 0,
            Samples = samples,
            WallSeconds = wall,
        };
    }
}
