using System.Diagnostics;
using System.Net.Sockets;
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

    private SteadyWarmup Warm(int count, int serverPid) => new(count, options.WarmupSettings, serverPid, log);

    // The cross-process ping in chosen CPU placements, on connections of its own (no CPU rows: the pinning is the point).
    private IReadOnlyList<ScenarioResult> PinnedPing(ServerProcess host)
    {
        using Socket echo = LoopbackServer.Connect(host.EchoPort);
        using RpycConnection conn = RpycConnection.Connect("127.0.0.1", host.Port);
        return Scenarios.PinnedPing.Run(RawTcp.EchoCall(echo, 3), conn.RootNetref, host.ProcessId, Warm(options.Warmup, host.ProcessId), options.Calls, rounds: 5,
            "tcp_cross_process", "rpyc_ping_cross_process", log);
    }

    private static long WithWarmupCalls(ScenarioResult r) => (long)(r[Fields.N] + r[Fields.WarmupCalls]);

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
            log.WriteLine($"[run {index}/{options.Runs}] ping...");
            // The CPU columns cover warmup and measurement alike, so they divide by both call counts.
            Measure(results, 0, WithWarmupCalls, () => TcpFloor.Run(Warm(options.Warmup, 0), options.Calls));
            Measure(results, remote, WithWarmupCalls, () => TcpFloor.RunAgainst(host.EchoPort, Warm(options.Warmup, remote), options.Calls, "tcp_cross_process", "TCP ping-pong 16 B, echo in another process", "raw echo thread in the server host"));
            Measure(results, 0, WithWarmupCalls, () => DotnetClient.Ping(local.Port, Warm(options.Warmup, 0), options.Calls, "rpyc_ping_in_process", "RPyC ping, ThreadedServer in this process"));
            Measure(results, remote, WithWarmupCalls, () => DotnetClient.Ping(host.Port, Warm(options.Warmup, remote), options.Calls, "rpyc_ping_cross_process", "RPyC ping, ThreadedServer in another process"));
            results.AddRange(PinnedPing(host));
            log.WriteLine($"[run {index}/{options.Runs}] closed loop...");
            Measure(results, 0, WithWarmupCalls, () => RawTcp.RequestResponse(options.Connections, Warm(options.ThroughputWarmup, 0), duration));
            Measure(results, remote, WithWarmupCalls, () => RawTcp.RequestResponse(host.EchoPort, options.Connections, Warm(options.ThroughputWarmup, remote), duration, "raw_tcp_rr_cross_process", "raw TCP 16 B, echo in another process", "raw echo threads in the server host"));
            Measure(results, 0, WithWarmupCalls, () => DotnetServerScenarios.Throughput(local.Port, options.Connections, Warm(options.ThroughputWarmup, 0), duration) with { Key = "rpyc_rate_in_process", Title = "RPyC ping, ThreadedServer in this process" });
            Measure(results, remote, WithWarmupCalls, () => DotnetServerScenarios.Throughput(host.Port, options.Connections, Warm(options.ThroughputWarmup, remote), duration) with { Key = "rpyc_rate_cross_process", Title = "RPyC ping, ThreadedServer in another process" });
            log.WriteLine($"[run {index}/{options.Runs}] 1 MiB...");
            Measure(results, 0, WithWarmupCalls, () => RawTcp.Upload(payload, Warm(options.TransferWarmup, 0), options.Transfers));
            Measure(results, 0, WithWarmupCalls, () => DotnetServerScenarios.Upload(local.Port, payload, 42, Warm(options.TransferWarmup, 0), options.Transfers) with { Key = "rpyc_upload_in_process", Title = "RPyC upload(1 MiB), ThreadedServer in this process" });
            Measure(results, remote, WithWarmupCalls, () => DotnetServerScenarios.Upload(host.Port, payload, 42, Warm(options.TransferWarmup, remote), options.Transfers) with { Key = "rpyc_upload_cross_process", Title = "RPyC upload(1 MiB), ThreadedServer in another process" });
            Measure(results, 0, WithWarmupCalls, () => RawTcp.Download(payload, Warm(options.TransferWarmup, 0), options.Transfers));
            Measure(results, 0, WithWarmupCalls, () => DotnetServerScenarios.Download(local.Port, payload, Warm(options.TransferWarmup, 0), options.Transfers) with { Key = "rpyc_download_in_process", Title = "RPyC download(1 MiB), ThreadedServer in this process" });
            Measure(results, remote, WithWarmupCalls, () => DotnetServerScenarios.Download(host.Port, payload, Warm(options.TransferWarmup, remote), options.Transfers) with { Key = "rpyc_download_cross_process", Title = "RPyC download(1 MiB), ThreadedServer in another process" });
            host.EnsureAlive();
        }
        return new RunResult(index, results, load, CpuSample.Take().OthersCoresSince(cpuAtStart));
    }
}
