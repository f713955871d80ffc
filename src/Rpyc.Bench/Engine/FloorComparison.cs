namespace Rpyc.Bench;

/// <summary>One figure of a target beside the same figure of the raw TCP floor.</summary>
/// <param name="Figure">The figure: <c>ping_p50</c>, <c>upload_1048576</c>, <c>download_1024</c>, <c>concurrent_throughput</c>.</param>
/// <param name="Ratio">Target ÷ floor: for a time, above 1 is slower than the floor; for a rate, below 1 is slower.</param>
/// <param name="BeatsFloor">
/// Whether the target did better than the floor beyond noise: with runs, the two 95 % intervals do not
/// overlap; with one run, by more than <see cref="FloorComparison.SingleRunNoise"/>. The floor is
/// meant to be the fastest plain-socket path, so such a figure says the floor, the placement of
/// threads or the machine's noise is off, not that the protocol is faster than TCP.
/// </param>
/// <param name="Paired">
/// Whether the two sides were measured in alternating blocks of the same time slices
/// (<see cref="LatencyResult.Floor"/>, <see cref="ConcurrentResult.Floor"/>); otherwise they are the two targets' own phases, measured
/// apart in time.
/// </param>
public sealed record FloorRatio(string Figure, double Ratio, bool BeatsFloor, bool Paired = false);

/// <summary>
/// Compares every target's headline figures with <c>tcp_raw</c>'s in the same run: ping p50, each
/// bandwidth size in each direction, concurrent throughput. The ping's and the throughput's ratios
/// are the paired ones (<see cref="LatencyResult.Floor"/>, <see cref="ConcurrentResult.Floor"/>)
/// when the target has them. Pure.
/// </summary>
public static class FloorComparison
{
    /// <summary>How much better than the floor a single-run figure must be to count as beating it: 10 %.</summary>
    public const double SingleRunNoise = 0.10;

    /// <summary>The target's figures beside the floor's; empty when the report has no ok floor or this is the floor.</summary>
    /// <param name="report">The run.</param>
    /// <param name="target">One of its targets.</param>
    /// <returns>The ratios, in figure order.</returns>
    public static IReadOnlyList<FloorRatio> Of(BenchmarkReport report, TargetReport target)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(target);
        TargetReport? floor = report.Targets.FirstOrDefault(t => t.Name == TargetCatalog.TcpRaw);
        if (floor is null || ReferenceEquals(floor, target) || floor.Remote != target.Remote
            || (target.Remote && !string.Equals(HostOf(floor.Endpoint), HostOf(target.Endpoint), StringComparison.OrdinalIgnoreCase)))
        {
            return [];
        }
        var ratios = new List<FloorRatio>();
        if (target.Latency?.Floor is { Failures: 0, Subject.Count: > 0, Reference.Count: > 0 } paired && double.IsFinite(paired.Ratio))
        {
            ratios.Add(Paired("ping_p50", paired.Ratio, paired.RatioCi95, higherIsBetter: false));
        }
        else if (target.Latency?.Latency is { Count: > 0 } ping && floor.Latency?.Latency is { Count: > 0 } floorPing)
        {
            ratios.Add(Time("ping_p50", ping.P50, Ci(ping, "p50"), floorPing.P50, Ci(floorPing, "p50")));
        }
        AddSizes(ratios, "upload", target.Bandwidth?.Upload, floor.Bandwidth?.Upload);
        AddSizes(ratios, "download", target.Bandwidth?.Download, floor.Bandwidth?.Download);
        if (target.Concurrent?.Floor is { Failures: 0, Subject: > 0, Reference: > 0 } pairedRate && double.IsFinite(pairedRate.Ratio))
        {
            ratios.Add(Paired("concurrent_throughput", pairedRate.Ratio, pairedRate.RatioCi95, higherIsBetter: true));
        }
        else if (target.Concurrent is { Successes: > 0 } k && floor.Concurrent is { Successes: > 0 } fk)
        {
            ratios.Add(Rate("concurrent_throughput", k.Throughput, k.ThroughputCi95, fk.Throughput, fk.ThroughputCi95));
        }
        return ratios;
    }

    private static void AddSizes(List<FloorRatio> ratios, string direction, IReadOnlyList<BandwidthSizeResult>? sizes, IReadOnlyList<BandwidthSizeResult>? floorSizes)
    {
        foreach (BandwidthSizeResult s in sizes ?? [])
        {
            if (s.Transfers > 0 && floorSizes?.FirstOrDefault(f => f.SizeBytes == s.SizeBytes) is { Transfers: > 0 } f)
            {
                ratios.Add(Rate($"{direction}_{s.SizeBytes}", s.BytesPerSecond, s.BytesPerSecondCi95, f.BytesPerSecond, f.BytesPerSecondCi95));
            }
        }
    }

    // A ratio measured beside the floor in the same time slices: it beats the floor when its interval
    // over runs lies wholly on the better side of 1, or with one run by more than SingleRunNoise.
    private static FloorRatio Paired(string figure, double ratio, Interval? ci, bool higherIsBetter)
    {
        bool beats = ci is { } i
            ? (higherIsBetter ? i.Low > 1 : i.High < 1)
            : (higherIsBetter ? ratio > 1 + SingleRunNoise : ratio < 1 - SingleRunNoise);
        return new FloorRatio(figure, ratio, beats, Paired: true);
    }

    private static Interval? Ci(Statistics s, string figure) => s.Ci95 is { } ci && ci.TryGetValue(figure, out Interval i) ? i : null;

    // A time: lower is better.
    private static FloorRatio Time(string figure, double value, Interval? ci, double floor, Interval? floorCi)
    {
        bool beats = ci is { } a && floorCi is { } b ? a.High < b.Low : value < floor * (1 - SingleRunNoise);
        return new FloorRatio(figure, value / floor, beats);
    }

    // A rate: higher is better.
    private static FloorRatio Rate(string figure, double value, Interval? ci, double floor, Interval? floorCi)
    {
        bool beats = ci is { } a && floorCi is { } b ? a.Low > b.High : value > floor * (1 + SingleRunNoise);
        return new FloorRatio(figure, value / floor, beats);
    }

    // A remote target is compared with a floor on its own host only (as given, like the pairing in
    // TargetSession): across two hosts the ratio would compare their networks. The host of
    // "HOST:PORT", "[IPv6]:PORT", either perhaps followed by " via relay ...".
    private static string? HostOf(string? endpoint)
    {
        if (endpoint is null)
        {
            return null;
        }
        int space = endpoint.IndexOf(' ', StringComparison.Ordinal);
        string hostPort = space < 0 ? endpoint : endpoint[..space];
        // Not HOST:PORT (written by hand into a report): the whole text stands for the host.
        return HostPortText.TryParse(hostPort, minPort: 0, allowEmptyHost: false, out string host, out _, out _) ? host : hostPort;
    }
}
