using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Rpyc.Bench.Tests;

// Several runs, remote endpoints and bind ports against real servers on 127.0.0.1.
[Collection(ServerProcesses.Name)]
public class RunsSuiteTests(ITestOutputHelper output)
{
    private static SuiteOptions Short(params string[] targets) => new()
    {
        Targets = targets,
        NumConnections = 4,
        NumRequests = 20,
        WarmupRequests = 5,
        WarmupDuration = TimeSpan.Zero,
        NumConcurrentClients = 2,
        RequestsPerClient = 10,
        PayloadSizes = [1024],
        TransfersPerSize = 3,
        MinPhaseDuration = TimeSpan.Zero,
        RunWrk = false,
    };

    [Fact]
    public void RunAll_ThreeRuns_InterleavedRotatingOrder_CombinedWithIntervals()
    {
        var firstPhases = new List<(string Target, int Run)>();
        BenchmarkReport report = BenchmarkSuite.RunAll(Short(TargetCatalog.TcpRaw, TargetCatalog.RpycThreaded) with { Runs = 3 }, new SyncProgress(p =>
        {
            if (p.Phase == "connection")
            {
                firstPhases.Add((p.Target, p.Run));
            }
        }));
        output.WriteLine(TextReporter.Render(report));
        Assert.Equal(
            [("tcp_raw", 0), ("rpyc_threaded", 0), ("rpyc_threaded", 1), ("tcp_raw", 1), ("tcp_raw", 2), ("rpyc_threaded", 2)],
            firstPhases);
        Assert.Equal([TargetCatalog.TcpRaw, TargetCatalog.RpycThreaded], report.Targets.Select(t => t.Name));
        foreach (TargetReport t in report.Targets)
        {
            Assert.True(t.Status == TargetStatus.Ok, t.Error);
            Assert.Equal(3, t.RunCount);
            // Each run makes its share of the counts: ceil(20 / 3) = 7 pings.
            Assert.Equal(21, t.Latency!.Successes);
            Assert.Equal(3, t.Latency.Latency.Runs!.Count);
            Assert.All(t.Latency.Latency.Runs, r => Assert.Equal(7, r.Count));
            Assert.True(t.Latency.Latency.Ci95!["p50"].Low <= t.Latency.Latency.Ci95["p50"].High);
            Assert.Equal(3, t.Bandwidth!.Download[0].Runs!.Count);
            Assert.NotNull(t.Bandwidth.Download[0].BytesPerSecondCi95);
            Assert.NotNull(t.Concurrent!.ThroughputCi95);
            // One server for all three runs: every run measured the same endpoint.
            Assert.Single(t.Runs!.Select(r => r.Endpoint).Distinct());
        }
        // The target's ping is paired with the floor's in every run: three connections a run, each
        // with at least 2 blocks of 100 on either side (no minimum time here); the floor has none.
        Assert.Null(report.Targets[0].Latency!.Floor);
        PairedLatencyResult paired = report.Targets[1].Latency!.Floor!;
        Assert.Equal(3, paired.Runs!.Count);
        Assert.All(paired.Runs, r =>
        {
            Assert.Equal(0, r.Failures);
            Assert.Equal(6, r.Blocks);
            Assert.Equal(600, r.Subject.Count);
            Assert.Equal(600, r.Reference.Count);
            Assert.Equal(r.Subject.P50 / r.Reference.P50, r.Ratio, 9);
        });
        Assert.NotNull(paired.RatioCi95);
        // Its concurrent clients (two here) beside the floor's in every run: at least three pairs of
        // slices a run; the floor has none.
        Assert.Null(report.Targets[0].Concurrent!.Floor);
        PairedThroughputResult rate = report.Targets[1].Concurrent!.Floor!;
        Assert.Equal(3, rate.Runs!.Count);
        Assert.NotNull(rate.RatioCi95);
        Assert.All(rate.Runs, r =>
        {
            Assert.Equal(0, r.Failures);
            Assert.Equal(2, r.Clients);
            Assert.True(r.Slices >= 3, $"{r.Slices} slices");
            Assert.True(r.Seconds >= 0.6, $"{r.Seconds} s");
            Assert.Equal(r.Subject / r.Reference, r.Ratio, 9);
        });
        using JsonDocument json = JsonDocument.Parse(JsonReporter.Render(report));
        Assert.Equal("paired", json.RootElement.GetProperty("rpyc_threaded").GetProperty("vs_floor").GetProperty("ping_p50").GetProperty("method").GetString());
        Assert.Equal("paired", json.RootElement.GetProperty("rpyc_threaded").GetProperty("vs_floor").GetProperty("concurrent_throughput").GetProperty("method").GetString());
        Assert.Equal(3, json.RootElement.GetProperty("metadata").GetProperty("parameters").GetProperty("runs").GetInt32());
        Assert.Equal(3, json.RootElement.GetProperty("rpyc_threaded").GetProperty("latency").GetProperty("runs").GetArrayLength());
    }

