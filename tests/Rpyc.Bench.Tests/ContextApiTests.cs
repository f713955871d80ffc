using System.Globalization;
using System.Text.Json;

namespace Rpyc.Bench.Tests;

// BenchmarkContext's bytes, bandwidth, custom metrics, system metrics and JSON, against a real
// .NET RPyC server on 127.0.0.1.
[Collection(ServerProcesses.Name)]
public class ContextApiTests(ITestOutputHelper output)
{
    [Fact]
    public void MeasureRequest_WithBytes_CountsTheBytesOfSuccessfulRequestsOnly()
    {
        using ServerHost server = ServerHost.Start(TargetCatalog.RpycThreaded);
        using BenchClient client = server.Target.Connect();
        byte[] data = Payload.Create(1000);
        using var bench = new BenchmarkContext("echo", "rpyc", "threaded");
        for (int i = 0; i < 10; i++)
        {
            using (bench.MeasureRequest(bytesSent: data.Length, bytesReceived: data.Length))
            {
                client.Echo(data);
            }
        }
        for (int i = 0; i < 2; i++)
        {
            using (bench.MeasureRequest(bytesSent: 7, bytesReceived: 9))
            {
                bench.RecordRequest(success: false);
            }
        }
        using (bench.MeasureRequest())
        {
            client.Ping();
        }

        ContextStatistics stats = bench.ComputeStatistics();
        Assert.Equal(13, stats.Requests);
        Assert.Equal(2, stats.Failures);
        Assert.Equal(11, stats.Latency.Count);
        Assert.Equal(10_000, stats.BytesSent);
        Assert.Equal(10_000, stats.BytesReceived);
        Assert.Equal(10_000 / stats.Seconds, stats.BytesSentPerSecond, 6);
        Assert.Null(stats.Bandwidth);
        Assert.Throws<ArgumentOutOfRangeException>(() => bench.MeasureRequest(-1, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => bench.MeasureRequest(0, -1));
    }

    [Fact]
    public void MeasureBandwidth_KnownSizes_GivesEachTransfersRateAndTheTotal()
    {
        using ServerHost server = ServerHost.Start(TargetCatalog.RpycThreaded);
        using BenchClient client = server.Target.Connect();
        using var bench = new BenchmarkContext("transfers", "rpyc", keepSamples: true);
        byte[] upload = Payload.Create(100_000);
        for (int i = 0; i < 5; i++)
        {
            using (bench.MeasureBandwidth(upload.Length))
            {
                client.Upload(upload);
            }
            using (bench.MeasureBandwidth(50_000))
            {
                client.Download(50_000);
            }
        }
        using (bench.MeasureBandwidth(1_000_000))
        {
            bench.RecordRequest(success: false);
        }

        ContextMeasurements raw = bench.GetResults();
        ContextTransfers transfers = Assert.IsType<ContextTransfers>(raw.Transfers);
        IReadOnlyList<long> ticks = transfers.Durations.SampleTicks!;
        Assert.Equal(10, ticks.Count);
        for (int i = 0; i < ticks.Count; i++)
        {
            long bytes = i % 2 == 0 ? 100_000 : 50_000;
            Assert.Equal(bytes / Clock.ToSeconds(ticks[i]), transfers.BytesPerSecond[i], 6);
        }

        ContextBandwidth bw = Assert.IsType<ContextBandwidth>(bench.ComputeStatistics().Bandwidth);
        output.WriteLine($"{bw.Transfers} transfers, {bw.Bytes} B in {bw.Seconds:F6} s: {bw.BytesPerSecond / 1e6:F1} MB/s");
        Assert.Equal(10, bw.Transfers);
        Assert.Equal(1, bw.Failures);
        Assert.Equal(750_000, bw.Bytes);
        Assert.Equal(ticks.Sum(Clock.ToSeconds), bw.Seconds, 9);
        Assert.Equal(750_000 / bw.Seconds, bw.BytesPerSecond, 6);
        Assert.Equal(10, bw.PerTransfer.Count);
        Assert.Equal(10, bw.TransferTime.Count);
        // The total rate is the transfers' rates weighted by their durations: between the extremes.
        Assert.InRange(bw.BytesPerSecond, bw.PerTransfer.Min, bw.PerTransfer.Max);
        Assert.Equal(0, raw.Requests);
        Assert.Throws<ArgumentOutOfRangeException>(() => bench.MeasureBandwidth(-1));
    }

    [Fact]
    public void CountersAndTimings_KnownValues_AreInTheStatistics()
    {
        using var bench = new BenchmarkContext("custom", "rpyc");
        Assert.Equal(1, bench.Increment("hits"));
        Assert.Equal(6, bench.Increment("hits", 5));
        Assert.Equal(-2, bench.Increment("refunds", -2));
        bench.RecordTiming("parse", TimeSpan.FromMilliseconds(1));
        bench.RecordTiming("parse", TimeSpan.FromMilliseconds(2));
        bench.RecordTiming("parse", TimeSpan.FromMilliseconds(3));
        using (bench.MeasureTiming("section"))
        {
            Thread.SpinWait(1000);
        }

        ContextStatistics stats = bench.ComputeStatistics();
        Assert.Equal(new Dictionary<string, long> { ["hits"] = 6, ["refunds"] = -2 }, stats.Counters);
        Statistics parse = stats.Timings["parse"];
        Assert.Equal(3, parse.Count);
        Assert.Equal(0.002, parse.Mean, 6);
        Assert.Equal(0.001, parse.Min, 6);
        Assert.Equal(0.003, parse.Max, 6);
        Assert.Equal(1, stats.Timings["section"].Count);
        Assert.True(stats.Timings["section"].Min > 0);
        Assert.Equal(0, stats.Requests);

        Assert.Throws<ArgumentException>(() => bench.Increment(""));
        Assert.Throws<ArgumentNullException>(() => bench.MeasureTiming(null!));
        Assert.Throws<ArgumentOutOfRangeException>(() => bench.RecordTiming("parse", TimeSpan.FromTicks(-1)));
    }

    [Fact]
    public void ManyThreads_CountsAndBytes_AddUpExactly()
    {
        using var bench = new BenchmarkContext("threads", "rpyc");
        var threads = Enumerable.Range(0, 4).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < 500; i++)
            {
                bench.Increment("n");
                using (bench.MeasureRequest(10, 20))
                {
                }
                using (bench.MeasureBandwidth(100))
                {
                }
                bench.RecordTiming("t", TimeSpan.FromTicks(10));
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());

        ContextStatistics stats = bench.ComputeStatistics();
        Assert.Equal(2000, stats.Counters["n"]);
        Assert.Equal(2000, stats.Requests);
        Assert.Equal(20_000, stats.BytesSent);
        Assert.Equal(40_000, stats.BytesReceived);
        Assert.Equal(200_000, stats.Bandwidth!.Bytes);
        Assert.Equal(2000, stats.Bandwidth.PerTransfer.Count);
        Assert.Equal(2000, stats.Timings["t"].Count);
    }

