// Binary file transfers: each file size sent whole and in chunks (and, over RPyC, through an
// iterator the receiver pulls), both ways, the receiver checking SHA-256, against RPyC, HTTP and
// the raw TCP floor; then the same measured from your own code with BenchmarkContext.
//
//   dotnet run --project examples/BinaryTransfer -c Release                 # 1 MiB, 100 MiB: whole vs 64 KiB chunks
//   dotnet run --project examples/BinaryTransfer -c Release -- --quick      # 1 MiB, 4 MiB, 8 KiB chunks
//   dotnet run --project examples/BinaryTransfer -c Release -- --custom     # BinaryTransferBenchmark and BenchmarkContext directly
//   ... [--output FILE] [--chunk-size 512K]
//
// The CLI does the same on every target: rpycbench --test-binary-transfer --binary-file-sizes 1M,100M,1G --binary-chunk-size 64K
using System.Globalization;
using Rpyc;
using Rpyc.Bench;

bool quick = args.Contains("--quick");
bool custom = args.Contains("--custom");
string output = Option("--output") ?? "binary_transfer.json";
if (!BinarySizes.TryParse(Option("--chunk-size") ?? (quick ? "8K" : "64K"), out long chunkSize) || chunkSize > 256L << 20)
{
    Console.Error.WriteLine("--chunk-size: bytes or K/M, up to 256M.");
    return 2;
}

if (custom)
{
    return Custom((int)chunkSize);
}

Console.WriteLine(quick ? "QUICK BINARY TRANSFER TEST" : "BINARY FILE TRANSFER BENCHMARK");
Console.WriteLine(new string('=', 80));
var transfer = new BinaryTransferOptions
{
    Sizes = quick ? [1L << 20, 4L << 20] : [1L << 20, 100L << 20],
    ChunkSize = (int)chunkSize,
    Iterations = quick ? 2 : 3,
};
Console.WriteLine($"  sizes: {string.Join(", ", transfer.Sizes.Select(SummaryTables.SizeLabel))}; chunks of {SummaryTables.SizeLabel(transfer.ChunkSize)}; {transfer.Iterations} iterations");
Console.WriteLine("  whole, chunked and (RPyC) generator modes, upload and download, SHA-256 checked by the receiver");
var options = new SuiteOptions
{
    Targets = [TargetCatalog.RpycThreaded, TargetCatalog.HttpThreaded, TargetCatalog.TcpRaw],
    NumConnections = 5,
    NumRequests = 20,
    WarmupRequests = 5,
    NumConcurrentClients = 1,
    RequestsPerClient = 5,
    PayloadSizes = [1024],
    TransfersPerSize = 2,
    MinPhaseDuration = TimeSpan.Zero,
    Scenarios = [],
    RunWrk = false,
    BinaryTransfer = transfer,
};
BenchmarkReport report = BenchmarkSuite.RunAll(options);
File.WriteAllText(output, JsonReporter.Render(report));

// Whole against chunked, per target and size, from the report.
Console.WriteLine();
Console.WriteLine($"{"target",-16} {"size",-8} {"mode",-10} {"up MiB/s",10} {"down MiB/s",11}  SHA-256");
bool ok = true;
foreach (TargetReport target in report.Targets)
{
    if (target.BinaryTransfer is not { } b)
    {
        Console.WriteLine($"{target.Name,-16} no binary transfers: {target.Error}");
        ok = false;
        continue;
    }
    foreach (BinarySizeResult size in b.Sizes)
    {
        foreach (BinaryModeResult mode in size.Modes)
        {
            Console.WriteLine($"{target.Name,-16} {SummaryTables.SizeLabel(size.Size),-8} {mode.Mode,-10} {Rate(mode.Upload),10} {Rate(mode.Download),11}  {Check(mode.Upload)}/{Check(mode.Download)}");
            foreach (BinaryWayResult way in new[] { mode.Upload, mode.Download }.Where(w => w.Status != BinaryWayStatus.Ok))
            {
                Console.WriteLine($"    {way.Status.ToString().ToLowerInvariant()}: {way.Reason}");
                ok &= way.Status == BinaryWayStatus.Refused;
            }
        }
    }
}
Console.WriteLine();
Console.WriteLine($"Results saved to {output}");
Console.WriteLine("Compare chunk sizes: rpycbench --test-binary-transfer --binary-chunk-size 8K (then 512K)");
return ok ? 0 : 1;

static string Rate(BinaryWayResult way) => way.Status switch
{
    BinaryWayStatus.Ok => (way.BytesPerSecond / (1024 * 1024)).ToString("F1", CultureInfo.InvariantCulture),
    BinaryWayStatus.Refused => "refused",
    _ => "failed",
};

static string Check(BinaryWayResult way) => way.Sha256Ok switch
{
    true => "ok",
    false => "MISMATCH",
    null => "-",
};

// The library directly: one target, 5 MiB in 16 KiB chunks; then transfers timed where an
// application makes them, with BenchmarkContext.MeasureBandwidth.
static int Custom(int chunkSize)
{
    Console.WriteLine("CUSTOM BINARY TRANSFER TEST");
    Console.WriteLine(new string('=', 80));
    using ServerHost server = ServerHost.Start(TargetCatalog.RpycThreaded);
    Console.WriteLine($"\n1. BinaryTransferBenchmark ({SummaryTables.SizeLabel(chunkSize)} chunks):");
    var options = new BinaryTransferOptions { Sizes = [5L << 20], ChunkSize = chunkSize, Iterations = 3 };
    BinaryTransferResult result = new BinaryTransferBenchmark(TargetCatalog.Get(TargetCatalog.RpycThreaded), server.Target.Host, server.Target.Port, options, server.ProcessId).Execute();
    bool ok = true;
    foreach (BinaryModeResult mode in result.Sizes[0].Modes)
    {
        foreach ((string way, BinaryWayResult r) in new[] { ("upload", mode.Upload), ("download", mode.Download) })
        {
            Console.WriteLine($"  {mode.Mode + " " + way,-20}: {r.Size / 1048576.0,6:F1} MiB @ {r.BytesPerSecond / 1048576,8:F1} MiB/s ({r.Seconds:F3} s), SHA-256 {(r.Sha256Ok == true ? "ok" : "FAILED")}");
            ok &= r.Status == BinaryWayStatus.Ok;
        }
    }

    Console.WriteLine("\n2. BenchmarkContext.MeasureBandwidth in application code:");
    using var bench = new BenchmarkContext("app-uploads", "rpyc", "threaded", sampleSystemMetrics: true);
    using (RpycConnection conn = RpycConnection.Connect(server.Target.Host, server.Target.Port))
    {
        byte[] data = BinaryContent.Create(0, 1 << 20);
        string expected = BinaryContent.Sha256Hex(data.Length);
        for (int i = 0; i < 5; i++)
        {
            using (bench.MeasureBandwidth(data.Length))
            {
                var reply = (PyTuple)conn.RootNetref.CallMethod("binary_upload", data)!;
                bench.RecordRequest(success: (string?)reply[0] == expected);
            }
        }
    }
    ContextStatistics stats = bench.ComputeStatistics();
    Console.WriteLine($"  uploads: {stats.Bandwidth!.Transfers} ok, {stats.Bandwidth.Failures} failed, {stats.Bandwidth.BytesPerSecond / 1048576:F1} MiB/s overall, p50 per transfer {stats.Bandwidth.PerTransfer.P50 / 1048576:F1} MiB/s");
    ok &= stats.Bandwidth.Failures == 0 && stats.Bandwidth.Transfers == 5;
    return ok ? 0 : 1;
}

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
