// Quick test: the whole suite with minimal numbers against RPyC (threaded) and HTTP, to check that
// everything works on this machine (servers start, every phase answers, nothing fails) before a
// real run. The figures are too few to compare.
//
//   dotnet run --project examples/QuickTest -c Release [-- --quick]
using Rpyc.Bench;

// Already minimal; --quick (for the tests) also drops the larger payload sizes.
bool quick = args.Contains("--quick");
Console.WriteLine("Running a quick test with minimal parameters...");
var options = new SuiteOptions
{
    Targets = [TargetCatalog.RpycThreaded, TargetCatalog.HttpThreaded],
    NumConnections = 10,
    NumRequests = 50,
    WarmupRequests = 10,
    NumConcurrentClients = 3,
    RequestsPerClient = 10,
    PayloadSizes = quick ? [1024] : [1024, 65536, 1048576],
    TransfersPerSize = 3,
    MinPhaseDuration = TimeSpan.Zero,
    RunWrk = false,
};
BenchmarkReport report = BenchmarkSuite.RunAll(options);
Console.WriteLine(TextReporter.Render(report));

foreach (TargetReport target in report.Targets)
{
    string verdict = target.Status != TargetStatus.Ok
        ? $"{target.Status.ToString().ToUpperInvariant()}: {target.Error ?? $"{target.TotalFailures} failed requests"}"
        : "ok";
    Console.WriteLine($"{target.Name,-16} {verdict}");
}
bool ok = report.Targets.All(t => t.Status == TargetStatus.Ok && t.TotalFailures == 0);
Console.WriteLine(ok ? "The benchmark suite works on this machine." : "The benchmark suite did NOT run cleanly: see above.");
return ok ? 0 : 1;
