using System.Globalization;
using System.Text;

namespace Rpyc.Figures.Reports;

/// <summary>Plain-text tables; a pure function of the report, formatted with the invariant culture.</summary>
internal static class TableReporter
{
    private static readonly CultureInfo s_inv = CultureInfo.InvariantCulture;

    public static string RenderMachine(MachineInfo m, FiguresOptions o)
    {
        var sb = new StringBuilder();
        sb.AppendLine("Machine");
        sb.AppendLine(s_inv, $"  cpus {m.ProcessorCount}, {m.OSDescription}, {m.ProcessArchitecture}");
        // The load average also counts this command's own build (dotnet run): the per-run CPU of other programs is the real test.
        sb.AppendLine(s_inv, $"  load average (1 min) at start {F2(m.LoadAverageAtStart)} (includes this command's own build; each run reports the CPU other programs used during it)");
        sb.AppendLine(s_inv, $"  {m.FrameworkDescription}, GC {m.GcMode}, Rpyc.dll {(m.RpycOptimized ? "optimized (Release)" : "NOT OPTIMIZED (Debug build: figures are meaningless)")}");
        if (o.Mode is FiguresMode.Servers or FiguresMode.Breakdown)
        {
            sb.AppendLine(s_inv, $"  peers: Python {m.PythonVersion}, rpyc {m.RpycPythonVersion} (tests/python/demo_server.py: ThreadedServer, and ForkingServer with --forking; clients bench_client.py, bench_connect.py)");
            sb.AppendLine("  .NET servers: this executable with --serve-threaded / --serve-forking, a separate process (ForkingServer: pre-started rpyc-worker processes, default pool); raw TCP references: in this process");
            sb.AppendLine(s_inv, $"  runs {o.Runs}; ping: {o.Calls} calls after {o.Warmup} warmup; throughput: {o.Connections} connections x {o.DurationSeconds:0.###} s after {o.ThroughputWarmup} warmup calls each; 1 MiB transfers: {o.Transfers} after {o.TransferWarmup} warmup; Python client echoes: {o.Echoes} after {o.EchoWarmup}");
            sb.AppendLine(s_inv, $"  connect + first call: {o.Connects} connections after {o.ConnectWarmup} warmup, {o.ConnectGapMs} ms apart (not counted); back to back (forking servers): {o.BackToBack}, no pause, no warmup");
            sb.AppendLine("  percentiles: nearest-rank; MB = 10^6 bytes; pay MB/s = payload bytes / mean round trip; @p50 = pay MB/s at the median round trip; ratio rows: value / reference of the same run");
        }
        else
        {
            sb.AppendLine(s_inv, $"  peer: Python {m.PythonVersion}, rpyc {m.RpycPythonVersion} (ThreadedServer, tests/python/demo_server.py)");
            sb.AppendLine(s_inv, $"  runs {o.Runs}, calls {o.Calls} after {o.Warmup} warmup, echoes {o.Echoes} after {o.EchoWarmup} warmup, brine {o.BrineSmallIterations}/{o.BrineLargeIterations} iterations");
            sb.AppendLine("  percentiles: nearest-rank; MB = 10^6 bytes; pay MB/s = payload bytes / mean round trip; wire MB/s = (bytes up + bytes down) / mean round trip; @p50 = pay MB/s at the median round trip");
            sb.AppendLine("  brine ns/op: median of 10 batches. B/call, MB alloc: bytes allocated by the calling thread per call (GC.GetAllocatedBytesForCurrentThread; that thread also reads and decodes the reply)");
        }
        sb.AppendLine(s_inv, $"  warmup of every latency, transfer and throughput figure: its count, at least {o.WarmupMinSeconds:0.###} s, then on until the JIT (methods compiled here, the server's tiered-compilation thread) was quiet for {o.WarmupSettleSeconds:0.###} s; at most {o.WarmupMaxSeconds:0.###} s (flagged in the notes when reached)");
        sb.AppendLine();
        return sb.ToString();
    }

    public static string RenderRun(RunResult run, int runs) =>
        Render($"Run {run.Index}/{runs}{RunConditions(run)}", run.Scenarios, failuresHeader: "fails");

    private static string RunConditions(RunResult run)
    {
        var parts = new List<string>();
        if (!double.IsNaN(run.LoadAverageAtStart))
        {
            parts.Add(string.Create(s_inv, $"load average at start {run.LoadAverageAtStart:0.00}"));
        }
        if (!double.IsNaN(run.OthersCores))
        {
            parts.Add(string.Create(s_inv, $"other programs used {run.OthersCores:0.00} cores during the run{(run.OthersCores >= OthersBusyCores ? " -- BUSY MACHINE, figures skewed" : "")}"));
        }
        return parts.Count == 0 ? "" : $" ({string.Join("; ", parts)})";
    }

    /// <summary>Other programs' load (cores) from which a run is flagged as measured on a busy machine.</summary>
    private const double OthersBusyCores = 0.25;

