using Rpyc.Figures.Statistics;

namespace Rpyc.Figures.Reports;

/// <summary>How a scenario's figures are laid out in the table.</summary>
internal enum ScenarioKind
{
    Latency,
    Throughput,
    Codec,
}

/// <summary>Names of the figures a scenario reports; the JSON keys too.</summary>
internal static class Fields
{
    public const string N = "n";
    public const string Failures = "failures";
    public const string P50Us = "p50_us";
    public const string P90Us = "p90_us";
    public const string P99Us = "p99_us";
    public const string MeanUs = "mean_us";
    public const string MinUs = "min_us";
    public const string MaxUs = "max_us";
    public const string AllocBytesPerCall = "alloc_bytes_per_call";
    public const string BytesUpPerCall = "bytes_up_per_call";
    public const string BytesDownPerCall = "bytes_down_per_call";
    public const string RttP50Ms = "rtt_p50_ms";
    public const string RttMeanMs = "rtt_mean_ms";
    public const string PayloadMBps = "payload_mb_per_s";
    public const string WireMBps = "wire_mb_per_s";
    public const string PayloadMBpsAtP50 = "payload_mb_per_s_at_p50";
    public const string Iterations = "iterations";
    public const string NsPerOp = "ns_per_op";
    public const string BytesPerOp = "alloc_bytes_per_op";
}

/// <summary>The figures of one scenario in one run (or their medians over the runs).</summary>
internal sealed record ScenarioResult(string Key, string Title, ScenarioKind Kind, IReadOnlyDictionary<string, double> Values, string? Note = null)
{
    public double this[string field] => Values.TryGetValue(field, out double v) ? v : double.NaN;

    public static ScenarioResult Latency(string key, string title, LatencyStats stats, int failures, double? allocBytesPerCall = null, string? note = null)
    {
        var values = new Dictionary<string, double>
        {
            [Fields.N] = stats.N,
            [Fields.Failures] = failures,
            [Fields.P50Us] = stats.P50Us,
            [Fields.P90Us] = stats.P90Us,
            [Fields.P99Us] = stats.P99Us,
            [Fields.MeanUs] = stats.MeanUs,
            [Fields.MinUs] = stats.MinUs,
            [Fields.MaxUs] = stats.MaxUs,
        };
        if (allocBytesPerCall is double alloc)
        {
            values[Fields.AllocBytesPerCall] = alloc;
        }
        return new ScenarioResult(key, title, ScenarioKind.Latency, values, note);
    }

    /// <summary>
    /// Bulk transfer: payload MB/s is the payload size (one direction) over the mean round trip;
    /// wire MB/s counts every payload byte that crossed the socket (up + down). MB = 10^6 bytes.
    /// The payload rate at the median round trip is kept too: it ignores the occasional stalled call.
    /// </summary>
    public static ScenarioResult Throughput(string key, string title, LatencyStats rtt, int failures, long payloadBytes, long bytesUp, long bytesDown, double? allocBytesPerCall = null, string? note = null)
    {
        double meanSeconds = rtt.MeanUs / 1e6;
        var values = new Dictionary<string, double>
        {
            [Fields.N] = rtt.N,
            [Fields.Failures] = failures,
            [Fields.BytesUpPerCall] = bytesUp,
            [Fields.BytesDownPerCall] = bytesDown,
            [Fields.RttP50Ms] = rtt.P50Us / 1000,
            [Fields.RttMeanMs] = rtt.MeanUs / 1000,
            [Fields.PayloadMBps] = payloadBytes / meanSeconds / 1e6,
            [Fields.WireMBps] = (bytesUp + bytesDown) / meanSeconds / 1e6,
            [Fields.PayloadMBpsAtP50] = payloadBytes / (rtt.P50Us / 1e6) / 1e6,
        };
        if (allocBytesPerCall is double alloc)
        {
            values[Fields.AllocBytesPerCall] = alloc;
        }
        return new ScenarioResult(key, title, ScenarioKind.Throughput, values, note);
    }

    public static ScenarioResult Codec(string key, string title, long iterations, double nsPerOp, double bytesPerOp) =>
        new(key, title, ScenarioKind.Codec, new Dictionary<string, double>
        {
            [Fields.Iterations] = iterations,
            [Fields.NsPerOp] = nsPerOp,
            [Fields.BytesPerOp] = bytesPerOp,
        });
}
