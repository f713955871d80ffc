using Rpyc.Benchmarks;
using Rpyc.Figures.Peers;
using Rpyc.Figures.Reports;
using Rpyc.Figures.Scenarios;

namespace Rpyc.Figures;

/// <summary>
/// Runs every scenario, one after another (never two at once: the machine may have 2 cores), in
/// each of N runs; each run starts its own Python server and stops it before the next.
/// </summary>
internal sealed class FiguresRunner(FiguresOptions options, TextWriter log)
{
    private static readonly TimeSpan s_serverStartTimeout = TimeSpan.FromSeconds(20);

    public FiguresReport Run() => RunLoop.Run(options, log, RunOnce);

    private RunResult RunOnce(int index)
    {
        double load = MachineInfo.LoadAverage();
        var results = new List<ScenarioResult>();
        Step(index, "TCP floor");
        results.Add(TcpFloor.Run(Warm(options.Warmup), options.Calls));
        using (ServerProcess server = PythonServer.Start(options.Python, options.RepoRoot, s_serverStartTimeout))
        {
            Step(index, $"demo_server.py on 127.0.0.1:{server.Port}: .NET client");
            results.Add(DotnetClient.Ping(server.Port, Warm(options.Warmup), options.Calls));
            byte[] payload = BenchmarkData.RandomBytes(BenchmarkData.OneMiB);
            results.Add(DotnetClient.Echo(server.Port, payload, Warm(options.EchoWarmup), options.Echoes));
            results.Add(DotnetClient.Upload(server.Port, payload, Warm(options.EchoWarmup), options.Echoes));
            results.Add(DotnetClient.Download(server.Port, Warm(options.EchoWarmup), options.Echoes));
            Step(index, "Python client");
            results.AddRange(PythonClientScenarios.Run(options, server.Port));
            if (server.HasExited)
            {
                throw new FiguresException($"demo_server.py died during the run. stderr: {server.RecentStderr}");
            }
        }
        Step(index, "brine");
        results.Add(BrineQuick.CallTuple(options.BrineSmallIterations));
        results.Add(BrineQuick.Bytes1MiB(options.BrineLargeIterations));
        return new RunResult(index, Order(results), load);
    }

    // Table order: the floor, then ping latencies side by side, then transfers, then brine.
    private static ScenarioResult[] Order(List<ScenarioResult> results)
    {
        string[] order =
        [
            "tcp_floor", "dotnet_ping", "python_ping_cached", "python_ping_uncached",
            "dotnet_echo_1mib", "python_echo_1mib", "dotnet_upload_1mib", "dotnet_download_1mib",
            "brine_call_tuple", "brine_bytes_1mib",
        ];
        return results.OrderBy(r => Array.IndexOf(order, r.Key) is int at && at >= 0 ? at : int.MaxValue).ToArray();
    }

    // The Python server has no JIT to wait for: this process's compiled-method count is the whole signal.
    private SteadyWarmup Warm(int count) => new(count, options.WarmupSettings, serverPid: 0, log);

    private void Step(int run, string what)
    {
        log.WriteLine($"[run {run}/{options.Runs}] {what}...");
        log.Flush();
    }
}
