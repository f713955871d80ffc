namespace Rpyc.Bench;

/// <summary>Connection time: a new TCP connection up to the first validated reply.</summary>
public sealed class ConnectionResult
{
    /// <summary>The benchmark's name.</summary>
    public required string Name { get; init; }

    /// <summary>From the start of the TCP connect to the first validated reply, in seconds.</summary>
    public required Statistics ConnectionTime { get; init; }

    /// <summary>The TCP connect part alone, in seconds.</summary>
    public required Statistics TcpConnect { get; init; }

    /// <summary>Connections that got a valid first reply.</summary>
    public required long Successes { get; init; }

    /// <summary>Connections that failed (refused, timed out, invalid reply).</summary>
    public required long Failures { get; init; }

    /// <summary>Round trips the first reply needed (RPyC: GETROOT and the call), or <c>null</c> when unknown.</summary>
    public double? RoundTripsPerConnection { get; init; }

    /// <summary>Wall time of the measured phase, in seconds.</summary>
    public required double Seconds { get; init; }

    /// <summary>The first failure's message, or <c>null</c>.</summary>
    public string? FirstError { get; init; }

    /// <summary>Wall time of the warmup connections, in seconds, or <c>null</c> when not measured.</summary>
    public double? WarmupSeconds { get; init; }

    /// <summary>With a JIT probe: whether the JIT went quiet before the warmup's bound; otherwise <c>null</c>.</summary>
    public bool? WarmupSettled { get; init; }

    /// <summary>Warmup connections that failed (not in <see cref="Failures"/>; the report names them).</summary>
    public long WarmupFailures { get; init; }
}

/// <summary>Latency of one operation on a warm connection.</summary>
public sealed class LatencyResult
{
    /// <summary>The benchmark's name.</summary>
    public required string Name { get; init; }

    /// <summary>The operation measured, e.g. <c>ping</c>.</summary>
    public required string Operation { get; init; }

    /// <summary>Durations of the successful requests, in seconds.</summary>
    public required Statistics Latency { get; init; }

    /// <summary>Successful requests.</summary>
    public required long Successes { get; init; }

    /// <summary>Failed requests (exceptions and invalid replies).</summary>
    public required long Failures { get; init; }

    /// <summary>Wall time of the measured phase, in seconds.</summary>
    public required double Seconds { get; init; }

    /// <summary>Successful requests per second of the measured phase.</summary>
    public double Throughput => Seconds > 0 ? Successes / Seconds : 0;

    /// <summary>Network round trips per request, when the protocol counts them.</summary>
    public double? RoundTripsPerRequest { get; init; }

    /// <summary>
    /// New TCP connections the client opened per request during the measured phase, when the client
    /// counts them: 0 on a kept connection, 1 when the server closed it after every reply.
    /// </summary>
    public double? ConnectionsPerRequest { get; init; }

    /// <summary>
    /// The CPU seconds each side spent per measured request (<see cref="LatencyBenchmark.Cpu"/>), or
    /// <c>null</c> when not measured. In the suite: the client process's, and the server process
    /// tree's when it runs on this machine in a process of its own. A side that waits by polling (a
    /// receive spin) counts the polling too.
    /// </summary>
    public CpuPerRequest? CpuPerRequest { get; init; }

    /// <summary>The raw samples in <see cref="Clock"/> ticks, when kept.</summary>
    public IReadOnlyList<long>? SampleTicks { get; init; }

    /// <summary>The first failure's message, or <c>null</c>.</summary>
    public string? FirstError { get; init; }

    /// <summary>How long the warmup before the measured phase took, in seconds, when known.</summary>
    public double? WarmupSeconds { get; init; }

    /// <summary>
    /// With <see cref="LatencyBenchmark.JitActivity"/>: whether the JIT went quiet before the warmup's bound
    /// (<c>false</c>: the measured phase may have timed code being recompiled); otherwise <c>null</c>.
    /// </summary>
    public bool? WarmupSettled { get; init; }

    /// <summary>Warmup requests that failed (not in <see cref="Failures"/>: the warmup is not measured, but a failing server is reported).</summary>
    public long WarmupFailures { get; init; }

