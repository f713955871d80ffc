using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;

namespace Rpyc.Bench.Tests;

// Binary transfers (--test-binary-transfer) against every real server, Python peers included:
// whole, chunked and (RPyC) iterator transfers both ways, the receiver's SHA-256 checked.
[Collection(ServerProcesses.Name)]
public class BinaryTransferTests(ITestOutputHelper output)
{
    // An odd size: the last chunk is short and crosses the content's period (1,000,003 bytes).
    private const long OddSize = 1_000_003 + 70_001;

    [Fact]
    public void Content_ChunksAtTheirOffsets_HashLikeThePythonPeer()
    {
        // SHA-256 of bench_payload.binary_chunk(0, 3_000_000), computed by /usr/bin/python3.
        Assert.Equal("ede97e8d72a314e05ce682cc70480257b21d1d57d2282e9c047f2ce7e9e2af9e", BinaryContent.Sha256Hex(3_000_000));
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (ReadOnlyMemory<byte> chunk in BinaryContent.Chunks(3_000_000, 65_536))
        {
            hash.AppendData(chunk.Span);
        }
        Assert.Equal(BinaryContent.Sha256(3_000_000), hash.GetHashAndReset());
        // The period is not a power of two, so a chunk placed at the wrong offset hashes differently.
        Assert.NotEqual(BinaryContent.Create(65_536, 100), BinaryContent.Create(0, 100));
        Assert.Equal(BinaryContent.Create(0, 100), BinaryContent.Create(BinaryContent.Period, 100));
    }

