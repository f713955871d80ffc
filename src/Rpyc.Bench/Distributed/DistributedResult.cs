namespace Rpyc.Bench;

/// <summary>
/// Load from Locust's master and workers against one target (<c>rpycbench locust</c>): throughput
/// and failures as Locust counted them, latency from the workers' microsecond histograms merged
/// on the master. The clients are Python ones (Locust's users, with rpyc or <c>http.client</c>),
/// whatever the server: their own cost is in every figure.
/// </summary>
public sealed class DistributedResult
{
    /// <summary>The operation each user repeated: <c>ping</c> or <c>echo</c>.</summary>
    public required string Operation { get; init; }

    /// <summary>Echo's payload bytes; 0 for ping.</summary>
    public int PayloadBytes { get; init; }

    /// <summary>Workers whose reports reached the master.</summary>
    public int Workers => PerWorker.Count;

    /// <summary>Locust users in all, spread over the workers.</summary>
    public required int Users { get; init; }

    /// <summary>Locust's window, first to last request, in seconds.</summary>
    public required double Seconds { get; init; }

    /// <summary>Requests Locust counted (successes and failures).</summary>
    public required long Requests { get; init; }

    /// <summary>Failed requests Locust counted (a wrong reply is a failure).</summary>
    public required long Failures { get; init; }

    /// <summary>Successful requests whose reply was checked (equals the histogram's count).</summary>
    public required long Validated { get; init; }

    /// <summary>Requests per second over <see cref="Seconds"/>.</summary>
    public double Throughput => Seconds > 0 ? Requests / Seconds : 0;

    /// <summary>The merged latency of the successful requests, in seconds (percentiles within 0.5 %: 1 % log buckets).</summary>
    public required Statistics Latency { get; init; }

    /// <summary>Each worker's own figures, as it reported them.</summary>
    public required IReadOnlyList<DistributedWorker> PerWorker { get; init; }

    /// <summary>Who the clients were, for the report: Locust's Python users.</summary>
    public string Clients { get; init; } = "Python (Locust users)";
}

/// <summary>One Locust worker's share of a distributed run.</summary>
/// <param name="Id">Locust's id of the worker (host name and a random suffix).</param>
/// <param name="Requests">Its successful and failed requests.</param>
/// <param name="Failures">Its failed requests.</param>
/// <param name="Throughput">Its requests per second over the run's window.</param>
/// <param name="Latency">Its latency, in seconds.</param>
public sealed record DistributedWorker(string Id, long Requests, long Failures, double Throughput, Statistics Latency);
