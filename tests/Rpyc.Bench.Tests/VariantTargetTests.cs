using Rpyc.Telemetry;

namespace Rpyc.Bench.Tests;

// The client variants: rpyc_threaded_profiled (telemetry on the client) and the Python-client
// targets (rpyc's own client, timing its calls in its own process).
[Collection(ServerProcesses.Name)]
public class VariantTargetTests(ITestOutputHelper output)
{
    [Fact]
    public void Profiled_Ping_WorksAndTheConnectionRecordsTelemetry()
    {
        using ServerHost host = ServerHost.Start(TargetCatalog.RpycThreadedProfiled);
        Assert.Equal(TargetCatalog.RpycThreadedProfiled, host.Info.Name);
        Assert.Contains("rpycbench-host.dll\0serve\0rpyc_threaded\0", File.ReadAllText($"/proc/{host.ProcessId}/cmdline"), StringComparison.Ordinal);
        using var client = Assert.IsType<RpycBenchClient>(host.Target.Connect());
        for (int i = 0; i < 10; i++)
        {
            client.Ping();
        }
        Assert.NotNull(client.Telemetry);
        Assert.True(client.Telemetry.IsAttached(client.Connection));
        TelemetryStatistics stats = client.Telemetry.GetStatistics();
        output.WriteLine($"round trips {stats.RoundTrips}, records {client.Telemetry.Records.Count}");
        // GETROOT and ten CALLATTRs, each recorded.
        Assert.Equal(11, stats.RoundTrips);
        Assert.Equal(client.RoundTrips, stats.RoundTrips);
        Assert.Equal(10, client.Telemetry.Records.Count(r => r.Name == "ping" && r.IsCompleted && r.IsRoundTrip));
    }

    [Fact]
    public void Profiled_SuiteClientTarget_IsProfiledOnlyForTheVariant()
    {
        using ServerHost host = ServerHost.Start(TargetCatalog.RpycThreaded);
        var suite = new SuiteOptions();
        using var plain = (RpycBenchClient)suite.ClientTarget(TargetCatalog.Get(TargetCatalog.RpycThreaded), "127.0.0.1", host.Port).Connect();
        using var profiled = (RpycBenchClient)suite.ClientTarget(TargetCatalog.Get(TargetCatalog.RpycThreadedProfiled), "127.0.0.1", host.Port).Connect();
        plain.Ping();
        profiled.Ping();
        Assert.Null(plain.Telemetry);
        Assert.Equal(2, profiled.Telemetry!.GetStatistics().RoundTrips);
    }

    [Fact]
    public void Otel_ListenersSeeEveryCallWhileItsClientIsOpen_AndOnlyThen()
    {
        using ServerHost host = ServerHost.Start(TargetCatalog.RpycThreaded);
        var suite = new SuiteOptions();
        (long activitiesBefore, long measurementsBefore) = InstrumentationListening.Seen;
        using (var otel = (RpycBenchClient)suite.ClientTarget(TargetCatalog.Get(TargetCatalog.RpycThreadedOtel), "127.0.0.1", host.Port).Connect())
        {
            for (int i = 0; i < 10; i++)
            {
                otel.Ping();
            }
            // No recorder: only the source and meter the connection feeds by itself.
            Assert.Null(otel.Telemetry);
        }
        (long activities, long measurements) = InstrumentationListening.Seen;
        Assert.True(activities - activitiesBefore >= 10, $"{activities - activitiesBefore} activities seen");
        Assert.True(measurements > measurementsBefore);
        // Closed: a plain client's calls reach no listener of ours.
        using var plain = (RpycBenchClient)suite.ClientTarget(TargetCatalog.Get(TargetCatalog.RpycThreaded), "127.0.0.1", host.Port).Connect();
        plain.Ping();
        Assert.Equal(activities, InstrumentationListening.Seen.Activities);
    }

