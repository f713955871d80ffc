using System.Diagnostics;
using Rpyc.Figures.Hosting;
using Rpyc.Figures.Peers;
using Rpyc.Figures.Reports;
using Rpyc.Figures.Scenarios;

namespace Rpyc.Figures;

/// <summary>
/// <c>--breakdown</c>: where the time of the server figures goes. The same ping, closed-loop and 1 MiB
/// figures against a .NET ThreadedServer in this process and in another one, beside raw TCP in this
/// process and in another one: the differences separate the cost of crossing processes from the cost of RPyC.
/// </summary>
internal sealed class BreakdownRunner(FiguresOptions options, TextWriter log)
{
    private static readonly TimeSpan s_serverStartTimeout = TimeSpan.FromSeconds(30);

    public FiguresReport Run() => RunLoop.Run(options, log, RunOnce);

    // Runs a scenario and adds, beside it, the CPU both processes spent per call (warmup and setup included);
    // serverPid 0: the server is in this process, so the client column holds both sides.
    private void Measure(List<ScenarioResult> results, int serverPid, Func<ScenarioResult, long> totalCalls, Func<ScenarioResult> scenario)
    {
        var clientThreads = ThreadCpu.Snapshot(Environment.ProcessId);
        var serverThreads = serverPid > 0 ? ThreadCpu.Snapshot(serverPid) : [];
        long client = ProcessCpu.SelfNanoseconds();
        long server = serverPid > 0 ? ProcessCpu.OtherNanoseconds(serverPid) : -1;
        long start = Stopwatch.GetTimestamp();
        ScenarioResult result = scenario();
        double wall = Stopwatch.GetElapsedTime(start).TotalSeconds;
        double clientSeconds = (ProcessCpu.SelfNanoseconds() - client) / 1e9;
        double serverSeconds = server >= 0 ? (ProcessCpu.OtherNanoseconds(serverPid) - server) / 1e9 : double.NaN;
        log.WriteLine($"    {result.Title}: client threads (live at the end) {ThreadCpu.Top(clientThreads, ThreadCpu.Snapshot(Environment.ProcessId))}");
        if (serverPid > 0)
        {
            log.WriteLine($"    {result.Title}: server threads (live at the end) {ThreadCpu.Top(serverThreads, ThreadCpu.Snapshot(serverPid))}");
        }
        results.Add(result);
        results.Add(ScenarioResult.CpuCost("cpu_" + result.Key, result.Title, totalCalls(result), wall, clientSeconds, serverSeconds));
    }

    private void WaitIdle(string what)
    {
        if (options.WaitIdleSeconds > 0)
        {
            IdleGate.Wait(TimeSpan.FromSeconds(options.WaitIdleSeconds), log, what);
        }
    }

    private RunResult RunOnce(int index)
    {
        double load = MachineInfo.LoadAverage();
        WaitIdle($"run {index}");
        CpuSample cpuAtStart = CpuSample.Take();
        var results = new List<ScenarioResult>();
        var duration = TimeSpan.FromSeconds(options.DurationSeconds);
        byte[] payload = DotnetServerScenarios.Payload(42);
        using (ServerProcess host = DotnetServer.Start(forking: false, s_serverStartTimeout))
        using (var local = new ThreadedServer(() => new FiguresBenchService(), new RpycServerOptions { Port = 0 }))
        {
            local.Start();
            int remote = host.ProcessId;
            int latencyCalls = options.Warmup + options.Calls;
            int rateWarmup = options.Connections * options.ThroughputWarmup;
            int transfers = options.TransferWarmup + options.Transfers;
            log.WriteLine($"[run {index}/{options.Runs}] ping...");
            Measure(results, 0, _ => latencyCalls, () => TcpFloor.Run(options.Warmup, options.Calls));
            Measure(results, remote, _ => latencyCalls, () => TcpFloor.RunAgainst(host.EchoPort, options.Warmup, options.Calls, "tcp_cross_process", "TCP ping-pong 16 B, echo in another process", "raw echo thread in the server host"));
            Measure(results, 0, _ => latencyCalls, () => DotnetClient.Ping(local.Port, options.Warmup, options.Calls, "rpyc_ping_in_process", "RPyC ping, ThreadedServer in this process"));
            Measure(results, remote, _ => latencyCalls, () => DotnetClient.Ping(host.Port, options.Warmup, options.Calls, "rpyc_ping_cross_process", "RPyC ping, ThreadedServer in another process"));
            log.WriteLine($"[run {index}/{options.Runs}] closed loop...");
            Measure(results, 0, r => (long)r[Fields.N] + rateWarmup, () => RawTcp.RequestResponse(options.Connections, options.ThroughputWarmup, duration));
            Measure(results, remote, r => (long)r[Fields.N] + rateWarmup, () => RawTcp.RequestResponse(host.EchoPort, options.Connections, options.ThroughputWarmup, duration, "raw_tcp_rr_cross_process", "raw TCP 16 B, echo in another process", "raw echo threads in the server host"));
            Measure(results, 0, r => (long)r[Fields.N] + rateWarmup, () => DotnetServerScenarios.Throughput(local.Port, options.Connections, options.ThroughputWarmup, duration) with { Key = "rpyc_rate_in_process", Title = "RPyC ping, ThreadedServer in this process" });
            Measure(results, remote, r => (long)r[Fields.N] + rateWarmup, () => DotnetServerScenarios.Throughput(host.Port, options.Connections, options.ThroughputWarmup, duration) with { Key = "rpyc_rate_cross_process", Title = "RPyC ping, ThreadedServer in another process" });
            log.WriteLine($"[run {index}/{options.Runs}] 1 MiB...");
            Measure(results, 0, _ => transfers, () => RawTcp.Upload(payload, options.TransferWarmup, options.Transfers));
            Measure(results, 0, _ => transfers, () => DotnetServerScenarios.Upload(local.Port, payload, 42, options.TransferWarmup, options.Transfers) with { Key = "rpyc_upload_in_process", Title = "RPyC upload(1 MiB), ThreadedServer in this process" });
            Measure(results, remote, _ => transfers, () => DotnetServerScenarios.Upload(host.Port, payload, 42, options.TransferWarmup, options.Transfers) with { Key = "rpyc_upload_cross_process", Title = "RPyC upload(1 MiB), ThreadedServer in another process" });
            Measure(results, 0, _ => transfers, () => RawTcp.Download(payload, options.TransferWarmup, options.Transfers));
            Measure(results, 0, _ => transfers, () => DotnetServerScenarios.Download(local.Port, payload, options.TransferWarmup, options.Transfers) with { Key = "rpyc_download_in_process", Title = "RPyC download(1 MiB), ThreadedServer in this process" });
            Measure(results, remote, _ => transfers, () => DotnetServerScenarios.Download(host.Port, payload, options.TransferWarmup, options.Transfers) with { Key = "rpyc_download_cross_process", Title = "RPyC download(1 MiB), ThreadedServer in another process" });
            host.EnsureAlive();
        }
        return new RunResult(index, results, load, CpuSample.Take().OthersCoresSince(cpuAtStart));
    }
}
