using System.Diagnostics;
using System.Globalization;

namespace Rpyc.Bench.Profiling;

/// <summary>
/// The one JIT signal of every warmup: a number that grows while any .NET JIT of the benchmark is
/// still at work. It is the union of two probes: the methods this process has compiled
/// (<see cref="System.Runtime.JitInfo.GetCompiledMethodCount"/>, every thread: the client, and a
/// server run in this process), plus the CPU milliseconds the tiered-compilation threads
/// (<c>.NET Tiered Com…</c>) of a server process tree used, read from <c>/proc/PID/task</c>. A
/// fresh .NET server recompiles its hot path (tier 0, instrumented, tier 1, each step after a
/// 100 ms quiet period) for seconds after it starts; a warmup that ends before this stops growing
/// measures the JIT, not the server. The rule built on it: warm until it has not moved for 0.5 s,
/// at least 1 s, at most 20 s (see <see cref="LatencyBenchmark.JitActivity"/>). Reads /proc at
/// most every 50 ms, so it can be polled between calls. A Python server has no JIT: only this
/// process counts then.
/// </summary>
/// <param name="serverPid">The server's process when it runs apart from this one, or <c>null</c>.</param>
/// <example>
/// <code>
/// Func&lt;long&gt; jit = JitProbe.For(server.IsOutOfProcess ? server.ProcessId : null);
/// new LatencyBenchmark("ping", ping, limits) { JitActivity = jit, WarmupMinDuration = TimeSpan.FromSeconds(1) }.Execute();
/// </code>
/// </example>
public sealed class JitProbe(int? serverPid)
{
    private static readonly long s_interval = Stopwatch.Frequency / 20;
    private readonly Dictionary<int, long> _lastNanoseconds = [];
    private long _lastRead = long.MinValue;
    private long _serverNanoseconds;

    /// <summary>The probe for a benchmark target: its server's process tree when it runs apart from us.</summary>
    /// <param name="serverPid">The server's process, or <c>null</c> (in this process, a Python server, or elsewhere).</param>
    /// <returns><see cref="Read"/> of a new probe.</returns>
    public static Func<long> For(int? serverPid) => new JitProbe(serverPid).Read;

    /// <summary>Methods this process has compiled so far.</summary>
    public static long ClientCompiledMethods => System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: false);

    /// <summary>CPU milliseconds the server tree's tiered-compilation threads used since the first <see cref="Read"/> (as of the last read).</summary>
    public long ServerTieredMilliseconds => _serverNanoseconds / 1_000_000;

    /// <summary>The activity count: <see cref="ClientCompiledMethods"/> + <see cref="ServerTieredMilliseconds"/>.</summary>
    /// <returns>A number that never decreases: only a tiered-compilation thread's growth adds (one that exits adds nothing).</returns>
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
        return ClientCompiledMethods + ServerTieredMilliseconds;
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