    [Fact]
    public void Content_PythonPeer_GeneratesTheSameBytesAtAnyOffset()
    {
        string scripts = Path.Combine(AppContext.BaseDirectory, "python");
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add($"import sys, hashlib; sys.path.insert(0, {JsonSerializer.Serialize(scripts)}); import bench_payload as b; print(hashlib.sha256(b.binary_chunk(999_000, 2_500_000)).hexdigest())");
        using Process python = Process.Start(start)!;
        string stdout = python.StandardOutput.ReadToEnd().Trim();
        Assert.True(python.WaitForExit(60_000), "python did not finish");
        Assert.True(python.ExitCode == 0, python.StandardError.ReadToEnd() + " (install the peers: bash scripts/install-peers.sh)");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(BinaryContent.Create(999_000, 2_500_000))), stdout);
    }

    [Theory]
    [InlineData("1M,100M,1G", new long[] { 1L << 20, 100L << 20, 1L << 30 })]
    [InlineData("64K, 1000 ,2GiB,64K", new long[] { 64 << 10, 1000, 2L << 30 })]
    public void Sizes_Parse_BytesOfEachSize(string list, long[] expected)
    {
        Assert.True(BinarySizes.TryParseList(list, out List<long> sizes, out string? error), error);
        Assert.Equal(expected, sizes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("0")]
    [InlineData("1T")]
    [InlineData("17G")]
    [InlineData("-1M")]
    [InlineData("1.5M")]
    public void Sizes_Bad_Refused(string list)
    {
        Assert.False(BinarySizes.TryParseList(list, out _, out string? error));
        Assert.False(string.IsNullOrEmpty(error));
    }

    [Theory]
    [InlineData(TargetCatalog.RpycThreaded)]
    [InlineData(TargetCatalog.RpycForking)]
    [InlineData(TargetCatalog.PyRpycThreaded)]
    [InlineData(TargetCatalog.PyRpycForking)]
    [InlineData(TargetCatalog.HttpThreaded)]
    [InlineData(TargetCatalog.PyFlaskThreaded)]
    [InlineData(TargetCatalog.TcpRaw)]
    public void Transfer_EveryModeBothWays_ReceiverHashMatches(string target)
    {
        using ServerHost host = ServerHost.Start(target);
        TargetInfo info = TargetCatalog.Get(target);
        Assert.True(BinaryTransferBenchmark.Applies(info));
        var options = new BinaryTransferOptions { Sizes = [OddSize, 4096], ChunkSize = 256 * 1024, Iterations = 2 };
        BinaryTransferResult result = new BinaryTransferBenchmark(info, host.Target.Host, host.Target.Port, options, host.ProcessId).Execute();
        string[] modes = info.Protocol == "rpyc" ? ["whole", "chunked", "generator"] : ["whole", "chunked"];
        Assert.Equal([OddSize, 4096], result.Sizes.Select(s => s.Size));
        foreach (BinarySizeResult size in result.Sizes)
        {
            Assert.Equal(modes, size.Modes.Select(m => m.Mode));
            foreach (BinaryModeResult mode in size.Modes)
            {
                foreach ((string way, BinaryWayResult r) in new[] { ("up", mode.Upload), ("down", mode.Download) })
                {
                    output.WriteLine($"{target} {size.Size} {mode.Mode} {way}: {r.Status} {r.BytesPerSecond / 1048576:F1} MiB/s, RSS {r.ClientRssPeak >> 20} / {r.ServerRssPeak >> 20} MiB {r.Reason}");
                    Assert.True(r.Status == BinaryWayStatus.Ok, $"{size.Size} {mode.Mode} {way}: {r.Reason}");
                    Assert.True(r.Sha256Ok);
                    Assert.Equal(2, r.Iterations);
                    Assert.True(r.Seconds > 0 && r.MinSeconds <= r.Seconds);
                    Assert.Equal(size.Size / r.Seconds, r.BytesPerSecond, 6);
                    Assert.True(r.ClientRssPeak > 0 && r.ServerRssPeak > 0, "peak RSS of both processes");
                }
            }
        }
    }

    [Fact]
    public void Transfer_WholeUploadAboveDotnetServersFrameLimit_RefusedWithReasonAndChunksStillOk()
    {
        using ServerHost host = ServerHost.Start(TargetCatalog.RpycThreaded);
        long size = RpycConnectOptions.DefaultMaxFrameLength + 1;
        var options = new BinaryTransferOptions { Sizes = [size], ChunkSize = 8 << 20, Iterations = 1 };
        BinaryTransferResult result = new BinaryTransferBenchmark(TargetCatalog.Get(TargetCatalog.RpycThreaded), host.Target.Host, host.Target.Port, options, host.ProcessId).Execute();
        BinaryModeResult whole = result.Sizes[0].Modes.Single(m => m.Mode == "whole");
        Assert.Equal(BinaryWayStatus.Refused, whole.Upload.Status);
        Assert.Contains("MaxFrameLength", whole.Upload.Reason, StringComparison.Ordinal);
        Assert.Equal(0, whole.Upload.Iterations);
        // This client raises its own limit: the server may send it a frame that large.
        Assert.True(whole.Download.Status == BinaryWayStatus.Ok, whole.Download.Reason);
        foreach (BinaryModeResult m in result.Sizes[0].Modes.Where(m => m.Mode != "whole"))
        {
            Assert.True(m.Upload.Status == BinaryWayStatus.Ok && m.Download.Status == BinaryWayStatus.Ok, $"{m.Mode}: {m.Upload.Reason} {m.Download.Reason}");
        }
        Assert.Equal(0, result.Failures);
    }

    [Fact]
    public void Transfer_WholeAboveTheSuitesMessageLimit_RefusedWithoutTrying()
    {
        using ServerHost host = ServerHost.Start(TargetCatalog.PyRpycThreaded);
        long size = RpycBinaryClient.MaxWholeBytes + 1;
        using var client = new RpycBinaryClient(host.Target.Host, host.Target.Port, pythonServer: true, TargetCatalog.PyRpycThreaded);
        Assert.Contains("whole-message limit", client.RefuseWhole(size, upload: true), StringComparison.Ordinal);
        Assert.Contains("whole-message limit", client.RefuseWhole(size, upload: false), StringComparison.Ordinal);
        // Python rpyc has no message limit of its own: up to the suite's limit nothing is refused.
        Assert.Null(client.RefuseWhole(RpycBinaryClient.MaxWholeBytes, upload: true));
    }

    [Fact]
    public async Task Cli_TestBinaryTransfer_JsonAndTablesPerTarget()
    {
        string json = Path.Combine(Path.GetTempPath(), $"rpycbench-binary-{Guid.NewGuid():N}.json");
        try
        {
            using Process process = Process.Start(CliTests.Rpycbench(
                "--targets", "rpyc_threaded,tcp_raw", "--num-connections", "3", "--num-requests", "20", "--warmup", "5",
                "--num-concurrent-clients", "2", "--requests-per-client", "5", "--payload-sizes", "1K", "--transfers-per-size", "2",
                "--no-wrk", "--min-phase-seconds", "0", "--scenarios", "none",
                "--test-binary-transfer", "--binary-file-sizes", "100K,1M", "--binary-chunk-size", "32K", "--binary-iterations", "2", "-o", json))!;
            process.StandardInput.Close();
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            if (!process.WaitForExit(300_000))
            {
                process.Kill(entireProcessTree: true);
                Assert.Fail("rpycbench did not finish in 300 s");
            }
            output.WriteLine(stdout);
            output.WriteLine(await stderr);
            Assert.Equal(0, process.ExitCode);
            Assert.Contains("Binary transfers (MiB/s): 32 KiB chunks", stdout, StringComparison.Ordinal);
            Assert.Contains("Binary transfers: peak RSS client / server (MiB)", stdout, StringComparison.Ordinal);
            Assert.Contains("1 MiB generator down", stdout, StringComparison.Ordinal);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
            JsonElement parameters = doc.RootElement.GetProperty("metadata").GetProperty("parameters");
            Assert.Equal(32 * 1024, parameters.GetProperty("binary_chunk_size").GetInt32());
            foreach ((string target, string[] modes) in new[] { ("rpyc_threaded", new[] { "whole", "chunked", "generator" }), ("tcp_raw", new[] { "whole", "chunked" }) })
            {
                JsonElement b = doc.RootElement.GetProperty(target).GetProperty("binary_transfer");
                Assert.Equal(32 * 1024, b.GetProperty("chunk_size").GetInt32());
                Assert.Equal(2, b.GetProperty("iterations").GetInt32());
                Assert.Equal(["102400", "1048576"], b.GetProperty("sizes").EnumerateObject().Select(p => p.Name));
                foreach (JsonProperty size in b.GetProperty("sizes").EnumerateObject())
                {
                    Assert.Equal(modes, size.Value.EnumerateObject().Select(p => p.Name));
                    foreach (JsonProperty mode in size.Value.EnumerateObject())
                    {
                        foreach (string way in new[] { "upload", "download" })
                        {
                            JsonElement w = mode.Value.GetProperty(way);
                            Assert.Equal("ok", w.GetProperty("status").GetString());
                            Assert.True(w.GetProperty("sha256_ok").GetBoolean());
                            Assert.Equal(2, w.GetProperty("iterations").GetInt32());
                            double seconds = w.GetProperty("seconds").GetDouble();
                            Assert.Equal(long.Parse(size.Name, System.Globalization.CultureInfo.InvariantCulture) / seconds, w.GetProperty("bytes_per_second").GetDouble(), 3);
                            Assert.True(w.GetProperty("client_rss_peak").GetDouble() > 0);
                            Assert.True(w.GetProperty("server_rss_peak").GetDouble() > 0);
                        }
                    }
                }
            }
        }
        finally
        {
            File.Delete(json);
        }
    }
}