    public static string RenderMedian(FiguresReport report) =>
        Render($"Median of {report.Runs.Count} run(s){OthersSummary(report)} (fails: total over the runs{(report.Median.Any(s => s.Kind == ScenarioKind.Ratio) ? "; value, ref, ratio: medians of the per-run figures" : "")})", report.Median, failuresHeader: "fails") +
        RenderNotes(report.Median) +
        RenderGoals(report.Median) +
        (report.TotalFailures == 0 ? "All results validated.\n" : $"FAILED: {report.TotalFailures} call(s) returned a wrong result or raised.\n");

    private static string Render(string heading, IReadOnlyList<ScenarioResult> scenarios, string failuresHeader)
    {
        var sb = new StringBuilder();
        sb.AppendLine(heading);
        int titleWidth = Math.Max(54, scenarios.Select(s => s.Title.Length).DefaultIfEmpty(0).Max());
        ScenarioResult[] latency = scenarios.Where(s => s.Kind == ScenarioKind.Latency).ToArray();
        if (latency.Length > 0)
        {
            sb.AppendLine(s_inv, $"  {"latency (per round trip)".PadRight(titleWidth)} {"n",7} {"p50 us",9} {"p99 us",9} {"mean us",9} {"B/call",8} {failuresHeader,6}");
            foreach (ScenarioResult s in latency)
            {
                sb.AppendLine(s_inv, $"  {s.Title.PadRight(titleWidth)} {F0(s[Fields.N]),7} {F1(s[Fields.P50Us]),9} {F1(s[Fields.P99Us]),9} {F1(s[Fields.MeanUs]),9} {F0(s[Fields.AllocBytesPerCall]),8} {F0(s[Fields.Failures]),6}");
            }
        }
        ScenarioResult[] throughput = scenarios.Where(s => s.Kind == ScenarioKind.Throughput).ToArray();
        if (throughput.Length > 0)
        {
            sb.AppendLine(s_inv, $"  {"transfer (per call)".PadRight(titleWidth)} {"n",7} {"p50 ms",9} {"mean ms",9} {"pay MB/s",9} {"wire MB/s",9} {"@p50",7} {"MB alloc",8} {failuresHeader,6}");
            foreach (ScenarioResult s in throughput)
            {
                sb.AppendLine(s_inv, $"  {s.Title.PadRight(titleWidth)} {F0(s[Fields.N]),7} {F2(s[Fields.RttP50Ms]),9} {F2(s[Fields.RttMeanMs]),9} {F1(s[Fields.PayloadMBps]),9} {F1(s[Fields.WireMBps]),9} {F1(s[Fields.PayloadMBpsAtP50]),7} {F2(s[Fields.AllocBytesPerCall] / 1e6),8} {F0(s[Fields.Failures]),6}");
            }
        }
        ScenarioResult[] rate = scenarios.Where(s => s.Kind == ScenarioKind.Rate).ToArray();
        if (rate.Length > 0)
        {
            sb.AppendLine(s_inv, $"  {"throughput (closed loop)".PadRight(titleWidth)} {"calls",9} {"s",6} {"calls/s",9} {"p50 us",9} {"p99 us",9} {failuresHeader,6}");
            foreach (ScenarioResult s in rate)
            {
                sb.AppendLine(s_inv, $"  {s.Title.PadRight(titleWidth)} {F0(s[Fields.N]),9} {F2(s[Fields.DurationS]),6} {F0(s[Fields.CallsPerS]),9} {F1(s[Fields.P50Us]),9} {F1(s[Fields.P99Us]),9} {F0(s[Fields.Failures]),6}");
            }
        }
        ScenarioResult[] connect = scenarios.Where(s => s.Kind == ScenarioKind.Connect).ToArray();
        if (connect.Length > 0)
        {
            sb.AppendLine(s_inv, $"  {"connect + first call (per connection)".PadRight(titleWidth)} {"n",5} {"gap ms",6} {"p50 ms",8} {"p90 ms",8} {"max ms",8} {"mean ms",8} {failuresHeader,6}");
            foreach (ScenarioResult s in connect)
            {
                sb.AppendLine(s_inv, $"  {s.Title.PadRight(titleWidth)} {F0(s[Fields.N]),5} {F0(s[Fields.GapMs]),6} {F2(s[Fields.P50Ms]),8} {F2(s[Fields.P90Ms]),8} {F2(s[Fields.MaxMs]),8} {F2(s[Fields.MeanMs]),8} {F0(s[Fields.Failures]),6}");
            }
        }
        ScenarioResult[] codec = scenarios.Where(s => s.Kind == ScenarioKind.Codec).ToArray();
        if (codec.Length > 0)
        {
            sb.AppendLine(s_inv, $"  {"brine, in process (quick; see Rpyc.MicroBenchmarks)".PadRight(titleWidth)} {"iters",7} {"ns/op",12} {"B/op",12}");
            foreach (ScenarioResult s in codec)
            {
                sb.AppendLine(s_inv, $"  {s.Title.PadRight(titleWidth)} {F0(s[Fields.Iterations]),7} {F0(s[Fields.NsPerOp]),12} {F0(s[Fields.BytesPerOp]),12}");
            }
        }
        ScenarioResult[] cpu = scenarios.Where(s => s.Kind == ScenarioKind.CpuCost).ToArray();
        if (cpu.Length > 0)
        {
            sb.AppendLine(s_inv, $"  {"CPU per call (schedstat of every thread)".PadRight(titleWidth)} {"calls",9} {"wall us",9} {"client us",9} {"server us",9}");
            foreach (ScenarioResult s in cpu)
            {
                sb.AppendLine(s_inv, $"  {s.Title.PadRight(titleWidth)} {F0(s[Fields.N]),9} {F2(s[Fields.WallUsPerCall]),9} {F2(s[Fields.ClientCpuUsPerCall]),9} {F2(s[Fields.ServerCpuUsPerCall]),9}");
            }
        }
        ScenarioResult[] ratios = scenarios.Where(s => s.Kind == ScenarioKind.Ratio).ToArray();
        if (ratios.Length > 0)
        {
            sb.AppendLine(s_inv, $"  {"beside the reference (same run)".PadRight(titleWidth)} {"value",9} {"ref",9} {"ratio",7} {"goal",10} {"",6}");
            foreach (ScenarioResult s in ratios)
            {
                string verdict = s.GoalMet() switch { true => "met", false => "MISSED", null => "" };
                sb.AppendLine(s_inv, $"  {s.Title.PadRight(titleWidth)} {Num(s[Fields.Value]),9} {Num(s[Fields.Reference]),9} {F2(s[Fields.Ratio]) + "x",7} {GoalText(s),10} {verdict,6}");
            }
        }
        ScenarioResult? floor = scenarios.FirstOrDefault(s => s.Key == "tcp_floor");
        ScenarioResult? ours = scenarios.FirstOrDefault(s => s.Key == "dotnet_ping");
        ScenarioResult? theirs = scenarios.FirstOrDefault(s => s.Key == "python_ping_cached");
        if (floor is not null && ours is not null && theirs is not null)
        {
            sb.AppendLine(s_inv, $"  ratios (p50): .NET/Python client {F2(ours[Fields.P50Us] / theirs[Fields.P50Us])}x; .NET client minus the TCP floor {(ours[Fields.P50Us] - floor[Fields.P50Us]).ToString("+0.0;-0.0", s_inv)} us");
        }
        sb.AppendLine();
        return sb.ToString();
    }