    [Fact]
    public void RunAll_FloorMeasuredAfterTheTarget_StartedForThePairing_NoiseLeavesItsServerOut()
    {
        BenchmarkReport report = BenchmarkSuite.RunAll(Short(TargetCatalog.RpycThreaded, TargetCatalog.TcpRaw));
        Assert.All(report.Targets, t => Assert.True(t.Status == TargetStatus.Ok, t.Error));
        PairedLatencyResult paired = report.Targets[0].Latency!.Floor!;
        Assert.Equal(600, paired.Reference.Count);
        Assert.Null(paired.Runs);
        // The floor's server ran for the pairing and was then measured on its own, as ever.
        Assert.True(report.Targets[1].Latency!.Successes >= 20);
    }

    [Fact]
    public void RunAll_MinPhaseDuration_PhasesLastAtLeastThatLong()
    {
        BenchmarkReport report = BenchmarkSuite.RunAll(Short(TargetCatalog.TcpRaw) with { MinPhaseDuration = TimeSpan.FromSeconds(0.3) });
        TargetReport t = Assert.Single(report.Targets);
        Assert.True(t.Status == TargetStatus.Ok, t.Error);
        Assert.True(t.Connection!.Seconds >= 0.3, $"connection {t.Connection.Seconds}");
        Assert.True(t.Latency!.Seconds >= 0.3, $"latency {t.Latency.Seconds}");
        Assert.True(t.Latency.Successes > 20, "the minimum time, not the count, ended the latency phase");
        Assert.True(t.Concurrent!.Seconds >= 0.3, $"concurrent {t.Concurrent.Seconds}");
        Assert.True(t.Bandwidth!.Upload[0].Transfers > 3);
    }

    [Fact]
    public void RunAll_RpycHost_OnlyRpycThreadedPointedThere_MarkedRemote()
    {
        using ServerHost remote = ServerHost.Start(TargetCatalog.RpycThreaded);
        SuiteOptions options = Short(TargetCatalog.RpycForking, TargetCatalog.TcpRaw) with { RpycHost = "127.0.0.1", RpycPort = remote.Port };
        BenchmarkReport report = BenchmarkSuite.RunAll(options);
        output.WriteLine(TextReporter.Render(report));
        Assert.Equal([TargetCatalog.RpycForking, TargetCatalog.TcpRaw, TargetCatalog.RpycThreaded], report.Targets.Select(t => t.Name));
        Assert.All(report.Targets, t => Assert.True(t.Status == TargetStatus.Ok, $"{t.Name}: {t.Error}"));
        TargetReport threaded = report.Targets.Single(t => t.Name == TargetCatalog.RpycThreaded);
        Assert.True(threaded.Remote);
        Assert.Equal($"127.0.0.1:{remote.Port}", threaded.Endpoint);
        Assert.Null(threaded.ServerResources);
        foreach (TargetReport local in report.Targets.Where(t => t.Name != TargetCatalog.RpycThreaded))
        {
            Assert.False(local.Remote);
            Assert.NotEqual($"127.0.0.1:{remote.Port}", local.Endpoint);
            Assert.NotNull(local.ServerResources);
        }
        using JsonDocument json = JsonDocument.Parse(JsonReporter.Render(report));
        Assert.True(json.RootElement.GetProperty("rpyc_threaded").GetProperty("remote").GetBoolean());
        Assert.False(json.RootElement.GetProperty("rpyc_forking").GetProperty("remote").GetBoolean());
        Assert.Equal($"rpyc_threaded=127.0.0.1:{remote.Port}", json.RootElement.GetProperty("metadata").GetProperty("parameters").GetProperty("endpoints")[0].GetString());
    }

