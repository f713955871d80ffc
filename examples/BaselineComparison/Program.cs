// Baseline comparison of RPyC and HTTP/REST: connection time, request latency, upload and download
// bandwidth and concurrent load, each server in its own process, with raw TCP as the floor neither
// can beat. Prints the summary, writes the JSON report and reads it back, as a script analysing the
// results would.
//
//   dotnet run --project examples/BaselineComparison -c Release -- [--quick] [--output baseline_comparison.json]
using System.Text.Json;
using Rpyc.Bench;

bool quick = args.Contains("--quick");
int output = Array.IndexOf(args, "--output");
if (output >= 0 && output + 1 >= args.Length)
{
    Console.Error.WriteLine("--output needs a file name.");
    return 2;
}
string path = output >= 0 ? args[output + 1] : "baseline_comparison.json";

Console.WriteLine(quick ? "QUICK BASELINE (faster, less accurate): RPyC vs HTTP/REST" : "BASELINE COMPARISON: RPyC vs HTTP/REST");
var options = new SuiteOptions
{
    Targets = [TargetCatalog.RpycThreaded, TargetCatalog.HttpThreaded, TargetCatalog.TcpRaw],
    NumConnections = quick ? 20 : 100,
    NumRequests = quick ? 100 : 1000,
    NumConcurrentClients = quick ? 3 : 10,
    RequestsPerClient = quick ? 20 : 100,
    PayloadSizes = quick ? [1024, 65536] : BandwidthBenchmark.DefaultSizes,
    TransfersPerSize = quick ? 5 : 50,
    MinPhaseDuration = quick ? TimeSpan.Zero : TimeSpan.FromSeconds(0.5),
    RunWrk = false,
};
BenchmarkReport report = BenchmarkSuite.RunAll(options);
Console.WriteLine(TextReporter.Render(report));
JsonReporter.Write(report, path);
Console.WriteLine($"Results saved to {path}");

// The JSON is keyed by target; times in seconds, bandwidth in bytes per second.
using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
double? Figure(string target, params string[] keys)
{
    JsonElement e = doc.RootElement.GetProperty(target);
    foreach (string key in keys)
    {
        if (e.ValueKind != JsonValueKind.Object || !e.TryGetProperty(key, out e))
        {
            return null;
        }
    }
    return e.ValueKind == JsonValueKind.Number ? e.GetDouble() : null;
}
Console.WriteLine();
Console.WriteLine($"{"from the JSON",-34} {"rpyc_threaded",14} {"http_threaded",14} {"tcp_raw",14}");
Row("connection time mean (ms)", 1e3, "connection_time", "mean");
Row("latency mean (us)", 1e6, "latency", "mean");
Row("latency p99 (us)", 1e6, "latency", "p99");
Row("upload 64 KiB (MB/s)", 1e-6, "upload_bandwidth", "65536", "bytes_per_second");
Row("download 64 KiB (MB/s)", 1e-6, "download_bandwidth", "65536", "bytes_per_second");
Row("concurrent throughput (req/s)", 1, "concurrent", "throughput");
if (Figure(TargetCatalog.RpycThreaded, "latency", "mean") is double rpyc && Figure(TargetCatalog.HttpThreaded, "latency", "mean") is double http)
{
    Console.WriteLine($"RPyC's mean latency is {rpyc / http:F2}x HTTP's ({(rpyc < http ? "RPyC faster" : "HTTP faster")}).");
}
return report.AnyFailed ? 1 : 0;

void Row(string label, double scale, params string[] keys)
{
    string Cell(string target) => Figure(target, keys) is double v ? (v * scale).ToString("F1", System.Globalization.CultureInfo.InvariantCulture) : "-";
    Console.WriteLine($"{label,-34} {Cell(TargetCatalog.RpycThreaded),14} {Cell(TargetCatalog.HttpThreaded),14} {Cell(TargetCatalog.TcpRaw),14}");
}
