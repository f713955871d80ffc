namespace Rpyc.Bench;

/// <summary>
/// The CPU time each side spent per request over a phase's measured requests
/// (<see cref="LatencyBenchmark.Cpu"/>), in seconds; a side that was not measured is <c>null</c>.
/// Over runs, each side is the median of the runs', with the runs in order and a 95 % interval.
/// </summary>
/// <param name="Client">The client's CPU seconds per request (in the suite, its process's).</param>
/// <param name="Server">The server's CPU seconds per request (in the suite, its process tree's).</param>
public sealed record CpuPerRequest(double? Client, double? Server)
{
    /// <summary>Each run's figure, in order, when this one combines runs; otherwise <c>null</c>.</summary>
    public IReadOnlyList<CpuPerRequest>? Runs { get; init; }

    /// <summary>The 95 % confidence interval of <see cref="Client"/> over the runs, when there are two or more.</summary>
    public Interval? ClientCi95 { get; init; }

    /// <summary>The 95 % confidence interval of <see cref="Server"/> over the runs, when there are two or more.</summary>
    public Interval? ServerCi95 { get; init; }

    // Two parts of one run (a figure taken over several connections in turn), weighted by their requests.
    internal static CpuPerRequest? Weighted(CpuPerRequest? first, long firstRequests, CpuPerRequest? next, long nextRequests)
    {
        if (first is null || next is null)
        {
            return first ?? next;
        }
        return new CpuPerRequest(
            Weighted(first.Client, firstRequests, next.Client, nextRequests),
            Weighted(first.Server, firstRequests, next.Server, nextRequests));
    }

    // Each side's median of the runs that measured it; null when no run measured either side.
    internal static CpuPerRequest? AcrossRuns(IReadOnlyList<CpuPerRequest?> runs)
    {
        CpuPerRequest[] measured = [.. runs.OfType<CpuPerRequest>()];
        if (measured.Length == 0)
        {
            return null;
        }
        double[] clients = [.. measured.Select(r => r.Client).OfType<double>()];
        double[] servers = [.. measured.Select(r => r.Server).OfType<double>()];
        return new CpuPerRequest(
            clients.Length == 0 ? null : ConfidenceInterval.Median(clients),
            servers.Length == 0 ? null : ConfidenceInterval.Median(servers))
        {
            Runs = measured,
            ClientCi95 = ConfidenceInterval.Of95(clients),
            ServerCi95 = ConfidenceInterval.Of95(servers),
        };
    }

    private static double? Weighted(double? a, long na, double? b, long nb) =>
        a is double x && b is double y && na + nb > 0 ? ((x * na) + (y * nb)) / (na + nb) : a ?? b;
}
