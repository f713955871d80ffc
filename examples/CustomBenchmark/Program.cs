// A custom benchmark: derive from BenchmarkBase<TResult>, prepare in Setup, measure in Run,
// clean up in Teardown; Execute runs the three. The same benchmark runs against any target.
using Rpyc.Bench;

int requests = args.Contains("--quick") ? 50 : 500;

foreach (string name in new[] { TargetCatalog.RpycThreaded, TargetCatalog.HttpThreaded, TargetCatalog.TcpRaw })
{
    using ServerHost server = ServerHost.Start(name);
    foreach (int size in new[] { 64, 4096 })
    {
        LatencyResult r = new EchoBenchmark(server.Target, size, requests).Execute();
        Console.WriteLine($"{name,-14} echo {size,5} B: mean {r.Latency.Mean * 1e6,8:F1} us  p99 {r.Latency.P99 * 1e6,8:F1} us  failures {r.Failures}");
        if (r.Failures > 0)
        {
            return 1;
        }
    }
}
return 0;

// Echo round trips of one payload size on one warm connection.
internal sealed class EchoBenchmark(BenchTarget target, int size, int requests) : BenchmarkBase<LatencyResult>($"echo {size} B")
{
    private BenchClient? _client;
    private byte[] _data = [];

    protected override void Setup()
    {
        _client = target.Connect();
        _data = Payload.Create(size);
    }

    protected override LatencyResult Run(CancellationToken cancellationToken) =>
        new LatencyBenchmark(Name, () =>
        {
            _client!.Echo(_data);
            return true;
        }, new RunLimits(requests, TimeSpan.FromSeconds(10), Warmup: 50)) { Operation = "echo" }.Execute(cancellationToken);

    protected override void Teardown() => _client?.Dispose();
}
