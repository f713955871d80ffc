using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Rpyc.Bench;

// The JSON of a context's statistics, with JsonReporter's conventions: seconds, bytes, bytes per
// second, culture-invariant numbers, and null for a value that does not exist.
internal static class ContextJson
{
    public static string Render(ContextStatistics s)
    {
        ArgumentNullException.ThrowIfNull(s);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteString("name", s.Name);
            w.WriteString("protocol", s.Protocol);
            w.WriteString("server_mode", s.ServerMode);
            Number(w, "duration", s.Seconds);
            w.WriteStartObject("requests");
            w.WriteNumber("total", s.Requests);
            w.WriteNumber("successful", s.Requests - s.Failures);
            w.WriteNumber("failed", s.Failures);
            Number(w, "success_rate", s.Requests > 0 ? s.SuccessRate : null);
            Number(w, "throughput", s.Seconds > 0 ? s.Throughput : null);
            w.WriteNumber("bytes_sent", s.BytesSent);
            w.WriteNumber("bytes_received", s.BytesReceived);
            Number(w, "bytes_sent_per_second", s.Seconds > 0 ? s.BytesSentPerSecond : null);
            Number(w, "bytes_received_per_second", s.Seconds > 0 ? s.BytesReceivedPerSecond : null);
            w.WriteEndObject();
            Stats(w, "latency", s.Latency);
            Stats(w, "connection_time", s.ConnectionTime);
            if (s.Bandwidth is { } b)
            {
                w.WriteStartObject("bandwidth");
                w.WriteNumber("transfers", b.Transfers);
                w.WriteNumber("failures", b.Failures);
                w.WriteNumber("bytes", b.Bytes);
                Number(w, "seconds", b.Seconds);
                Number(w, "bytes_per_second", b.Seconds > 0 ? b.BytesPerSecond : null);
                Stats(w, "per_transfer", b.PerTransfer);
                Stats(w, "transfer_time", b.TransferTime);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("bandwidth");
            }
            w.WriteStartObject("counters");
            foreach (KeyValuePair<string, long> kv in s.Counters.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WriteNumber(kv.Key, kv.Value);
            }
            w.WriteEndObject();
            w.WriteStartObject("timings");
            foreach (KeyValuePair<string, Statistics> kv in s.Timings.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                Stats(w, kv.Key, kv.Value);
            }
            w.WriteEndObject();
            if (s.SystemMetrics is { } u)
            {
                w.WriteStartObject("cpu_usage");
                w.WriteNumber("pid", u.ProcessId);
                Number(w, "cpu_seconds", u.CpuSeconds);
                Number(w, "mean", u.CpuPercentMean);
                Number(w, "max", u.CpuPercentMax);
                Number(w, "wall_seconds", u.WallSeconds);
                w.WriteEndObject();
                w.WriteStartObject("memory_usage");
                w.WriteNumber("peak", u.RssPeakBytes);
                Number(w, "mean", u.RssMeanBytes);
                w.WriteNumber("samples", u.Samples);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("cpu_usage");
                w.WriteNull("memory_usage");
            }
            w.WriteStartObject("units");
            w.WriteString("time", "seconds");
            w.WriteString("size", "bytes");
            w.WriteString("bandwidth", "bytes_per_second");
            w.WriteString("throughput", "requests_per_second");
            w.WriteString("cpu", "percent_of_one_core");
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    // The report's own stats and number writers, so a context's JSON reads like a run's.
    private static void Stats(Utf8JsonWriter w, string name, Statistics s)
    {
        w.WriteStartObject(name);
        JsonReporter.Stats(w, s, null);
        w.WriteEndObject();
    }

    private static void Number(Utf8JsonWriter w, string name, double? value) => JsonReporter.Number(w, name, value);
}
