using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text.Json;
using Rpyc.Figures.Peers;
using Rpyc.Figures.Reports;
using Rpyc.Figures.Statistics;

namespace Rpyc.Figures.Scenarios;

/// <summary>
/// Connect plus first call: a new TCP connection, the first <c>ping()</c> and its validated reply, timed;
/// then the connection is closed and the client pauses (neither counted), so a forking server can refill its pool.
/// </summary>
internal static class ConnectScenarios
{
    private static readonly TimeSpan s_pythonTimeout = TimeSpan.FromMinutes(5);

    /// <summary>One server a connect figure is taken against.</summary>
    public sealed record Target(int Port, string Key, string Title, string? Note = null);

    /// <summary>
    /// This library's client: <c>RpycConnection.Connect</c> + <c>RootNetref.CallMethod("ping")</c>. With several targets
    /// the connections alternate between them, one at a time, so a change in the machine's load touches each alike.
    /// </summary>
    public static IReadOnlyList<ScenarioResult> Dotnet(IReadOnlyList<Target> targets, int warmup, int count, int gapMs)
    {
        int[] failures = new int[targets.Count];
        long[][] ticks = targets.Select(_ => new long[count]).ToArray();
        for (int i = 0; i < warmup + count; i++)
        {
            for (int t = 0; t < targets.Count; t++)
            {
                (bool ok, long elapsed) = ConnectAndPing(targets[t].Port);
                if (i >= warmup)
                {
                    ticks[t][i - warmup] = elapsed;
                }
                failures[t] += ok ? 0 : 1;
                if (gapMs > 0)
                {
                    Thread.Sleep(gapMs);
                }
            }
        }
        return targets.Select((target, t) => ScenarioResult.Connect(target.Key, target.Title, LatencyStats.FromTicks(ticks[t]), failures[t], gapMs,
            target.Note ?? "RpycConnection.Connect + RootNetref.CallMethod(\"ping\") == \"pong\" (GETROOT + CALLATTR); close and pause not counted")).ToArray();
    }

    private static (bool Ok, long Ticks) ConnectAndPing(int port)
    {
        RpycConnection? conn = null;
        bool ok;
        long start = Stopwatch.GetTimestamp();
        try
        {
            conn = RpycConnection.Connect("127.0.0.1", port);
            ok = conn.RootNetref.CallMethod("ping") is "pong";
        }
        catch (Exception ex) when (ex is RpycException or SocketException or IOException)
        {
            ok = false;
        }
        long elapsed = Stopwatch.GetTimestamp() - start;
        conn?.Dispose();
        return (ok, elapsed);
    }

    /// <summary>rpyc's own client (tests/python/bench_connect.py): <c>rpyc.connect</c> + <c>c.root.ping()</c>, alternating between the targets.</summary>
    public static IReadOnlyList<ScenarioResult> Python(FiguresOptions options, IReadOnlyList<Target> targets, int warmup, int count, int gapMs)
    {
        var arguments = new List<string>();
        foreach (Target target in targets)
        {
            arguments.Add("--port");
            arguments.Add(target.Port.ToString(CultureInfo.InvariantCulture));
        }
        arguments.AddRange(
        [
            "--count", count.ToString(CultureInfo.InvariantCulture),
            "--warmup", warmup.ToString(CultureInfo.InvariantCulture),
            "--gap-ms", gapMs.ToString(CultureInfo.InvariantCulture),
        ]);
        using JsonDocument doc = PythonClient.Run(options.Python, options.RepoRoot, arguments, s_pythonTimeout, "bench_connect.py");
        JsonElement[] results = doc.RootElement.GetProperty("results").EnumerateArray().ToArray();
        if (results.Length != targets.Count)
        {
            throw new FiguresException($"bench_connect.py returned {results.Length} results for {targets.Count} ports.");
        }
        return targets.Select((target, t) =>
        {
            JsonElement e = results[t].GetProperty("connect");
            return ScenarioResult.Connect(target.Key, target.Title, PythonClientScenarios.ReadStats(e), e.GetProperty(Fields.Failures).GetInt32(), gapMs,
                target.Note ?? "rpyc.connect + c.root.ping() == \"pong\" (GETROOT, INSPECT of the root's class, GETATTR, CALL); close and pause not counted");
        }).ToArray();
    }
}
