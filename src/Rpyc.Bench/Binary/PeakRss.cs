using System.Globalization;

namespace Rpyc.Bench;

// The peak resident memory of a process (and its descendants) over a window. Linux keeps a
// high-water mark per process (VmHWM) that writing 5 to /proc/PID/clear_refs resets, which no
// sampler can beat for a transfer shorter than its interval; where the reset is not allowed, a
// 10 ms ResourceSampler's peak stands in.
internal sealed class PeakRss : IDisposable
{
    private readonly int _pid;
    private readonly bool _descendants;
    private readonly bool _exact;
    private readonly ResourceSampler? _sampler;

    private PeakRss(int pid, bool descendants)
    {
        _pid = pid;
        _descendants = descendants;
        _exact = Pids().Aggregate(true, (ok, p) => Reset(p) && ok);
        if (!_exact)
        {
            _sampler = new ResourceSampler(pid, descendants, TimeSpan.FromMilliseconds(10));
        }
    }

    public bool Exact => _exact;

    public static PeakRss Start(int pid, bool descendants) => new(pid, descendants);

    public long? Stop()
    {
        if (_sampler is not null)
        {
            long peak = _sampler.Stop().RssPeakBytes;
            return peak > 0 ? peak : null;
        }
        long sum = 0;
        foreach (int pid in Pids())
        {
            sum += HighWaterMark(pid) ?? 0;
        }
        return sum > 0 ? sum : null;
    }

    public void Dispose() => _sampler?.Dispose();

    private IEnumerable<int> Pids() => _descendants ? [_pid, .. ProcStat.Descendants(_pid).Select(s => s.Pid)] : [_pid];

    private static bool Reset(int pid)
    {
        try
        {
            File.WriteAllText($"/proc/{pid}/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long? HighWaterMark(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    string kb = line["VmHWM:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return null;
    }
}
