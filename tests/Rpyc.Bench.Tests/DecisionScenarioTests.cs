namespace Rpyc.Bench.Tests;

// The decision scenarios against real servers: every reply validated, round trips counted by the
// protocol and equal to what each style costs.
[Collection(ServerProcesses.Name)]
public class DecisionScenarioTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, double> s_rpycRoundTrips = new()
    {
        ["record"] = 11,            // get_record, then ten getattr
        ["record_by_value"] = 1,
        ["list"] = 103,             // get_list, __iter__, 100 __next__ and the one that ends it
        ["list_by_value"] = 1,
        ["chain"] = 3,              // getattr service, getattr child, callattr method
        ["chain_by_value"] = 1,
        ["callback"] = 11,          // map_callback, and the server's ten calls into our fn
        ["upload"] = 1,
    };

    [Theory]
    [InlineData(TargetCatalog.RpycThreaded)]
    [InlineData(TargetCatalog.PyRpycThreaded)]
    public void Rpyc_EveryScenario_ValidatedWithExactRoundTrips(string target)
    {
        using ServerHost host = ServerHost.Start(target);
        IReadOnlyList<ScenarioResult> results = new ScenarioBenchmark(host.Target, DecisionScenario.Names, new RunLimits(5, TimeSpan.FromSeconds(30), 2)).Execute();
        Assert.Equal(s_rpycRoundTrips.Keys.Order(StringComparer.Ordinal), results.Select(r => r.Key).Order(StringComparer.Ordinal));
        foreach (ScenarioResult r in results)
        {
            output.WriteLine($"{r.Key}: {r.RoundTripsPerOp} round trips, {r.BytesPerOp} bytes, p50 {r.Latency.P50 * 1e6:F0} us");
            Assert.True(r.Failures == 0, $"{r.Key}: {r.FirstError}");
            Assert.Equal(5, r.Successes);
            Assert.Equal(s_rpycRoundTrips[r.Key], r.RoundTripsPerOp);
            Assert.NotNull(r.BytesPerOp);
        }
        Assert.True(results.Single(r => r.Key == "upload").BytesPerOp > DecisionScenario.UploadBytes);
        Assert.True(results.Single(r => r.Key == "record").BytesPerOp > results.Single(r => r.Key == "record_by_value").BytesPerOp);
    }

    [Fact]
    public void Suite_ScenariosInTheReportAndJson()
    {
        BenchmarkReport report = BenchmarkSuite.RunAll(new SuiteOptions
        {
            Targets = [TargetCatalog.RpycThreaded, TargetCatalog.TcpRaw],
            NumConnections = 2,
            NumRequests = 5,
            WarmupRequests = 2,
            WarmupDuration = TimeSpan.Zero,
            NumConcurrentClients = 1,
            RequestsPerClient = 5,
            PayloadSizes = [1024],
            TransfersPerSize = 2,
            MinPhaseDuration = TimeSpan.Zero,
            ScenarioOperations = 3,
            Scenarios = ["chain", "upload"],
            RunWrk = false,
        });
        TargetReport rpyc = report.Targets[0];
        Assert.True(rpyc.Status == TargetStatus.Ok, rpyc.Error);
        Assert.Equal(["chain", "chain_by_value", "upload"], rpyc.Scenarios!.Select(s => s.Key));
        Assert.Equal(["upload"], report.Targets[1].Scenarios!.Select(s => s.Key));
        using var json = System.Text.Json.JsonDocument.Parse(JsonReporter.Render(report));
        System.Text.Json.JsonElement chain = json.RootElement.GetProperty("rpyc_threaded").GetProperty("scenarios").GetProperty("chain");
        Assert.Equal(3, chain.GetProperty("round_trips_per_op").GetDouble());
        Assert.Equal(3, chain.GetProperty("latency").GetProperty("count").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, chain.GetProperty("predicted_seconds").ValueKind);
    }

    [Fact]
    public void ScenarioClient_WrongReply_Invalid()
    {
        // A server of another service: get_record is not there, which must fail, not pass silently.
        using ServerHost host = ServerHost.Start(TargetCatalog.TcpRaw);
        using ScenarioClient client = ScenarioClient.For(host.Target.Connect());
        Assert.Throws<InvalidReplyException>(() => client.Run(DecisionScenario.All.First(v => v.Protocol == "rpyc")));
    }
}
