// 128 concurrent clients from one process, each on its own connection and thread, against servers
// in their own processes: RPyC threaded and forking, and HTTP (Kestrel). Every client connects and
// warms up first; a start barrier releases them together. Shows the latency under load, the success
// rate, and per-client figures: how evenly the server shares itself among its clients.
//
//   dotnet run --project examples/HighConcurrency -c Release -- [--quick] [--clients N] [--requests N]
using System.Globalization;
using Rpyc.Bench;

bool quick = args.Contains("--quick");
int clients = IntOption("--clients", quick ? 16 : 128);
int requests = IntOption("--requests", quick ? 10 : 50);

var results = new List<ConcurrentResult>();
foreach (string name in new[] { TargetCatalog.RpycThreaded, TargetCatalog.RpycForking, TargetCatalog.HttpThreaded })
{
    using ServerHost server = ServerHost.Start(name);
    Console.WriteLine($"[{name}] {server.Info.Implementation}, pid {server.ProcessId}: {clients} parallel clients x {requests} pings");
    ConcurrentResult r = new ConcurrentBenchmark(name, server.Target, clients, requests)
    {
        WarmupPerClient = 2,
        MaxDuration = TimeSpan.FromSeconds(120),
    }.Execute();
    results.Add(r);
    Console.WriteLine($"  total requests   {r.TotalRequests}");
    Console.WriteLine($"  failed requests  {r.Failures}");
    Console.WriteLine($"  success rate     {r.SuccessRate * 100:F2} %");
    Console.WriteLine($"  throughput       {r.Throughput:F0} req/s over {r.Seconds:F3} s");
    Console.WriteLine($"  latency          mean {r.Latency.Mean * 1e3:F3} ms, median {r.Latency.Median * 1e3:F3} ms, p95 {r.Latency.P95 * 1e3:F3} ms, p99 {r.Latency.P99 * 1e3:F3} ms");
    ClientResult slowest = r.PerClient.MaxBy(c => c.Seconds)!;
    ClientResult fastest = r.PerClient.MinBy(c => c.Seconds)!;
    Console.WriteLine($"  per client       fastest #{fastest.Client} {fastest.Seconds:F3} s, slowest #{slowest.Client} {slowest.Seconds:F3} s, slowest p99 {slowest.Latency.P99 * 1e3:F3} ms");
    if (r.FirstError is { } error)
    {
        Console.WriteLine($"  first error      {error}");
    }
}

Console.WriteLine();
ConcurrentResult threaded = results[0];
ConcurrentResult forking = results[1];
(string faster, double factor) = threaded.Latency.Mean <= forking.Latency.Mean
    ? ("threaded", forking.Latency.Mean / threaded.Latency.Mean)
    : ("forking", threaded.Latency.Mean / forking.Latency.Mean);
Console.WriteLine($"RPyC under {clients} clients: {faster} has the lower mean latency, by {factor:F2}x");
long failures = results.Sum(r => r.Failures);
Console.WriteLine($"{results.Count} servers, {results.Sum(r => r.TotalRequests)} requests, {failures} failed");
return failures == 0 ? 0 : 1;

int IntOption(string name, int fallback)
{
    int i = Array.IndexOf(args, name);
    if (i < 0)
    {
        return fallback;
    }
    string? text = i + 1 < args.Length ? args[i + 1] : null;
    return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0
        ? value
        : throw new ArgumentException($"{name} takes a positive whole number, not '{text}'.");
}