    [Fact]
    public void SampleSystemMetrics_BusyLoop_ReportsCpuSecondsAndMemory()
    {
        var bench = new BenchmarkContext("busy", "rpyc", sampleSystemMetrics: true);
        Burn(0.3);
        ResourceUsage running = Assert.IsType<ResourceUsage>(bench.ComputeStatistics().SystemMetrics);
        Burn(0.2);
        bench.Dispose();
        ResourceUsage done = Assert.IsType<ResourceUsage>(bench.ComputeStatistics().SystemMetrics);
        output.WriteLine($"running: {running.CpuSeconds:F2} s CPU; done: {done.CpuSeconds:F2} s CPU, {done.CpuPercentMean:F0} % mean, {done.CpuPercentMax:F0} % max, RSS peak {done.RssPeakBytes / 1048576.0:F0} MiB, {done.Samples} samples");

        Assert.True(bench.SamplesSystemMetrics);
        Assert.Equal(Environment.ProcessId, done.ProcessId);
        Assert.True(running.CpuSeconds >= 0.2, $"{running.CpuSeconds} CPU seconds after a 0.3 s busy loop");
        Assert.True(done.CpuSeconds >= running.CpuSeconds + 0.1, $"{done.CpuSeconds} CPU seconds after a further 0.2 s");
        Assert.True(done.RssPeakBytes > 0);
        Assert.InRange(done.RssMeanBytes, 1, done.RssPeakBytes);
        Assert.True(done.Samples >= 2);
        Assert.True(done.CpuPercentMax > 0);
        Assert.Equal(done.CpuSeconds / done.WallSeconds * 100, done.CpuPercentMean, 6);
        // Disposed: the sampler stopped, so the figures no longer move.
        Burn(0.05);
        Assert.Equal(done.CpuSeconds, bench.ComputeStatistics().SystemMetrics!.CpuSeconds);
    }

