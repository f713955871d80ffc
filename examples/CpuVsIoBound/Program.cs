// CPU-bound vs I/O-bound calls under concurrent load, on threaded and forking servers.
// compute(n) keeps the server's CPU busy; sleep(s) makes it wait, as a database or a network call
// would. Python's rpyc runs CPU work one thread at a time (the GIL), so its threaded server
// serialises compute() while its forking server (a process per connection) spreads it over the
// cores; sleep() releases the GIL, so both modes overlap the waits. The .NET servers have no GIL:
// their threaded server already runs compute() in parallel. The server's CPU (its whole process
// tree) is sampled during each run: high CPU with poor throughput is CPU-bound work; low CPU with
// high latency is waiting.
//
//   dotnet run --project examples/CpuVsIoBound -c Release -- [--quick] [--clients N] [--requests N]
//       [--compute N] [--sleep SECONDS] [--dotnet-only]
using System.Globalization;
using Rpyc.Bench;

bool quick = args.Contains("--quick");
int clients = IntOption("--clients", quick ? 8 : 128);
int requests = IntOption("--requests", quick ? 3 : 10);
int computeN = IntOption("--compute", quick ? 20_000 : 200_000);
double sleepSeconds = DoubleOption("--sleep", 0.01);
string[] targets = args.Contains("--dotnet-only")
    ? [TargetCatalog.RpycThreaded, TargetCatalog.RpycForking]
    : [TargetCatalog.RpycThreaded, TargetCatalog.RpycForking, TargetCatalog.PyRpycThreaded, TargetCatalog.PyRpycForking];

Console.WriteLine($"{clients} concurrent clients x {requests} requests; CPU-bound: compute({computeN}); I/O-bound: sleep({sleepSeconds.ToString(CultureInfo.InvariantCulture)})");
var results = new List<(string Target, string Workload, Run Run)>();
foreach (string name in targets)
{
    using ServerHost server = ServerHost.Start(name);
    results.Add((name, "cpu", Measure(server, "cpu", c => c.Compute(computeN))));
    results.Add((name, "io", Measure(server, "io", c => c.Sleep(sleepSeconds))));
}

Console.WriteLine();
Console.WriteLine($"{"target",-18} {"workload",-8} {"req/s",9} {"mean ms",9} {"p50 ms",9} {"p99 ms",9} {"server CPU %",13} {"server RSS MiB",15} {"failed",7}");
foreach ((string target, string workload, Run r) in results)
{
    // The kernel accounts CPU time in 10 ms ticks: a shorter window than 0.1 s has no meaningful percent.
    string cpu = r.Server.WallSeconds >= 0.1 ? r.Server.CpuPercentMean.ToString("F0", CultureInfo.InvariantCulture) : "-";
    Console.WriteLine($"{target,-18} {workload,-8} {r.Result.Throughput,9:F1} {r.Result.Latency.Mean * 1e3,9:F2} {r.Result.Latency.P50 * 1e3,9:F2} {r.Result.Latency.P99 * 1e3,9:F2} {cpu,13} {r.Server.RssPeakBytes / 1048576.0,15:F0} {r.Result.Failures,7}");
}
if (results.Any(r => r.Run.Server.WallSeconds < 0.1))
{
    Console.WriteLine("server CPU % '-': the run took under 0.1 s, too short for the kernel's 10 ms CPU accounting (raise --requests).");
}

Console.WriteLine();
foreach ((string threaded, string forking) in new[] { (TargetCatalog.RpycThreaded, TargetCatalog.RpycForking), (TargetCatalog.PyRpycThreaded, TargetCatalog.PyRpycForking) })
{
    if (!results.Any(r => r.Target == threaded))
    {
        continue;
    }
    foreach (string workload in new[] { "cpu", "io" })
    {
        double ratio = Find(forking, workload).Result.Throughput / Find(threaded, workload).Result.Throughput;
        Console.WriteLine($"{workload}-bound: {forking} / {threaded} throughput = {ratio:F2}x");
    }
}
Console.WriteLine();
Console.WriteLine("Reading the figures: forking well above 1x on cpu-bound work means the threaded server");
Console.WriteLine("serialises the computation (Python's GIL); near 1x on io-bound work means threads overlap");
Console.WriteLine("the waits as well as processes do, at a fraction of the memory (compare the RSS column).");
Console.WriteLine("With fewer cores than clients, CPU-bound throughput is capped by the cores either way.");
long failures = results.Sum(r => r.Run.Result.Failures);
Console.WriteLine($"failed requests: {failures}");
return failures == 0 ? 0 : 1;

Run Find(string target, string workload) => results.Single(r => r.Target == target && r.Workload == workload).Run;

Run Measure(ServerHost server, string workload, Action<BenchClient> request)
{
    Console.Error.WriteLine($"{server.Info.Name}: {workload}-bound, {clients} clients");
    // Sampled from the release of the clients on: connecting (a fork per client) is not the workload.
    ResourceSampler? sampler = null;
    var bench = new ConcurrentBenchmark($"{server.Info.Name} {workload}", server.Target, clients, requests)
    {
        Request = request,
        // A forking server's new workers are cold (a .NET worker JIT-compiles its first calls).
        WarmupPerClient = quick ? 1 : 3,
        MaxDuration = TimeSpan.FromSeconds(120),
        BeforeRelease = () => sampler = new ResourceSampler(server.ProcessId, includeDescendants: true),
    };
    ConcurrentResult result = bench.Execute();
    ResourceUsage usage = sampler!.Stop();
    sampler.Dispose();
    if (result.FirstError is { } error)
    {
        Console.Error.WriteLine($"  first error: {error}");
    }
    return new Run(result, usage);
}

int IntOption(string name, int fallback) =>
    Option(name) is not { } text ? fallback
    : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value > 0 ? value
    : throw new ArgumentException($"{name} takes a positive whole number, not '{text}'.");

double DoubleOption(string name, double fallback) =>
    Option(name) is not { } text ? fallback
    : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && value >= 0 && double.IsFinite(value) ? value
    : throw new ArgumentException($"{name} takes a number of seconds (0 or more), not '{text}'.");

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i < 0 ? null : i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{name} needs a value.");
}

internal sealed record Run(ConcurrentResult Result, ResourceUsage Server);
