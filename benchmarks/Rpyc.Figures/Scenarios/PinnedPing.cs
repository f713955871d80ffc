using Rpyc.Figures.Placement;
using Rpyc.Figures.Reports;

namespace Rpyc.Figures.Scenarios;

/// <summary>
/// The ping figure in chosen CPU placements (see <see cref="CpuPlacement.Pinned"/>), RPyC beside the cross-process raw
/// echo, whose thread lives in the same server host process as the ThreadedServer: the same processes, the same
/// placement, so the placement cannot favour one row over the other. Each placement is interleaved in rounds like the
/// unpinned figure; the masks of both processes are restored after each.
/// </summary>
internal static class PinnedPing
{
    /// <param name="crossCall">One 16-byte round trip with the raw echo in the server process.</param>
    /// <param name="root">The root of an RPyC connection to the server process.</param>
    /// <param name="crossKey">Key of the raw rows, suffixed with the placement (e.g. <c>tcp_cross_process_same_cpu</c>).</param>
    /// <param name="pingKey">Key of the RPyC rows, suffixed likewise.</param>
    public static IReadOnlyList<ScenarioResult> Run(Func<bool> crossCall, Netref root, int serverPid, SteadyWarmup warmup, int calls, int rounds,
        string crossKey, string pingKey, TextWriter log)
    {
        var results = new List<ScenarioResult>();
        foreach (CpuPlacement placement in CpuPlacement.Pinned())
        {
            var cross = new Contender(() => crossCall(), ok => ok is true);
            var ping = new Contender(() => root.CallMethod("ping"), r => r is "pong", measureAllocations: true);
            string? skipped = placement.SkipReason;
            if (skipped is null)
            {
                log.WriteLine($"  pinned ({placement.Key}): {placement.Description}");
                log.Flush();
                try
                {
                    using (PinnedThreads.Pin([(Environment.ProcessId, placement.ClientCpu), (serverPid, placement.ServerCpu)]))
                    {
                        Interleaved.Run([cross, ping], warmup, $"ping pinned {placement.Key}", calls, rounds);
                    }
                }
                catch (PlacementException ex)
                {
                    skipped = $"skipped: {ex.Message}";
                }
            }
            if (skipped is not null)
            {
                log.WriteLine($"  pinned ({placement.Key}): {skipped}");
            }
            string how = skipped ?? $"pinned with sched_setaffinity on every thread (/proc/PID/task) for this figure alone: {placement.Description}; "
                + "threads started meanwhile inherit it; both processes' masks restored after; measured in rounds alternating with the other row of this placement";
            results.Add(cross.Latency($"{crossKey}_{placement.Key}", $"TCP ping-pong 16 B, echo in the server process, {placement.Key}",
                $"{how}; the raw echo thread lives in the server host beside the ThreadedServer: the reference of the RPyC row of this placement (goal_ping_p50_{placement.Key} in --servers)"));
            results.Add(ping.Latency($"{pingKey}_{placement.Key}", $".NET client -> .NET ThreadedServer, root.ping(), {placement.Key}",
                $"{how}; RpycConnection.RootNetref.CallMethod(\"ping\") == \"pong\", one request and one reply on an already open connection"));
        }
        return results;
    }
}