    [Fact]
    public void RunAll_Endpoint_AnyTargetMeasuredThere()
    {
        using ServerHost remote = ServerHost.Start(TargetCatalog.TcpRaw);
        SuiteOptions options = Short(TargetCatalog.TcpRaw) with { Endpoints = [new RemoteEndpoint(TargetCatalog.TcpRaw, "127.0.0.1", remote.Port)] };
        TargetReport t = Assert.Single(BenchmarkSuite.RunAll(options).Targets);
        Assert.True(t.Status == TargetStatus.Ok, t.Error);
        Assert.True(t.Remote);
        Assert.Equal($"127.0.0.1:{remote.Port}", t.Endpoint);
    }

    [Fact]
    public void RunAll_PortsWithoutHost_StartedServersBindThem()
    {
        int rpycPort = FreePorts(2);
        int httpPort = FreePorts(1);
        SuiteOptions options = Short(TargetCatalog.RpycThreaded, TargetCatalog.RpycForking, TargetCatalog.HttpThreaded) with { RpycPort = rpycPort, HttpPort = httpPort };
        BenchmarkReport report = BenchmarkSuite.RunAll(options);
        output.WriteLine(TextReporter.Render(report));
        Assert.All(report.Targets, t => Assert.True(t.Status == TargetStatus.Ok, $"{t.Name}: {t.Error}"));
        Assert.All(report.Targets, t => Assert.False(t.Remote));
        Assert.Equal($"127.0.0.1:{rpycPort}", report.Targets[0].Endpoint);
        Assert.Equal($"127.0.0.1:{rpycPort + 1}", report.Targets[1].Endpoint);
        Assert.Equal($"127.0.0.1:{httpPort}", report.Targets[2].Endpoint);
    }

    [Theory]
    [InlineData(TargetCatalog.RpycThreaded)]
    [InlineData(TargetCatalog.HttpThreaded)]
    public void RunAll_ServerAcceptsAndNeverReplies_PhasesCutAtTheirBound_FailuresCounted(string target)
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var held = new List<Socket>();
        using var stop = new CancellationTokenSource();
        // Accepts and reads, never answers: what a hung server looks like from the client.
        Task acceptor = Task.Run(async () =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    Socket s = await silent.AcceptSocketAsync(stop.Token);
                    lock (held)
                    {
                        held.Add(s);
                    }
                    _ = Task.Run(async () =>
                    {
                        var buffer = new byte[65536];
                        try
                        {
                            while (await s.ReceiveAsync(buffer, SocketFlags.None, stop.Token) > 0)
                            {
                            }
                        }
                        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
                        {
                        }
                    });
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        int port = ((IPEndPoint)silent.LocalEndpoint).Port;
        SuiteOptions options = Short() with
        {
            Endpoints = [new RemoteEndpoint(target, "127.0.0.1", port)],
            MaxPhaseDuration = TimeSpan.FromSeconds(1),
            MaxSizeDuration = TimeSpan.FromSeconds(0.5),
        };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        BenchmarkReport report;
        try
        {
            report = BenchmarkSuite.RunAll(options);
        }
        finally
        {
            stop.Cancel();
            silent.Stop();
            lock (held)
            {
                held.ForEach(s => s.Dispose());
            }
        }
        output.WriteLine($"{clock.Elapsed.TotalSeconds:F1} s");
        TargetReport t = Assert.Single(report.Targets);
        output.WriteLine(t.Error);
        // Budgets: connection 1 + 2, latency 1 + 1 + 2, bandwidth 2 x (0.5 + 0.5) + 2, concurrent 1 + 2 seconds.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), $"took {clock.Elapsed}");
        Assert.Equal(TargetStatus.Failed, t.Status);
        Assert.True(t.Connection!.Failures > 0);
        Assert.Equal(0, t.Connection.Successes);
        Assert.Contains("max-phase-seconds", t.Error, StringComparison.Ordinal);
        Assert.True(t.TotalFailures > 0);
    }

