using System.Diagnostics;
using Rpyc.Benchmarks;
using Rpyc.Figures.Reports;
using Rpyc.Figures.Statistics;

namespace Rpyc.Figures.Scenarios;

/// <summary>This library as a client of the Python server: one-round-trip calls and 1 MiB transfers.</summary>
internal static class DotnetClient
{
    /// <summary><c>root.ping()</c> through <c>HANDLE_CALLATTR</c>: one request, one reply.</summary>
    public static ScenarioResult Ping(int port, SteadyWarmup warmup, int calls) =>
        Ping(port, warmup, calls, "dotnet_ping", ".NET client -> Python 5.3, root.ping() (CALLATTR)");

    /// <summary><c>root.ping()</c> against any server, reported under <paramref name="key"/>.</summary>
    public static ScenarioResult Ping(int port, SteadyWarmup warmup, int calls, string key, string title)
    {
        using RpycConnection conn = RpycConnection.Connect("127.0.0.1", port);
        Netref root = conn.RootNetref;
        int failures = 0;
        WarmupOutcome warmed = warmup.Run(title, [SteadyWarmup.For(() => failures += IsPong(root) ? 0 : 1)]);
        // Warmup failures mean the figure is wrong too: count them with the rest.
        long[] ticks = new long[calls];
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++)
        {
            long start = Stopwatch.GetTimestamp();
            bool ok = IsPong(root);
            ticks[i] = Stopwatch.GetTimestamp() - start;
            failures += ok ? 0 : 1;
        }
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        return ScenarioResult.Latency(
            key, title, LatencyStats.FromTicks(ticks), failures,
            allocBytesPerCall: (double)allocated / calls,
            note: "RpycConnection.RootNetref.CallMethod(\"ping\"), result checked == \"pong\"; alloc = bytes allocated by the calling thread (it also reads the reply)").WithWarmup(warmed);
    }

    internal static bool IsPong(Netref root)
    {
        try
        {
            return root.CallMethod("ping") is "pong";
        }
        catch (RpycException)
        {
            return false;
        }
    }

    /// <summary>echo(1 MiB) with the default options (this side never compresses; Python compresses its reply).</summary>
    public static ScenarioResult Echo(int port, byte[] payload, SteadyWarmup warmup, int count) =>
        Transfer(port, warmup, count, "dotnet_echo_1mib", ".NET client -> Python, echo(1 MiB)", payload.Length, payload.Length, payload.Length,
            root => root.CallMethod("echo", payload),
            result => result is byte[] back && back.AsSpan().SequenceEqual(payload),
            "random bytes; compression off on this side (default), the Python server zlib-compresses its reply (channel.py threshold 3000, ~22 ms per MiB at level 1); "
            + "rpyc leaves Nagle on for accepted sockets, and some replies stall ~40 ms (delayed ACK) whichever the client");

    /// <summary>upload(1 MiB): the payload goes up, an int comes back.</summary>
    public static ScenarioResult Upload(int port, byte[] payload, SteadyWarmup warmup, int count) =>
        Transfer(port, warmup, count, "dotnet_upload_1mib", ".NET client -> Python, upload(1 MiB)", payload.Length, payload.Length, 0,
            root => root.CallMethod("upload", payload),
            result => result is long n && n == payload.Length,
            "random bytes up, len() back");

    /// <summary>download_fast(1 MiB): a small request, the payload comes back (compressible, so Python's zlib shrinks it).</summary>
    public static ScenarioResult Download(int port, SteadyWarmup warmup, int count)
    {
        byte[] expected = BenchmarkData.RepeatingBytes(BenchmarkData.OneMiB);
        return Transfer(port, warmup, count, "dotnet_download_1mib", ".NET client -> Python, download_fast(1 MiB)", expected.Length, 0, expected.Length,
            root => root.CallMethod("download_fast", (long)expected.Length),
            result => result is byte[] back && back.AsSpan().SequenceEqual(expected),
            "bytes(range(256)) repeated: the reply compresses about 250:1");
    }

    /// <summary>
    /// <paramref name="count"/> timed calls on one connection after <paramref name="warmup"/> untimed ones; each
    /// result is validated after the clock stopped, and <paramref name="finalCheck"/> (if any) once at the end, on the same connection.
    /// </summary>
    internal static ScenarioResult Transfer(int port, SteadyWarmup warmup, int count, string key, string title, long payloadBytes, long up, long down,
        Func<Netref, object?> call, Func<object?, bool> isValid, string note, Func<Netref, bool>? finalCheck = null)
    {
        using RpycConnection conn = RpycConnection.Connect("127.0.0.1", port);
        Netref root = conn.RootNetref;
        int failures = 0;
        WarmupOutcome warmed = warmup.Run(title, [SteadyWarmup.For(() => failures += TryCall(call, root, out object? result) && isValid(result) ? 0 : 1)]);
        long[] ticks = new long[count];
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            bool ok = TryCall(call, root, out object? result);
            ticks[i] = Stopwatch.GetTimestamp() - start;
            // Checked after the clock stopped: comparing 1 MiB is not part of the transfer.
            failures += ok && isValid(result) ? 0 : 1;
        }
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        if (finalCheck is not null)
        {
            failures += TryCall(r => finalCheck(r), root, out object? checkedOk) && checkedOk is true ? 0 : 1;
        }
        return ScenarioResult.Throughput(key, title, LatencyStats.FromTicks(ticks), failures, payloadBytes, up, down, (double)allocated / count, note).WithWarmup(warmed);
    }

    private static bool TryCall(Func<Netref, object?> call, Netref root, out object? result)
    {
        try
        {
            result = call(root);
            return true;
        }
        catch (RpycException)
        {
            result = null;
            return false;
        }
    }
}
