using System.Runtime;

namespace Rpyc.Figures.Scenarios;

/// <summary>
/// Whether the JIT is still at work: methods compiled in this process (every thread) and CPU used by the
/// server process's tiered-compilation thread. A fresh runtime recompiles hot methods (tier0, instrumented,
/// tier1) for seconds after a figure starts, each step after a 100 ms quiet period; a figure taken meanwhile
/// times code that is about to change.
/// </summary>
internal sealed class JitActivity
{
    // /proc/PID/task/TID/comm keeps 15 characters of ".NET Tiered Compilation Worker".
    private const string TieredThreadName = ".NET Tiered Com";

    private readonly int _serverPid;
    private long _methods;
    private Dictionary<int, long> _tieredCpu;

    /// <param name="serverPid">The server's process, or 0 when it runs in this one (the method count covers both).</param>
    public JitActivity(int serverPid)
    {
        _serverPid = serverPid;
        _methods = JitInfo.GetCompiledMethodCount(currentThread: false);
        _tieredCpu = TieredThreadCpu();
    }

    /// <summary>Whether anything was compiled since the previous call (or since construction).</summary>
    public bool Poll()
    {
        long methods = JitInfo.GetCompiledMethodCount(currentThread: false);
        Dictionary<int, long> tiered = TieredThreadCpu();
        // A worker that appeared since has run (it is started for work); one that exited did nothing new.
        bool serverCompiled = tiered.Any(t => t.Value > _tieredCpu.GetValueOrDefault(t.Key));
        bool active = methods != _methods || serverCompiled;
        _methods = methods;
        _tieredCpu = tiered;
        return active;
    }

    private Dictionary<int, long> TieredThreadCpu() =>
        _serverPid <= 0
            ? []
            : ThreadCpu.Snapshot(_serverPid).Where(t => t.Value.Name == TieredThreadName).ToDictionary(t => t.Key, t => t.Value.Nanoseconds);
}