    [Fact]
    public void RemoteEndpoint_Parse()
    {
        Assert.True(RemoteEndpoint.TryParse("py_rpyc_threaded=10.0.0.2:18861", out RemoteEndpoint? e, out _));
        Assert.Equal(new RemoteEndpoint("py_rpyc_threaded", "10.0.0.2", 18861), e);
        Assert.True(RemoteEndpoint.TryParse("tcp_raw=[::1]:18900", out e, out _));
        Assert.Equal("::1", e.Host);
        Assert.False(RemoteEndpoint.TryParse("tcp_raw=host", out _, out string? error));
        Assert.Contains("NAME=HOST:PORT", error, StringComparison.Ordinal);
        Assert.False(RemoteEndpoint.TryParse("bogus=h:1", out _, out error));
        Assert.Contains("unknown target", error, StringComparison.Ordinal);
        Assert.False(RemoteEndpoint.TryParse("tcp_raw=h:70000", out _, out _));
        Assert.Throws<ArgumentException>(() => new SuiteOptions { TcpHost = "h", Endpoints = [new RemoteEndpoint("tcp_raw", "g", 1)] }.RemoteEndpoints());
    }

    // A run of free consecutive ports below the kernel's ephemeral range. Inside that range the
    // suite's own client connections hold ports in TIME_WAIT, and a client's TIME_WAIT blocks a
    // server's bind even with SO_REUSEADDR (Linux wants the option on both sockets), so probing
    // there failed in CI ("no free consecutive ports" after thousands of warmup connections).
    // Below the range only listeners can sit, and each candidate is bound once to check.
    private static int FreePorts(int count)
    {
        int ephemeralLow = EphemeralLow();
        int low = Math.Max(1024, ephemeralLow - 12_000);
        for (int attempt = 0; attempt < 200; attempt++)
        {
            int port = Random.Shared.Next(low, ephemeralLow - count);
            var bound = new List<Socket>();
            try
            {
                for (int i = 0; i < count; i++)
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    bound.Add(socket);
                    socket.SetRawSocketOption(1, 2, [1, 0, 0, 0]); // SO_REUSEADDR, as the servers bind
                    socket.Bind(new IPEndPoint(IPAddress.Loopback, port + i));
                }
                return port;
            }
            catch (SocketException)
            {
            }
            finally
            {
                bound.ForEach(s => s.Dispose());
            }
        }
        throw new InvalidOperationException("no free consecutive ports");
    }

    private static int EphemeralLow()
    {
        const string RangeFile = "/proc/sys/net/ipv4/ip_local_port_range";
        return File.Exists(RangeFile) && int.TryParse(File.ReadAllText(RangeFile).Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0], out int low) && low > 2048
            ? low
            : 32768;
    }

    private sealed class SyncProgress(Action<SuiteProgress> report) : IProgress<SuiteProgress>
    {
        public void Report(SuiteProgress value) => report(value);
    }
}