    [Theory]
    [InlineData(TargetCatalog.PyClientRpycThreaded, false)]
    [InlineData(TargetCatalog.PyClientPyRpycThreaded, true)]
    [InlineData(TargetCatalog.PyClientRpycForking, false)]
    [InlineData(TargetCatalog.PyClientPyRpycForking, true)]
    public void PythonClient_EveryOperation_CheckedAndRoundTripsCounted(string target, bool pythonServer)
    {
        using ServerHost host = ServerHost.Start(target);
        string cmdline = File.ReadAllText($"/proc/{host.ProcessId}/cmdline");
        Assert.Contains(pythonServer ? "rpyc_server.py" : "rpycbench-host.dll", cmdline, StringComparison.Ordinal);
        using var client = Assert.IsType<PythonBenchClient>(host.Target.Connect());
        Assert.Contains("rpyc_client.py", File.ReadAllText($"/proc/{client.ProcessId}/cmdline"), StringComparison.Ordinal);
        Assert.Equal(0, client.RoundTrips);
        client.Ping();
        // Counted by the Python client: its first use's GETROOT, INSPECT of the root's class and
        // GETATTR of the bound method, the counting call, then the call.
        Assert.Equal(5, client.RoundTrips);
        client.Ping();
        Assert.Equal(6, client.RoundTrips);
        Assert.Equal(1, client.RoundTripsPerCall("ping"));
        Assert.Equal(2, client.RoundTripsPerCall("ping_uncached"));
        client.PingUncached();
        client.Echo(Payload.Create(5000));
        client.Upload(Payload.Create(100_000));
        client.Download(300_000);
        client.Compute(1000);
        client.Sleep(0.001);
        Assert.Throws<NotSupportedException>(() => client.Echo(new byte[] { 1, 2, 3 }));
    }

    [Fact]
    public void PythonClient_SelfTimedLatency_ReportsEveryCallTimedInPython()
    {
        using ServerHost host = ServerHost.Start(TargetCatalog.PyClientRpycThreaded);
        using var client = (PythonBenchClient)host.Target.Connect();
        LatencyResult r = new SelfTimedLatencyBenchmark("pyclient ping", client, "ping", new RunLimits(300, TimeSpan.FromSeconds(20), 100))
        {
            JitActivity = Profiling.JitProbe.For(host.ProcessId),
            KeepSamples = true,
        }.Execute();
        output.WriteLine($"p50 {r.Latency.P50 * 1e6:0.0} us, warmup {r.WarmupSeconds:0.00} s settled {r.WarmupSettled}");
        Assert.Equal(300, r.Successes);
        Assert.Equal(0, r.Failures);
        Assert.Equal(1.0, r.RoundTripsPerRequest);
        Assert.Equal(300, r.SampleTicks!.Count);
        Assert.All(r.SampleTicks, t => Assert.True(t > 0));
        Assert.True(r.Seconds > 0);
        Assert.NotNull(r.WarmupSettled);
        Assert.True(r.Latency.P50 < r.Seconds, "a call is shorter than the batch");

        LatencyResult uncached = new SelfTimedLatencyBenchmark("pyclient ping uncached", client, "ping_uncached", new RunLimits(100, TimeSpan.FromSeconds(20), 10)).Execute();
        Assert.Equal(2.0, uncached.RoundTripsPerRequest);
        Assert.Equal(100, uncached.Successes);
    }

    [Theory]
    [InlineData(TargetCatalog.PyClientRpycThreaded)]
    [InlineData(TargetCatalog.PyClientRpycForking)]
    public void PythonClient_TimedConnections_EachConnectAndFirstCallTimed(string target)
    {
        using ServerHost host = ServerHost.Start(target);
        using var client = (PythonBenchClient)host.Target.Connect();
        SelfTimedBatch batch = client.TimeConnections(5, TimeSpan.FromMilliseconds(10));
        Assert.Equal(5, batch.Ticks.Count);
        Assert.Equal(0, batch.Failures);
        Assert.All(batch.Ticks, t => Assert.True(t > 0));
    }

    [Fact]
    public void PythonClient_ServerGone_CountedAsFailures()
    {
        var host = ServerHost.Start(TargetCatalog.PyClientRpycThreaded);
        using var client = (PythonBenchClient)host.Target.Connect();
        client.Ping();
        host.Dispose();
        SelfTimedBatch batch = client.RunTimed("ping", 5, TimeSpan.FromSeconds(10));
        Assert.Empty(batch.Ticks);
        Assert.Equal(5, batch.Failures);
        Assert.NotNull(batch.FirstError);
        Assert.Throws<InvalidReplyException>(() => client.Ping());
    }
}