    /// <summary>
    /// The same operation measured again beside the raw TCP floor's ping, in alternating blocks
    /// (<see cref="PairedLatencyBenchmark"/>), when the suite ran the floor too: the ratio to the
    /// floor of the same time slices. <c>null</c> for the floor itself, a Python client, or a run without the floor.
    /// </summary>
    public PairedLatencyResult? Floor { get; init; }
}

/// <summary>Transfers of one payload size in one direction.</summary>
public sealed class BandwidthSizeResult
{
    /// <summary>Payload size in bytes.</summary>
    public required int SizeBytes { get; init; }

    /// <summary>Successful transfers.</summary>
    public required long Transfers { get; init; }

    /// <summary>Failed transfers.</summary>
    public required long Failures { get; init; }

    /// <summary>Payload bytes moved by the successful transfers (protocol overhead excluded).</summary>
    public long Bytes => Transfers * SizeBytes;

    /// <summary>Total time of the successful transfers, in seconds.</summary>
    public required double Seconds { get; init; }

    /// <summary>
    /// Bytes per second: <see cref="Bytes"/> / <see cref="Seconds"/> for one run; across runs, the
    /// median of the runs' rates (see <see cref="Runs"/>).
    /// </summary>
    public double BytesPerSecond
    {
        get => _bytesPerSecond ?? (Seconds > 0 ? Bytes / Seconds : 0);
        init => _bytesPerSecond = value;
    }

    private readonly double? _bytesPerSecond;

    /// <summary>Each run's result for this size, in run order, when this one combines several runs; otherwise <c>null</c>.</summary>
    public IReadOnlyList<BandwidthSizeResult>? Runs { get; init; }

    /// <summary>With <see cref="Runs"/>: the 95 % confidence interval of <see cref="BytesPerSecond"/> across the runs.</summary>
    public Interval? BytesPerSecondCi95 { get; init; }

    /// <summary>Duration of one transfer, in seconds.</summary>
    public required Statistics Latency { get; init; }

    /// <summary>The first failure's message, or <c>null</c>.</summary>
    public string? FirstError { get; init; }
}

/// <summary>Upload and download bandwidth per payload size; never averaged across sizes.</summary>
public sealed class BandwidthResult
{
    /// <summary>The benchmark's name.</summary>
    public required string Name { get; init; }

    /// <summary>Client to server, one entry per size.</summary>
    public required IReadOnlyList<BandwidthSizeResult> Upload { get; init; }

    /// <summary>Server to client, one entry per size.</summary>
    public required IReadOnlyList<BandwidthSizeResult> Download { get; init; }

    /// <summary>Failed transfers in both directions.</summary>
    public long Failures => Upload.Sum(r => r.Failures) + Download.Sum(r => r.Failures);
}

/// <summary>One client of a concurrent run.</summary>
public sealed class ClientResult
{
    /// <summary>The client's index.</summary>
    public required int Client { get; init; }

    /// <summary>Successful requests.</summary>
    public required long Successes { get; init; }

    /// <summary>Failed requests, including those never sent because the client could not connect.</summary>
    public required long Failures { get; init; }

    /// <summary>From the client's first request to its last reply, in seconds.</summary>
    public required double Seconds { get; init; }

    /// <summary>Successful requests per second for this client.</summary>
    public double Throughput => Seconds > 0 ? Successes / Seconds : 0;

    /// <summary>This client's request durations, in seconds.</summary>
    public required Statistics Latency { get; init; }
}

/// <summary>N clients each sending M requests at once, released together by a start barrier.</summary>
public sealed class ConcurrentResult
{
    /// <summary>The benchmark's name.</summary>
    public required string Name { get; init; }

    /// <summary>Number of clients (connections).</summary>
    public required int Clients { get; init; }

    /// <summary>Requests each client was asked to send.</summary>
    public required int RequestsPerClient { get; init; }

    /// <summary>Successful requests.</summary>
    public required long Successes { get; init; }

    /// <summary>Failed requests.</summary>
    public required long Failures { get; init; }

