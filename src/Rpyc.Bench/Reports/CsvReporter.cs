using System.Globalization;
using System.Text;

namespace Rpyc.Bench;

/// <summary>
/// Renders every figure of a report as CSV, one row per target and figure:
/// <c>target,benchmark,figure,unit,value,ci95_low,ci95_high,runs</c>, in the JSON's units (seconds,
/// bytes per second, requests per second, a fraction for rates), so a spreadsheet or a script needs
/// no conversion table. A pure function of the report; RFC 4180 quoting, invariant culture.
/// </summary>
public static class CsvReporter
{
    /// <summary>The header line.</summary>
    public const string Header = "target,benchmark,figure,unit,value,ci95_low,ci95_high,runs";

    /// <summary>Renders the report.</summary>
    /// <param name="report">The report.</param>
    /// <returns>The CSV text, header first.</returns>
    public static string Render(BenchmarkReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var csv = new StringBuilder(Header).Append('\n');
        foreach (TargetReport t in report.Targets)
        {
            void Row(string benchmark, string figure, string unit, double? value, Interval? ci = null)
            {
                if (value is not double v || !double.IsFinite(v))
                {
                    return;
                }
                csv.Append(Quote(t.Name)).Append(',').Append(benchmark).Append(',').Append(Quote(figure)).Append(',').Append(unit).Append(',')
                    .Append(N(v)).Append(',').Append(ci is { } i ? N(i.Low) : "").Append(',').Append(ci is { } j ? N(j.High) : "").Append(',')
                    .Append(t.RunCount.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
            void Stats(string benchmark, string prefix, Statistics? s)
            {
                if (s is null || s.Count == 0)
                {
                    return;
                }
                foreach ((string name, double value) in (ValueTuple<string, double>[])[("mean", s.Mean), ("p50", s.P50), ("p90", s.P90), ("p95", s.P95), ("p99", s.P99), ("p999", s.P999), ("max", s.Max)])
                {
                    Row(benchmark, prefix + name, "seconds", value, s.Ci95 is { } ci && ci.TryGetValue(name, out Interval i) ? i : null);
                }
            }
            Stats("connection", "connection_time_", t.Connection?.ConnectionTime);
            Stats("connection", "tcp_connect_", t.Connection?.TcpConnect);
            Stats("latency", "", t.Latency?.Latency);
            // A phase in which every request failed has no rate: no row rather than a 0.
            Row("latency", "throughput", "requests_per_second", t.Latency is { Successes: > 0 } l ? l.Throughput : null);
            Row("latency", "client_cpu_per_request", "seconds", t.Latency?.CpuPerRequest?.Client, t.Latency?.CpuPerRequest?.ClientCi95);
            Row("latency", "server_cpu_per_request", "seconds", t.Latency?.CpuPerRequest?.Server, t.Latency?.CpuPerRequest?.ServerCi95);
            Row("latency", "floor_ratio", "ratio", t.Latency?.Floor?.Ratio, t.Latency?.Floor?.RatioCi95);
            foreach ((string direction, IReadOnlyList<BandwidthSizeResult>? sizes) in (ValueTuple<string, IReadOnlyList<BandwidthSizeResult>?>[])[("upload", t.Bandwidth?.Upload), ("download", t.Bandwidth?.Download)])
            {
                foreach (BandwidthSizeResult s in (sizes ?? []).Where(s => s.Transfers > 0))
                {
                    Row($"{direction}_bandwidth", s.SizeBytes.ToString(CultureInfo.InvariantCulture), "bytes_per_second", s.BytesPerSecond, s.BytesPerSecondCi95);
                }
            }
            if (t.Concurrent is { } c)
            {
                Row("concurrent", "throughput", "requests_per_second", c.Successes > 0 ? c.Throughput : null, c.ThroughputCi95);
                Row("concurrent", "success_rate", "fraction", c.SuccessRate);
                Row("concurrent", "floor_ratio", "ratio", c.Floor?.Ratio, c.Floor?.RatioCi95);
                Stats("concurrent", "latency_", c.Latency);
            }
            Row("resources", "server_cpu_mean", "percent_of_one_core", t.ServerResources?.CpuPercentMean);
            Row("resources", "server_rss_peak", "bytes", t.ServerResources?.RssPeakBytes);
            Row("resources", "client_cpu_mean", "percent_of_one_core", t.ClientResources?.CpuPercentMean);
            Row("resources", "client_rss_peak", "bytes", t.ClientResources?.RssPeakBytes);
        }
        return csv.ToString();
    }

    /// <summary>Writes the CSV to a file (UTF-8).</summary>
    /// <param name="report">The report.</param>
    /// <param name="path">The file.</param>
    public static void Write(BenchmarkReport report, string path) => File.WriteAllText(path, Render(report), new UTF8Encoding(false));

    private static string N(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Quote(string text) =>
        text.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + text.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : text;
}
