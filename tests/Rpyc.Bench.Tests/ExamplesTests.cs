using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Rpyc.Bench.Tests;

// The examples/ programs, built with this test project (project references) and run with --quick.
[Collection(ServerProcesses.Name)]
public class ExamplesTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("AutonomousRun", "JSON report:")]
    [InlineData("ContextManagerBasic", "success rate 100.0")]
    [InlineData("AppIntegration", "overhead")]
    [InlineData("CustomBenchmark", "tcp_raw")]
    public async Task Example_Quick_RunsAndSucceeds(string example, string expected)
    {
        string stdout = await RunAsync(example, "--quick");
        Assert.Contains(expected, stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CpuVsIoBound_Quick_MeasuresBothWorkloadsOnEveryServer()
    {
        string stdout = await RunAsync("CpuVsIoBound", "--quick", "--clients", "4", "--requests", "3", "--sleep", "0.02");
        // target  workload  req/s  mean ms  p50 ms  p99 ms  server CPU %  server RSS MiB  failed
        var rows = Regex.Matches(stdout, @"^(\S+)\s+(cpu|io)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+|-)\s+(\d+)\s+(\d+)\s*$", RegexOptions.Multiline);
        Assert.Equal(8, rows.Count);
        string[] targets = [TargetCatalog.RpycThreaded, TargetCatalog.RpycForking, TargetCatalog.PyRpycThreaded, TargetCatalog.PyRpycForking];
        Assert.Equal(targets.SelectMany(t => new[] { $"{t} cpu", $"{t} io" }), rows.Select(m => $"{m.Groups[1].Value} {m.Groups[2].Value}"));
        foreach (Match row in rows)
        {
            Assert.True(double.Parse(row.Groups[3].Value, CultureInfo.InvariantCulture) > 0, row.Value);
            Assert.True(long.Parse(row.Groups[8].Value, CultureInfo.InvariantCulture) > 0, $"server RSS: {row.Value}");
            Assert.Equal("0", row.Groups[9].Value);
            if (row.Groups[2].Value == "io")
            {
                // Every request waited 20 ms on the server: no mean can be below that.
                Assert.True(double.Parse(row.Groups[4].Value, CultureInfo.InvariantCulture) >= 20, $"io mean below the server's sleep: {row.Value}");
            }
        }
        Assert.Contains("cpu-bound: py_rpyc_forking / py_rpyc_threaded throughput = ", stdout, StringComparison.Ordinal);
        Assert.Contains("io-bound: rpyc_forking / rpyc_threaded throughput = ", stdout, StringComparison.Ordinal);
        Assert.Contains("failed requests: 0", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HighConcurrency_SmallNumbers_EveryClientsRequestsSucceed()
    {
        string stdout = await RunAsync("HighConcurrency", "--clients", "12", "--requests", "5");
        Assert.Equal(3, Regex.Matches(stdout, @"^  total requests   60$", RegexOptions.Multiline).Count);
        Assert.Equal(3, Regex.Matches(stdout, @"^  success rate     100\.00 %$", RegexOptions.Multiline).Count);
        Assert.Equal(3, Regex.Matches(stdout, @"^  per client       fastest #\d+ [\d.]+ s, slowest #\d+ [\d.]+ s", RegexOptions.Multiline).Count);
        Assert.Matches(@"RPyC under 12 clients: (threaded|forking) has the lower mean latency, by [\d.]+x", stdout);
        Assert.Contains("3 servers, 180 requests, 0 failed", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BaselineComparison_Quick_WritesTheJsonItReadsBack()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rpycbench-baseline-{Guid.NewGuid():N}.json");
        try
        {
            string stdout = await RunAsync("BaselineComparison", "--quick", "--output", path);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
            foreach (string target in new[] { TargetCatalog.RpycThreaded, TargetCatalog.HttpThreaded, TargetCatalog.TcpRaw })
            {
                JsonElement t = doc.RootElement.GetProperty(target);
                Assert.Equal("ok", t.GetProperty("status").GetString());
                Assert.Equal(100, t.GetProperty("latency").GetProperty("count").GetInt64());
                Assert.Equal(20, t.GetProperty("connection_time").GetProperty("count").GetInt64());
            }
            // The table read back from the JSON has a figure for every target.
            Assert.Matches(@"latency mean \(us\)\s+[\d.]+\s+[\d.]+\s+[\d.]+", stdout);
            Assert.Matches(@"download 64 KiB \(MB/s\)\s+[\d.]+\s+[\d.]+\s+[\d.]+", stdout);
            Assert.Matches(@"RPyC's mean latency is [\d.]+x HTTP's", stdout);
            Assert.Contains($"Results saved to {path}", stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task QuickTest_Quick_ReportsEveryTargetOk()
    {
        string stdout = await RunAsync("QuickTest", "--quick");
        Assert.Matches(@"(?m)^rpyc_threaded\s+ok$", stdout);
        Assert.Matches(@"(?m)^http_threaded\s+ok$", stdout);
        Assert.Contains("The benchmark suite works on this machine.", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BinaryTransfer_Quick_EveryTargetEveryModeVerified()
    {
        string path = Path.Combine(Path.GetTempPath(), $"rpycbench-binary-example-{Guid.NewGuid():N}.json");
        try
        {
            string stdout = await RunAsync("BinaryTransfer", "--quick", "--output", path);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(path));
            foreach ((string target, int modes) in new[] { (TargetCatalog.RpycThreaded, 3), (TargetCatalog.HttpThreaded, 2), (TargetCatalog.TcpRaw, 2) })
            {
                JsonElement sizes = doc.RootElement.GetProperty(target).GetProperty("binary_transfer").GetProperty("sizes");
                Assert.Equal(["1048576", "4194304"], sizes.EnumerateObject().Select(p => p.Name));
                foreach (JsonProperty size in sizes.EnumerateObject())
                {
                    Assert.Equal(modes, size.Value.EnumerateObject().Count());
                    Assert.All(size.Value.EnumerateObject().SelectMany(m => new[] { m.Value.GetProperty("upload"), m.Value.GetProperty("download") }),
                        w => Assert.True(w.GetProperty("sha256_ok").GetBoolean() && w.GetProperty("status").GetString() == "ok"));
                }
                Assert.Matches($@"(?m)^{target}\s+4 MiB\s+chunked\s+[\d.]+\s+[\d.]+\s+ok/ok$", stdout);
            }
            Assert.Contains($"Results saved to {path}", stdout, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task BinaryTransfer_Custom_BenchmarkAndContextBandwidth()
    {
        string stdout = await RunAsync("BinaryTransfer", "--custom", "--chunk-size", "64K");
        Assert.Equal(6, Regex.Matches(stdout, @"^  (whole|chunked|generator) (upload|download)\s+:\s+5\.0 MiB @\s+[\d.]+ MiB/s \([\d.]+ s\), SHA-256 ok$", RegexOptions.Multiline).Count);
        Assert.Matches(@"uploads: 5 ok, 0 failed, [\d.]+ MiB/s overall", stdout);
    }

    [Fact]
    public async Task AutoBench_Quick_UnmodifiedProgramTimedAndProfiled()
    {
        string stdout = await RunAsync("AutoBench", "--quick");
        Assert.Contains("  |   Completed 5 pings", stdout, StringComparison.Ordinal);
        Assert.Equal(2, Regex.Matches(stdout, @"^run \d: +[\d.]+ ms wall, +\d+ ms CPU, peak RSS [\d.]+ MiB$", RegexOptions.Multiline).Count);
        Assert.Matches(@"(?m)^  runs             2$", stdout);
        // 5 pings, get_list, __iter__ and 21 __next__, three steps of service.child.method, download.
        Match trips = Regex.Match(stdout, @"RPyC round trips (\d+) \(counted by the profiler\)");
        Assert.True(trips.Success, "no round-trip count");
        Assert.True(int.Parse(trips.Groups[1].Value, CultureInfo.InvariantCulture) >= 32, trips.Value);
        Assert.Contains("RPYC TELEMETRY REPORT", stdout, StringComparison.Ordinal);
    }

    // Runs a built example (exit code 0 asserted) and returns its standard output.
    private async Task<string> RunAsync(string example, params string[] args)
    {
        // bin/<Configuration>/net10.0 of this project maps onto the example's own output folder.
        string testBin = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        string configuration = Path.GetFileName(Path.GetDirectoryName(testBin)!);
        string repo = testBin;
        while (!File.Exists(Path.Combine(repo, "Rpyc.slnx")))
        {
            repo = Path.GetDirectoryName(repo) ?? throw new InvalidOperationException("Rpyc.slnx not found above the test output.");
        }
        string dll = Path.Combine(repo, "examples", example, "bin", configuration, "net10.0", example + ".dll");
        Assert.True(File.Exists(dll), $"{dll} was not built");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(dll);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using Process process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(180_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{example} did not finish in 180 s");
        }
        output.WriteLine(stdout);
        output.WriteLine(await stderr);
        Assert.Equal(0, process.ExitCode);
        return stdout;
    }
}