    private static string RenderNotes(IReadOnlyList<ScenarioResult> scenarios)
    {
        var sb = new StringBuilder("Notes\n");
        foreach (ScenarioResult s in scenarios.Where(s => s.ReportedNote is not null))
        {
            sb.AppendLine(s_inv, $"  {s.Title}: {s.ReportedNote}");
        }
        return sb.AppendLine().ToString();
    }

    private static string RenderGoals(IReadOnlyList<ScenarioResult> median)
    {
        ScenarioResult[] goals = median.Where(s => s.GoalMet() is not null).ToArray();
        if (goals.Length == 0)
        {
            return "";
        }
        ScenarioResult[] missed = goals.Where(s => s.GoalMet() == false).ToArray();
        return missed.Length == 0
            ? $"Goals: all {goals.Length} met (on the medians).\n"
            : $"Goals: {goals.Length - missed.Length} of {goals.Length} met (on the medians); MISSED: {string.Join("; ", missed.Select(s => $"{s.Title} = {(s[Fields.GoalOnRatio] == 1 ? F2(s[Fields.Ratio]) + "x" : Num(s[Fields.Value]))}, goal {GoalText(s)}"))}\n";
    }

    private static string OthersSummary(FiguresReport report)
    {
        double[] others = report.Runs.Select(r => r.OthersCores).Where(v => !double.IsNaN(v)).ToArray();
        return others.Length == 0 ? "" : string.Create(s_inv, $" [other programs' CPU per run, cores: {string.Join(", ", others.Select(v => v.ToString("0.00", s_inv)))}]");
    }

    private static string GoalText(ScenarioResult s)
    {
        double goal = s[Fields.Goal];
        double direction = s[Fields.GoalDirection];
        if (direction == 0 || double.IsNaN(goal))
        {
            return "";
        }
        string op = direction > 0 ? ">=" : "<=";
        return s[Fields.GoalOnRatio] == 1 ? $"{op} {F2(goal)}x" : $"{op} {Num(goal)}";
    }

    // Three significant digits or so, whatever the unit.
    private static string Num(double v) =>
        double.IsNaN(v) ? "-"
        : Math.Abs(v) >= 1000 ? v.ToString("0", s_inv)
        : Math.Abs(v) >= 100 ? v.ToString("0.0", s_inv)
        : Math.Abs(v) >= 10 ? v.ToString("0.00", s_inv)
        : v.ToString("0.000", s_inv);

    private static string F0(double v) => double.IsNaN(v) ? "-" : v.ToString("0", s_inv);

    private static string F1(double v) => double.IsNaN(v) ? "-" : v.ToString("0.0", s_inv);

    private static string F2(double v) => double.IsNaN(v) ? "-" : v.ToString("0.00", s_inv);
}