    /// <summary>Requests counted: successes plus failures.</summary>
    public long TotalRequests => Successes + Failures;

    /// <summary>Successes / total requests (0 when nothing ran).</summary>
    public double SuccessRate => TotalRequests > 0 ? (double)Successes / TotalRequests : 0;

    /// <summary>From the barrier's release to the last client's end, in seconds.</summary>
    public required double Seconds { get; init; }

    /// <summary>
    /// Successful requests per second across all clients for one run; across runs, the median of the
    /// runs' throughputs (see <see cref="Runs"/>).
    /// </summary>
    public double Throughput
    {
        get => _throughput ?? (Seconds > 0 ? Successes / Seconds : 0);
        init => _throughput = value;
    }

    private readonly double? _throughput;

    /// <summary>Each run's result, in run order, when this one combines several runs; otherwise <c>null</c>.</summary>
    public IReadOnlyList<ConcurrentResult>? Runs { get; init; }

    /// <summary>With <see cref="Runs"/>: the 95 % confidence interval of <see cref="Throughput"/> across the runs.</summary>
    public Interval? ThroughputCi95 { get; init; }

    /// <summary>Latency under load: every client's request durations merged, in seconds.</summary>
    public required Statistics Latency { get; init; }

    /// <summary>Per-client results.</summary>
    public required IReadOnlyList<ClientResult> PerClient { get; init; }

    /// <summary>
    /// The same clients' throughput measured again beside the raw TCP floor's in alternating time
    /// slices (<see cref="PairedConcurrentBenchmark"/>), when the suite had a floor; otherwise <c>null</c>.
    /// </summary>
    /// <remarks>Set by the suite once, right after its own measurement, before the result is reported.</remarks>
    public PairedThroughputResult? Floor { get; internal set; }

    /// <summary>The first failure's message, or <c>null</c>.</summary>
    public string? FirstError { get; init; }
}

/// <summary>CPU and memory of one process (and its descendants for servers) over a window.</summary>
public sealed class ResourceUsage
{
    /// <summary>The sampled process id.</summary>
    public required int ProcessId { get; init; }

    /// <summary>User plus system CPU time used in the window, in seconds.</summary>
    public required double CpuSeconds { get; init; }

    /// <summary>CPU time / wall time × 100 (100 = one core busy).</summary>
    public required double CpuPercentMean { get; init; }

    /// <summary>The highest CPU percent of one sampling interval.</summary>
    public required double CpuPercentMax { get; init; }

    /// <summary>The highest resident set size seen, in bytes.</summary>
    public required long RssPeakBytes { get; init; }

    /// <summary>The mean resident set size over the samples, in bytes.</summary>
    public required double RssMeanBytes { get; init; }

    /// <summary>Samples taken.</summary>
    public required int Samples { get; init; }

    /// <summary>The window's length, in seconds.</summary>
    public required double WallSeconds { get; init; }
}

/// <summary>What <c>wrk</c> measured against the same server: the reference load generator.</summary>
public sealed class WrkResult
{
    /// <summary>Requests per second wrk reached.</summary>
    public required double RequestsPerSecond { get; init; }

    /// <summary>wrk's connections (<c>-c</c>), equal to the concurrent benchmark's clients.</summary>
    public required int Connections { get; init; }

    /// <summary>wrk's threads (<c>-t</c>).</summary>
    public required int Threads { get; init; }

    /// <summary>wrk's run length, in seconds.</summary>
    public required double Seconds { get; init; }

    /// <summary>The path requested.</summary>
    public required string Path { get; init; }

    /// <summary>rpycbench's own clients on the same server, same connections and duration, just before wrk (requests per second).</summary>
    public double? RpycbenchRequestsPerSecond { get; init; }

    /// <summary><see cref="RpycbenchRequestsPerSecond"/> / <see cref="RequestsPerSecond"/>: 1 means the load generator is as cheap as wrk.</summary>
    public double? Ratio => RpycbenchRequestsPerSecond is double ours && RequestsPerSecond > 0 ? ours / RequestsPerSecond : null;
}
