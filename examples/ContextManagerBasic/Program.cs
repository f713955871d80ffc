// BenchmarkContext, the C# form of rpycbench's context manager: time calls where they are made.
using Rpyc;
using Rpyc.Bench;

int requests = args.Contains("--quick") ? 100 : 1000;

// A .NET RPyC ThreadedServer with the benchmark service, in its own process, for this block.
using var server = new RpycServerHost("127.0.0.1", 0, RpycServerMode.Threaded);

using var bench = new BenchmarkContext("rpyc ping", "rpyc", serverMode: "threaded", measureLatency: true);
RpycConnection conn;
using (bench.MeasureConnectionTime())
{
    conn = RpycConnection.Connect(server.Host, server.Port);
    _ = conn.RootNetref;
}
using (conn)
{
    for (int i = 0; i < requests; i++)
    {
        using (bench.MeasureRequest())
        {
            object? reply = conn.RootNetref.CallMethod("ping");
            bench.RecordRequest(success: reply is "pong");
        }
    }
}

ContextStatistics stats = bench.ComputeStatistics();
Console.WriteLine($"{stats.Name}: {stats.Requests} requests, success rate {stats.SuccessRate:P1}");
Console.WriteLine($"  connection time {stats.ConnectionTime.Mean * 1e3:F3} ms");
Console.WriteLine($"  latency mean {stats.Latency.Mean * 1e6:F1} us, p50 {stats.Latency.P50 * 1e6:F1} us, p99 {stats.Latency.P99 * 1e6:F1} us");
return stats.Failures == 0 ? 0 : 1;
