using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Rpyc.Figures.Reports;

/// <summary>The report as JSON; a pure function of the report (numbers are written culture-free by Utf8JsonWriter).</summary>
internal static class JsonReporter
{
    public static string Render(FiguresReport report)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions
        {
            Indented = true,
            // A report file, never embedded in HTML: keep '+', '<', '>' and quotes readable.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            w.WriteStartObject();
            w.WriteStartObject("machine");
            MachineInfo m = report.Machine;
            w.WriteNumber("processor_count", m.ProcessorCount);
            w.WriteString("os", m.OSDescription);
            w.WriteString("framework", m.FrameworkDescription);
            w.WriteString("architecture", m.ProcessArchitecture);
            w.WriteString("gc", m.GcMode);
            w.WriteBoolean("rpyc_optimized", m.RpycOptimized);
            w.WriteString("python", m.PythonVersion);
            w.WriteString("rpyc_python", m.RpycPythonVersion);
            w.WriteNumber("stopwatch_frequency", m.StopwatchFrequency);
            w.WriteString("taken_at", m.TakenAt);
            if (double.IsFinite(m.LoadAverageAtStart))
            {
                w.WriteNumber("load_average_at_start", m.LoadAverageAtStart);
            }
            w.WriteEndObject();
            w.WriteStartObject("settings");
            w.WriteString("mode", report.Options.Mode.ToString().ToLowerInvariant());
            w.WriteNumber("runs", report.Options.Runs);
            w.WriteNumber("calls", report.Options.Calls);
            w.WriteNumber("warmup", report.Options.Warmup);
            w.WriteNumber("warmup_min_s", report.Options.WarmupMinSeconds);
            w.WriteNumber("warmup_settle_s", report.Options.WarmupSettleSeconds);
            w.WriteNumber("warmup_max_s", report.Options.WarmupMaxSeconds);
            w.WriteString("warmup_rule", "every warmup makes its count, lasts warmup_min_s, then goes on until the JIT (methods compiled in this process, CPU of the server's tiered-compilation thread) was quiet for warmup_settle_s, at most warmup_max_s; warmup_s, warmup_calls and warmup_unsettled per figure");
            w.WriteNumber("echoes", report.Options.Echoes);
            w.WriteNumber("echo_warmup", report.Options.EchoWarmup);
            if (report.Options.Mode is FiguresMode.Servers or FiguresMode.Breakdown)
            {
                w.WriteNumber("transfers", report.Options.Transfers);
                w.WriteNumber("transfer_warmup", report.Options.TransferWarmup);
                w.WriteNumber("connections", report.Options.Connections);
                w.WriteNumber("duration_s", report.Options.DurationSeconds);
                w.WriteNumber("throughput_warmup", report.Options.ThroughputWarmup);
                w.WriteNumber("connects", report.Options.Connects);
                w.WriteNumber("connect_warmup", report.Options.ConnectWarmup);
                w.WriteNumber("connect_gap_ms", report.Options.ConnectGapMs);
                w.WriteNumber("back_to_back", report.Options.BackToBack);
                w.WriteNumber("wait_idle_s", report.Options.WaitIdleSeconds);
                w.WriteString("ratio", "value / reference of the same run; in the median, each of value, reference and ratio is the median over the runs");
            }
            else
            {
                w.WriteNumber("brine_small_iterations", report.Options.BrineSmallIterations);
                w.WriteNumber("brine_large_iterations", report.Options.BrineLargeIterations);
            }
            w.WriteString("percentiles", "nearest-rank");
            w.WriteString("mb", "10^6 bytes; payload_mb_per_s = payload bytes / mean round trip; wire_mb_per_s = (bytes up + bytes down) / mean round trip; payload_mb_per_s_at_p50 uses the median round trip");
            w.WriteEndObject();
            w.WriteNumber("total_failures", report.TotalFailures);
            w.WriteStartArray("runs");
            foreach (RunResult run in report.Runs)
            {
                w.WriteStartObject();
                w.WriteNumber("index", run.Index);
                if (double.IsFinite(run.LoadAverageAtStart))
                {
                    w.WriteNumber("load_average_at_start", run.LoadAverageAtStart);
                }
                if (double.IsFinite(run.OthersCores))
                {
                    w.WriteNumber("other_programs_cores", Math.Round(run.OthersCores, 3));
                }
                WriteScenarios(w, "scenarios", run.Scenarios);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            WriteScenarios(w, "median", report.Median);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteScenarios(Utf8JsonWriter w, string name, IReadOnlyList<ScenarioResult> scenarios)
    {
        w.WriteStartObject(name);
        foreach (ScenarioResult s in scenarios)
        {
            w.WriteStartObject(s.Key);
            w.WriteString("title", s.Title);
            w.WriteString("kind", s.Kind.ToString().ToLowerInvariant());
            if (s.ReportedNote is not null)
            {
                w.WriteString("note", s.ReportedNote);
            }
            foreach ((string field, double value) in s.Values)
            {
                if (double.IsFinite(value))
                {
                    // Nanosecond resolution is all the clocks give: drop the binary noise past it.
                    w.WriteNumber(field, Math.Round(value, 3));
                }
                else
                {
                    w.WriteNull(field);
                }
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }
}