    [Fact]
    public void RecordSystemMetrics_AfterBusyLoop_ReportsCpuSecondsAndMemory()
    {
        using var bench = new BenchmarkContext("manual", "rpyc");
        Assert.Null(bench.ComputeStatistics().SystemMetrics);
        Burn(0.2);
        bench.RecordSystemMetrics();
        Burn(0.1);
        bench.RecordSystemMetrics();

        ResourceUsage usage = Assert.IsType<ResourceUsage>(bench.ComputeStatistics().SystemMetrics);
        Assert.False(bench.SamplesSystemMetrics);
        Assert.Equal(2, usage.Samples);
        Assert.True(usage.CpuSeconds >= 0.25, $"{usage.CpuSeconds} CPU seconds after 0.3 s of busy loops");
        Assert.True(usage.RssPeakBytes > 0);
        Assert.True(usage.CpuPercentMax > 0);
    }

    [Fact]
    public void Merge_Windows_AddsTimesAndWeighsMeans()
    {
        ResourceUsage a = new() { ProcessId = 1, CpuSeconds = 1, CpuPercentMean = 50, CpuPercentMax = 90, RssPeakBytes = 100, RssMeanBytes = 80, Samples = 3, WallSeconds = 2 };
        ResourceUsage b = new() { ProcessId = 1, CpuSeconds = 3, CpuPercentMean = 150, CpuPercentMax = 180, RssPeakBytes = 60, RssMeanBytes = 40, Samples = 1, WallSeconds = 2 };
        ResourceUsage m = BenchmarkContext.Merge([a, b])!;
        Assert.Equal(4, m.CpuSeconds);
        Assert.Equal(4, m.WallSeconds);
        Assert.Equal(100, m.CpuPercentMean);
        Assert.Equal(180, m.CpuPercentMax);
        Assert.Equal(100, m.RssPeakBytes);
        Assert.Equal(70, m.RssMeanBytes);
        Assert.Equal(4, m.Samples);
        Assert.Null(BenchmarkContext.Merge([]));
    }

