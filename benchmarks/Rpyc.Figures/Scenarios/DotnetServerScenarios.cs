using Rpyc.Benchmarks;
using Rpyc.Figures.Reports;

namespace Rpyc.Figures.Scenarios;

/// <summary>This library's client against this library's servers (in another process): calls/s and 1 MiB transfers.</summary>
internal static class DotnetServerScenarios
{
    /// <summary><paramref name="connections"/> threads, each with its own connection, calling <c>root.ping()</c> back to back.</summary>
    public static ScenarioResult Throughput(int port, int connections, SteadyWarmup warmup, TimeSpan duration)
    {
        var conns = new List<RpycConnection>();
        try
        {
            var calls = new List<Func<bool>>();
            for (int c = 0; c < connections; c++)
            {
                RpycConnection conn = RpycConnection.Connect("127.0.0.1", port);
                conns.Add(conn);
                Netref root = conn.RootNetref;
                calls.Add(() => DotnetClient.IsPong(root));
            }
            string title = $".NET client -> .NET ThreadedServer, ping(), {connections} conns";
            ClosedLoopResult r = ClosedLoop.Run(calls, warmup, title, duration);
            return ScenarioResult.Rate("dotnet_threaded_rate", title, connections, r.Calls, r.Seconds, r.PerCall, r.Failures,
                note: "one client thread and one connection each, start barrier, fixed duration; every reply checked == \"pong\"").WithWarmup(r.Warmup);
        }
        finally
        {
            foreach (RpycConnection conn in conns)
            {
                conn.Dispose();
            }
        }
    }

    /// <summary><c>upload(1 MiB)</c>: the length comes back; the content of the last upload is compared on the server at the end.</summary>
    public static ScenarioResult Upload(int port, byte[] payload, int seed, SteadyWarmup warmup, int count) =>
        DotnetClient.Transfer(port, warmup, count, "dotnet_threaded_upload_1mib", ".NET client -> .NET ThreadedServer, upload(1 MiB)",
            payload.Length, payload.Length, 0,
            root => root.CallMethod("upload", payload),
            result => result is long n && n == payload.Length,
            "random bytes up, len() back (checked each call); the last upload's content is compared on the server once the clock stopped; no compression either way",
            finalCheck: root => root.CallMethod("last_upload_equals", payload.Length, seed) is true);

    /// <summary><c>download(1 MiB)</c>: the server returns its cached random buffer; length and content are compared after each call.</summary>
    public static ScenarioResult Download(int port, byte[] expected, SteadyWarmup warmup, int count) =>
        DotnetClient.Transfer(port, warmup, count, "dotnet_threaded_download_1mib", ".NET client -> .NET ThreadedServer, download(1 MiB)",
            expected.Length, 0, expected.Length,
            root => root.CallMethod("download", expected.Length),
            result => result is byte[] back && back.AsSpan().SequenceEqual(expected),
            "random bytes (the server's cached buffer) down; length and content compared after each call, outside the clock; no compression");

    /// <summary>The random payload both ends agree on.</summary>
    public static byte[] Payload(int seed) => BenchmarkData.RandomBytes(BenchmarkData.OneMiB, seed);
}
