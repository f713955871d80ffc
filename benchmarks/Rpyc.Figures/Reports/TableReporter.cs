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
        sb.AppendLine(s_inv, $"  {m.FrameworkDescription}, GC {m.GcMode}, Rpyc.dll {(m.RpycOptimized ? "optimized (Release)" : "NOT OPTIMIZED (Debug build: figures are meaningless)")}");
        sb.AppendLine(s_inv, $"  peer: Python {m.PythonVersion}, rpyc {m.RpycPythonVersion} (ThreadedServer, tests/python/demo_server.py)");
        sb.AppendLine(s_inv, $"  runs {o.Runs}, calls {o.Calls} after {o.Warmup} warmup, echoes {o.Echoes} after {o.EchoWarmup} warmup, brine {o.BrineSmallIterations}/{o.BrineLargeIterations} iterations");
        sb.AppendLine("  percentiles: nearest-rank; MB = 10^6 bytes; pay MB/s = payload bytes / mean round trip; wire MB/s = (bytes up + bytes down) / mean round trip; @p50 = pay MB/s at the median round trip");
        sb.AppendLine("  brine ns/op: median of 10 batches. B/call, MB alloc: bytes allocated by the calling thread per call (GC.GetAllocatedBytesForCurrentThread; that thread also reads and decodes the reply)");
        sb.AppendLine();
        return sb.ToString();
    }

    public static string RenderRun(RunResult run, int runs) =>
        Render($"Run {run.Index}/{runs}", run.Scenarios, failuresHeader: "fails");

    public static string RenderMedian(FiguresReport report) =>
        Render($"Median of {report.Runs.Count} run(s) (fails: total over the runs)", report.Median, failuresHeader: "fails") +
        RenderNotes(report.Median) +
        (report.TotalFailures == 0 ? "All results validated.\n" : $"FAILED: {report.TotalFailures} call(s) returned a wrong result or raised.\n");

    private static string Render(string heading, IReadOnlyList<ScenarioResult> scenarios, string failuresHeader)
    {
        var sb = new StringBuilder();
        sb.AppendLine(heading);
        const int TitleWidth = 54;
        ScenarioResult[] latency = scenarios.Where(s => s.Kind == ScenarioKind.Latency).ToArray();
        if (latency.Length > 0)
        {
            sb.AppendLine(s_inv, $"  {"latency (per round trip)",-TitleWidth} {"n",7} {"p50 us",9} {"p99 us",9} {"mean us",9} {"B/call",8} {failuresHeader,6}");
            foreach (ScenarioResult s in latency)
            {
                sb.AppendLine(s_inv, $"  {s.Title,-TitleWidth} {F0(s[Fields.N]),7} {F1(s[Fields.P50Us]),9} {F1(s[Fields.P99Us]),9} {F1(s[Fields.MeanUs]),9} {F0(s[Fields.AllocBytesPerCall]),8} {F0(s[Fields.Failures]),6}");
            }
        }
        ScenarioResult[] throughput = scenarios.Where(s => s.Kind == ScenarioKind.Throughput).ToArray();
        if (throughput.Length > 0)
        {
            sb.AppendLine(s_inv, $"  {"transfer (per call)",-TitleWidth} {"n",7} {"p50 ms",9} {"mean ms",9} {"pay MB/s",9} {"wire MB/s",9} {"@p50",7} {"MB alloc",8} {failuresHeader,6}");
            foreach (ScenarioResult s in throughput)
            {
                sb.AppendLine(s_inv, $"  {s.Title,-TitleWidth} {F0(s[Fields.N]),7} {F2(s[Fields.RttP50Ms]),9} {F2(s[Fields.RttMeanMs]),9} {F1(s[Fields.PayloadMBps]),9} {F1(s[Fields.WireMBps]),9} {F1(s[Fields.PayloadMBpsAtP50]),7} {F2(s[Fields.AllocBytesPerCall] / 1e6),8} {F0(s[Fields.Failures]),6}");
            }
        }
        ScenarioResult[] codec = scenarios.Where(s => s.Kind == ScenarioKind.Codec).ToArray();
        if (codec.Length > 0)
        {
            sb.AppendLine(s_inv, $"  {"brine, in process (quick; see Rpyc.MicroBenchmarks)",-TitleWidth} {"iters",7} {"ns/op",12} {"B/op",12}");
            foreach (ScenarioResult s in codec)
            {
                sb.AppendLine(s_inv, $"  {s.Title,-TitleWidth} {F0(s[Fields.Iterations]),7} {F0(s[Fields.NsPerOp]),12} {F0(s[Fields.BytesPerOp]),12}");
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
        foreach (ScenarioResult s in scenarios.Where(s => s.Note is not null))
        {
            sb.AppendLine(s_inv, $"  {s.Title}: {s.Note}");
        }
        return sb.AppendLine().ToString();
    }

    private static string F0(double v) => double.IsNaN(v) ? "-" : v.ToString("0", s_inv);

    private static string F1(double v) => double.IsNaN(v) ? "-" : v.ToString("0.0", s_inv);

    private static string F2(double v) => double.IsNaN(v) ? "-" : v.ToString("0.00", s_inv);
}
