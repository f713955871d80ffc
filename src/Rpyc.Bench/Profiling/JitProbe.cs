using System.Diagnostics;
using System.Globalization;

namespace Rpyc.Bench.Profiling;

/// <summary>
/// A number that grows while any .NET JIT of the benchmark is still at work: the methods this process
/// has compiled, plus the CPU milliseconds of the tiered-compilation threads (".NET Tiered Com…") of a
/// server process tree, read from <c>/proc/PID/task</c>. A .NET server recompiles its hot path (tier 0,
/// instrumented, tier 1) for seconds after it starts; a warmup that ends before this stops growing
/// measures the JIT, not the server. Reads /proc at most every 50 ms (it is polled between calls).
/// </summary>
internal sealed class JitProbe(int? serverPid)
{
    private static readonly long s_interval = Stopwatch.Frequency / 20;
    private readonly Dictionary<int, long> _lastNanoseconds = [];
    private long _lastRead = long.MinValue;
    private long _serverNanoseconds;

    /// <summary>The probe for a benchmark target: its server's process tree when it runs apart from us.</summary>
    public static Func<long> For(int? serverPid) => new JitProbe(serverPid).Read;

    /// <summary>Never decreases: only a tiered-compilation thread's growth adds (one that exits adds nothing).</summary>
    public long Read()
    {
        long now = Stopwatch.GetTimestamp();
        if (serverPid is int pid && now - _lastRead >= s_interval)
        {
            _lastRead = now;
            AddGrowth(pid);
            foreach (ProcStat child in ProcStat.Descendants(pid))
            {
                AddGrowth(child.Pid);
            }
        }
        return System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: false) + _serverNanoseconds / 1_000_000;
    }

    private void AddGrowth(int pid)
    {
        foreach ((int tid, long nanoseconds) in TieredCompilationThreads(pid))
        {
            _serverNanoseconds += nanoseconds - _lastNanoseconds.GetValueOrDefault(tid);
            _lastNanoseconds[tid] = nanoseconds;
        }
    }

    // The CPU time of each tiered-compilation thread of a process, by thread id; threads that exit while we look are skipped.
    private static List<(int Tid, long Nanoseconds)> TieredCompilationThreads(int pid)
    {
        var threads = new List<(int, long)>();
        try
        {
            foreach (string task in Directory.EnumerateDirectories($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/task"))
            {
                try
                {
                    if (!File.ReadAllText(Path.Combine(task, "comm")).StartsWith(".NET Tiered", StringComparison.Ordinal))
                    {
                        continue;
                    }
                    string schedstat = File.ReadAllText(Path.Combine(task, "schedstat"));
                    threads.Add((int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture),
                        long.Parse(schedstat.AsSpan(0, schedstat.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture)));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
                {
                    // The thread exited while we looked.
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The process exited.
        }
        return threads;
    }
}