    [Theory]
    [InlineData("")]
    [InlineData("de-DE")]
    public void WriteJson_EverythingMeasured_ParsesBackToTheStatistics(string culture)
    {
        CultureInfo saved = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(culture);
        string path = Path.Combine(Path.GetTempPath(), $"rpycbench-context-{Guid.NewGuid():N}.json");
        try
        {
            using ServerHost server = ServerHost.Start(TargetCatalog.RpycThreaded);
            using var bench = new BenchmarkContext("json \"check\"", "rpyc", "threaded", sampleSystemMetrics: true);
            BenchClient client;
            using (bench.MeasureConnectionTime())
            {
                client = server.Target.Connect();
                client.Ping();
            }
            using (client)
            {
                byte[] data = Payload.Create(4096);
                for (int i = 0; i < 20; i++)
                {
                    using (bench.MeasureRequest(data.Length, data.Length))
                    {
                        client.Echo(data);
                    }
                }
                using (bench.MeasureRequest())
                {
                    bench.RecordRequest(false);
                }
                for (int i = 0; i < 3; i++)
                {
                    using (bench.MeasureBandwidth(200_000))
                    {
                        client.Download(200_000);
                    }
                }
            }
            bench.Increment("retries", 3);
            bench.RecordTiming("validate", TimeSpan.FromMilliseconds(1.5));
            Burn(0.15);
            bench.Dispose();
            bench.WriteJson(path);
            ContextStatistics stats = bench.ComputeStatistics();
            string text = File.ReadAllText(path);
            output.WriteLine(text);

            using JsonDocument doc = JsonDocument.Parse(text);
            JsonElement root = doc.RootElement;
            Assert.Equal("json \"check\"", root.GetProperty("name").GetString());
            Assert.Equal("threaded", root.GetProperty("server_mode").GetString());
            Assert.Equal(stats.Seconds, root.GetProperty("duration").GetDouble());
            JsonElement requests = root.GetProperty("requests");
            Assert.Equal(21, requests.GetProperty("total").GetInt64());
            Assert.Equal(20, requests.GetProperty("successful").GetInt64());
            Assert.Equal(1, requests.GetProperty("failed").GetInt64());
            Assert.Equal(20.0 / 21, requests.GetProperty("success_rate").GetDouble(), 12);
            Assert.Equal(20 * 4096, requests.GetProperty("bytes_sent").GetInt64());
            Assert.Equal(20 * 4096, requests.GetProperty("bytes_received").GetInt64());
            Assert.Equal(20, root.GetProperty("latency").GetProperty("count").GetInt64());
            Assert.Equal(stats.Latency.P99, root.GetProperty("latency").GetProperty("p99").GetDouble());
            Assert.Equal(1, root.GetProperty("connection_time").GetProperty("count").GetInt64());
            JsonElement bw = root.GetProperty("bandwidth");
            Assert.Equal(3, bw.GetProperty("transfers").GetInt64());
            Assert.Equal(600_000, bw.GetProperty("bytes").GetInt64());
            Assert.Equal(stats.Bandwidth!.BytesPerSecond, bw.GetProperty("bytes_per_second").GetDouble());
            Assert.Equal(600_000 / bw.GetProperty("seconds").GetDouble(), bw.GetProperty("bytes_per_second").GetDouble(), 6);
            Assert.Equal(3, bw.GetProperty("per_transfer").GetProperty("count").GetInt64());
            Assert.Equal(stats.Bandwidth.PerTransfer.Mean, bw.GetProperty("per_transfer").GetProperty("mean").GetDouble());
            Assert.Equal(3, root.GetProperty("counters").GetProperty("retries").GetInt64());
            JsonElement validate = root.GetProperty("timings").GetProperty("validate");
            Assert.Equal(1, validate.GetProperty("count").GetInt64());
            Assert.Equal(0.0015, validate.GetProperty("mean").GetDouble(), 9);
            JsonElement cpu = root.GetProperty("cpu_usage");
            Assert.Equal(Environment.ProcessId, cpu.GetProperty("pid").GetInt32());
            Assert.True(cpu.GetProperty("cpu_seconds").GetDouble() > 0.1);
            Assert.Equal(stats.SystemMetrics!.CpuPercentMean, cpu.GetProperty("mean").GetDouble());
            Assert.True(root.GetProperty("memory_usage").GetProperty("peak").GetInt64() > 0);
            Assert.Equal("seconds", root.GetProperty("units").GetProperty("time").GetString());
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
            File.Delete(path);
        }
    }

    [Fact]
    public void ToJson_NothingMeasured_WritesNullForWhatDoesNotExist()
    {
        using var bench = new BenchmarkContext("empty", "http");
        using JsonDocument doc = JsonDocument.Parse(bench.ToJson());
        JsonElement root = doc.RootElement;
        Assert.Equal(JsonValueKind.Null, root.GetProperty("server_mode").ValueKind);
        Assert.Equal(0, root.GetProperty("requests").GetProperty("total").GetInt64());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("requests").GetProperty("success_rate").ValueKind);
        Assert.Equal(0, root.GetProperty("latency").GetProperty("count").GetInt64());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("latency").GetProperty("mean").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("bandwidth").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("cpu_usage").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("memory_usage").ValueKind);
        Assert.Empty(root.GetProperty("counters").EnumerateObject());
        Assert.Empty(root.GetProperty("timings").EnumerateObject());
        Assert.Throws<ArgumentException>(() => bench.WriteJson(""));
    }

    // Burns this thread's CPU until the process used `seconds` more CPU time (bounded by wall time).
    private static void Burn(double seconds)
    {
        double target = Environment.CpuUsage.TotalTime.TotalSeconds + seconds;
        long deadline = Clock.Now + Clock.FromSeconds(30);
        double x = 1;
        while (Environment.CpuUsage.TotalTime.TotalSeconds < target && Clock.Now < deadline)
        {
            for (int i = 0; i < 100_000; i++)
            {
                x = Math.Sqrt(x + i);
            }
        }
        GC.KeepAlive(x);
    }
}
