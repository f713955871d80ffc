// Autonomous run: the suite starts each server in its own process, measures it, stops it,
// and prints the summary: what `rpycbench` does, from code.
using Rpyc.Bench;

bool quick = args.Contains("--quick");
var options = new SuiteOptions
{
    Targets = [TargetCatalog.RpycThreaded, TargetCatalog.HttpThreaded, TargetCatalog.TcpRaw],
    NumConnections = quick ? 5 : 100,
    NumRequests = quick ? 50 : 1000,
    NumConcurrentClients = quick ? 2 : 10,
    RequestsPerClient = quick ? 20 : 100,
    PayloadSizes = quick ? [1024, 65536] : BandwidthBenchmark.DefaultSizes,
    TransfersPerSize = quick ? 3 : 50,
    MinPhaseDuration = quick ? TimeSpan.Zero : TimeSpan.FromSeconds(0.5),
    RunWrk = !quick,
};

BenchmarkReport report = BenchmarkSuite.RunAll(options, new ConsoleProgress());
Console.WriteLine(TextReporter.Render(report));
string path = Path.Combine(Path.GetTempPath(), "rpycbench-autonomous.json");
JsonReporter.Write(report, path);
Console.WriteLine($"JSON report: {path}");
return report.AnyFailed ? 1 : 0;

internal sealed class ConsoleProgress : IProgress<SuiteProgress>
{
    public void Report(SuiteProgress value) => Console.Error.WriteLine($"[{value.TargetIndex + 1}/{value.TargetCount}] {value.Target}: {value.Phase}");
}
