namespace Rpyc.Bench;

/// <summary>What <see cref="BenchmarkSuite.RunAll"/> runs, and how much.</summary>
public sealed class SuiteOptions
{
    /// <summary>The .NET targets run by default.</summary>
    public static IReadOnlyList<string> DefaultTargets { get; } =
        [TargetCatalog.RpycThreaded, TargetCatalog.RpycForking, TargetCatalog.HttpThreaded, TargetCatalog.TcpRaw];

    /// <summary>The Python peers added by <c>--python</c>.</summary>
    public static IReadOnlyList<string> PythonTargets { get; } =
        [TargetCatalog.PyRpycThreaded, TargetCatalog.PyRpycForking, TargetCatalog.PyFlaskThreaded];

    /// <summary>Targets to run, in order.</summary>
    public IReadOnlyList<string> Targets { get; init; } = DefaultTargets;

    /// <summary>Connections opened by the connection benchmark. Default 100.</summary>
    public int NumConnections { get; init; } = 100;

    /// <summary>Requests measured by the latency benchmark. Default 1000.</summary>
    public int NumRequests { get; init; } = 1000;

    /// <summary>Unmeasured requests before the latency benchmark. Default 100.</summary>
    public int WarmupRequests { get; init; } = 100;

    /// <summary>
    /// The least time the latency warmup lasts. Default 0.5 s. With a .NET server in this process
    /// (<see cref="ServerHostOptions.InProcess"/>) the warmup then goes on until the JIT is quiet
    /// (see <see cref="LatencyBenchmark.JitActivity"/>).
    /// </summary>
    public TimeSpan WarmupDuration { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>Clients of the concurrent benchmark. Default 10.</summary>
    public int NumConcurrentClients { get; init; } = 10;

    /// <summary>Requests per client of the concurrent benchmark. Default 100.</summary>
    public int RequestsPerClient { get; init; } = 100;

    /// <summary>Bandwidth payload sizes in bytes. Default 1 KiB, 10 KiB, 100 KiB, 1 MiB.</summary>
    public IReadOnlyList<int> PayloadSizes { get; init; } = BandwidthBenchmark.DefaultSizes;

    /// <summary>Transfers per size and direction. Default 50.</summary>
    public int TransfersPerSize { get; init; } = 50;

    /// <summary>The most time one measured phase may take. Default 20 s.</summary>
    public TimeSpan MaxPhaseDuration { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The most time one payload size may take, per direction. Default 3 s.</summary>
    public TimeSpan MaxSizeDuration { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>An RPyC server already running (e.g. <c>rpycbench serve</c> elsewhere): RPyC targets measure it instead of starting one.</summary>
    public string? RpycHost { get; init; }

    /// <summary>The port of <see cref="RpycHost"/>. Default 18812.</summary>
    public int RpycPort { get; init; } = 18812;

    /// <summary>An HTTP server already running: HTTP targets measure it instead of starting one.</summary>
    public string? HttpHost { get; init; }

    /// <summary>The port of <see cref="HttpHost"/>. Default 5000.</summary>
    public int HttpPort { get; init; } = 5000;

    /// <summary>Keep raw samples (exact percentiles; memory grows with the run).</summary>
    public bool KeepSamples { get; init; }

    /// <summary>Run <c>wrk</c> against HTTP targets after the concurrent benchmark, when installed. Default on.</summary>
    public bool RunWrk { get; init; } = true;

    /// <summary>How long wrk runs. Default 3 s.</summary>
    public TimeSpan WrkDuration { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How servers are started.</summary>
    public ServerHostOptions ServerOptions { get; init; } = ServerHostOptions.Default;

    private readonly TimeSpan _receiveSpin;

    /// <summary>
    /// <see cref="RpycConnectOptions.ReceiveSpin"/> of the suite's RPyC clients (every <c>rpyc</c>
    /// target, the Python peers included) and of the .NET RPyC servers the suite starts, in place of
    /// <see cref="ServerHostOptions.ReceiveSpin"/>; a Python server or one at <see cref="RpycHost"/>
    /// keeps its own. Default zero (off). Spinning trades CPU for latency where an idle CPU is slow
    /// to wake, as Kestrel's thread pool does by default: compare the latency and CPU tables.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative or above <see cref="RpycConnectOptions.MaxReceiveSpin"/>.</exception>
    public TimeSpan ReceiveSpin
    {
        get => _receiveSpin;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, RpycConnectOptions.MaxReceiveSpin);
            _receiveSpin = value;
        }
    }

    // The servers the suite starts spin as its clients do, so receive_spin_us describes both ends.
    internal ServerHostOptions EffectiveServerOptions => ServerOptions.WithReceiveSpin(ReceiveSpin);

    internal RpycConnectOptions ClientConnectOptions =>
        ReceiveSpin == TimeSpan.Zero ? RpycConnectOptions.Default : new RpycConnectOptions { ReceiveSpin = ReceiveSpin };

    internal BenchTarget ClientTarget(TargetInfo info, string host, int port) =>
        BenchTarget.Create(info.Name, info.Protocol, host, port, ClientConnectOptions);

    /// <summary>The options as name → value, for report metadata.</summary>
    /// <returns>The parameters.</returns>
    public IReadOnlyDictionary<string, object> ToParameters() => new Dictionary<string, object>
    {
        ["targets"] = Targets.ToArray(),
        ["num_connections"] = NumConnections,
        ["num_requests"] = NumRequests,
        ["warmup_requests"] = WarmupRequests,
        ["warmup_min_seconds"] = WarmupDuration.TotalSeconds,
        ["num_concurrent_clients"] = NumConcurrentClients,
        ["requests_per_client"] = RequestsPerClient,
        ["payload_sizes"] = PayloadSizes.ToArray(),
        ["transfers_per_size"] = TransfersPerSize,
        ["max_phase_seconds"] = MaxPhaseDuration.TotalSeconds,
        ["max_size_seconds"] = MaxSizeDuration.TotalSeconds,
        ["rpyc_server"] = RpycHost is null ? "started locally" : $"{RpycHost}:{RpycPort}",
        ["http_server"] = HttpHost is null ? "started locally" : $"{HttpHost}:{HttpPort}",
        ["servers_in_process"] = ServerOptions.InProcess,
        ["receive_spin_us"] = ReceiveSpin.TotalMicroseconds,
        ["keep_samples"] = KeepSamples,
    };
}

/// <summary>A step of the suite, for progress displays.</summary>
/// <param name="Target">The target running.</param>
/// <param name="TargetIndex">Its index, from 0.</param>
/// <param name="TargetCount">How many targets run.</param>
/// <param name="Phase">What runs now, e.g. <c>latency</c>.</param>
public sealed record SuiteProgress(string Target, int TargetIndex, int TargetCount, string Phase);
