namespace Rpyc.Bench;

/// <summary>A figure a sweep plots and tabulates against its parameters, read from one target's report at one point.</summary>
/// <param name="Key">The figure's key, also the plot's file name stem.</param>
/// <param name="Title">What it is.</param>
/// <param name="Unit">Its unit after <paramref name="Value"/>'s scaling.</param>
/// <param name="Value">The figure, or <c>null</c> when the target did not measure it.</param>
/// <param name="Label">A short column label with the unit, for tables.</param>
public sealed record SweepFigure(string Key, string Title, string Unit, Func<TargetReport, double?> Value, string Label)
{
    private const double Mib = 1024 * 1024;

    /// <summary>
    /// The figures: latency (ping) p50 and p99, connection time p50, the concurrent benchmark's
    /// throughput and latency p50 and p99, and upload and download bandwidth at the point's largest
    /// payload size (its only one when payload sizes are swept).
    /// </summary>
    public static IReadOnlyList<SweepFigure> All { get; } =
    [
        new("latency_p50", "Latency p50 (ping, warm connection)", "µs", r => Stat(r.Latency?.Latency, s => s.P50, 1e6), "ping p50 µs"),
        new("latency_p99", "Latency p99 (ping, warm connection)", "µs", r => Stat(r.Latency?.Latency, s => s.P99, 1e6), "ping p99 µs"),
        new("connection_time_p50", "Connection time p50 (connect to first valid reply)", "ms", r => Stat(r.Connection?.ConnectionTime, s => s.P50, 1e3), "connect p50 ms"),
        new("concurrent_throughput", "Concurrent throughput", "requests / s", r => r.Concurrent is { Successes: > 0 } c ? c.Throughput : null, "concurrent req/s"),
        new("concurrent_latency_p50", "Concurrent latency p50 (under load)", "µs", r => Stat(r.Concurrent?.Latency, s => s.P50, 1e6), "concurrent p50 µs"),
        new("concurrent_latency_p99", "Concurrent latency p99 (under load)", "µs", r => Stat(r.Concurrent?.Latency, s => s.P99, 1e6), "concurrent p99 µs"),
        new("upload_bandwidth", "Upload bandwidth (largest payload size of the point)", "MiB / s", r => Largest(r.Bandwidth?.Upload), "upload MiB/s"),
        new("download_bandwidth", "Download bandwidth (largest payload size of the point)", "MiB / s", r => Largest(r.Bandwidth?.Download), "download MiB/s"),
    ];

    private static double? Stat(Statistics? stats, Func<Statistics, double> figure, double scale) =>
        stats is { Count: > 0 } s && double.IsFinite(figure(s)) ? figure(s) * scale : null;

    private static double? Largest(IReadOnlyList<BandwidthSizeResult>? sizes) =>
        sizes?.MaxBy(s => s.SizeBytes) is { Transfers: > 0 } s ? s.BytesPerSecond / Mib : null;
}
