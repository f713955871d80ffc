namespace Rpyc.Bench;

/// <summary>What <see cref="BenchmarkSuite.RunAll"/> runs, and how much.</summary>
public sealed record SuiteOptions
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

    /// <summary>
    /// How many times the whole set of targets is measured, in interleaved rounds (every target once
    /// per round, the order rotating: see <see cref="InterleavedSchedule"/>). With more than one run
    /// each figure is the median of the runs with a 95 % confidence interval (<see cref="RunCombiner"/>).
    /// Each server is started once and measured in every round on fresh connections. Default 1.
    /// </summary>
    public int Runs { get; init; } = 1;

    /// <summary>
    /// The least measurement time behind every headline figure (connection, latency, each bandwidth
    /// size and direction, concurrent), on top of its count: so that no figure rests on a few
    /// milliseconds. With <see cref="Runs"/> &gt; 1 each run's phase lasts its share
    /// (<see cref="PerRunMinPhase"/>), as each run makes its share of the counts
    /// (<see cref="PerRun"/>): the median of the runs rests on the whole.
    /// <see cref="MaxPhaseDuration"/> and <see cref="MaxSizeDuration"/> still bound each phase. Default 0.5 s.
    /// </summary>
    public TimeSpan MinPhaseDuration { get; init; } = TimeSpan.FromSeconds(0.5);

    /// <summary>One run's share of a count: <c>ceil(count / Runs)</c>, at least 1.</summary>
    /// <param name="count">The count behind a headline figure.</param>
    /// <returns>The count of each run.</returns>
    public int PerRun(int count) => count <= 0 ? count : Math.Max(1, (count + Runs - 1) / Runs);

    /// <summary>One run's share of <see cref="MinPhaseDuration"/>, at least 0.15 s per run (a shorter phase is all noise) unless the minimum itself is shorter.</summary>
    public TimeSpan PerRunMinPhase => Runs <= 1 ? MinPhaseDuration
        : TimeSpan.FromSeconds(Math.Min(MinPhaseDuration.TotalSeconds, Math.Max(MinPhaseDuration.TotalSeconds / Runs, 0.15)));

    /// <summary>
    /// Targets measured at a server elsewhere (e.g. <c>rpycbench serve</c> on another host) instead of
    /// one started here: each is reported as <c>remote</c> with its endpoint, and no other target is
    /// pointed at it. A named target that is not in <see cref="Targets"/> is added.
    /// </summary>
    public IReadOnlyList<RemoteEndpoint> Endpoints { get; init; } = [];

    /// <summary>An RPyC server already running elsewhere: <c>rpyc_threaded</c> is measured there (same as an <see cref="Endpoints"/> entry).</summary>
    public string? RpycHost { get; init; }

    /// <summary>
    /// With <see cref="RpycHost"/>, its port (default 18812). Without, the port the .NET RPyC servers
    /// started here bind: the first .NET RPyC target this port, the next one the port after it.
    /// Default: any free port.
    /// </summary>
    public int? RpycPort { get; init; }

    /// <summary>An HTTP server already running elsewhere: <c>http_threaded</c> is measured there.</summary>
    public string? HttpHost { get; init; }

    /// <summary>With <see cref="HttpHost"/>, its port (default 5000); without, the port the Kestrel server started here binds. Default: any free port.</summary>
    public int? HttpPort { get; init; }

    /// <summary>A raw TCP server elsewhere (<c>rpycbench serve tcp_raw</c>): the <c>tcp_raw</c> floor is measured there, across the same network as the remote targets.</summary>
    public string? TcpHost { get; init; }

    /// <summary>The port of <see cref="TcpHost"/>. Default 18900.</summary>
    public int? TcpPort { get; init; }

    /// <summary>
    /// The description of the remote machine the endpoints are served on (see
    /// <see cref="RemoteDeployment.Machine"/>), written to the report as <c>metadata.remote_machine</c>;
    /// <c>null</c> when the servers run here or on a machine not described.
    /// </summary>
    public IReadOnlyDictionary<string, object>? RemoteMachine { get; init; }

    /// <summary>The default port of an RPyC server elsewhere, as rpyc's own.</summary>
    public const int DefaultRpycPort = 18812;

    /// <summary>The default port of an HTTP server elsewhere.</summary>
    public const int DefaultHttpPort = 5000;

    /// <summary>The default port of a raw TCP server elsewhere.</summary>
    public const int DefaultTcpPort = 18900;

    /// <summary>Every endpoint elsewhere: <see cref="Endpoints"/> plus the host options, one per target.</summary>
    /// <exception cref="ArgumentException">Two endpoints for one target.</exception>
    public IReadOnlyList<RemoteEndpoint> RemoteEndpoints()
    {
        var all = new List<RemoteEndpoint>(Endpoints);
        if (RpycHost is not null)
        {
            all.Add(new RemoteEndpoint(TargetCatalog.RpycThreaded, RpycHost, RpycPort ?? DefaultRpycPort));
        }
        if (HttpHost is not null)
        {
            all.Add(new RemoteEndpoint(TargetCatalog.HttpThreaded, HttpHost, HttpPort ?? DefaultHttpPort));
        }
        if (TcpHost is not null)
        {
            all.Add(new RemoteEndpoint(TargetCatalog.TcpRaw, TcpHost, TcpPort ?? DefaultTcpPort));
        }
        string? twice = all.GroupBy(e => e.Target).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (twice is not null)
        {
            throw new ArgumentException($"Two endpoints given for target '{twice}'.");
        }
        return all;
    }

    /// <summary>The targets run, in order: <see cref="Targets"/> plus any endpoint target not among them.</summary>
    public IReadOnlyList<string> EffectiveTargets() =>
        [.. Targets, .. RemoteEndpoints().Select(e => e.Target).Where(t => !Targets.Contains(t)).Distinct()];

    // Where each target is measured: its endpoint elsewhere, or a server started here on the
    // configured port (consecutive ports for several .NET servers of one protocol) or any free one.
    internal IReadOnlyList<EndpointChoice> EndpointChoices(IReadOnlyList<string> targets)
    {
        IReadOnlyList<RemoteEndpoint> remote = RemoteEndpoints();
        int rpycNext = RpycHost is null ? RpycPort ?? 0 : 0;
        int httpNext = HttpHost is null ? HttpPort ?? 0 : 0;
        var choices = new List<EndpointChoice>(targets.Count);
        foreach (string name in targets)
        {
            if (remote.FirstOrDefault(e => e.Target == name) is { } endpoint)
            {
                choices.Add(new EndpointChoice(endpoint.Host, endpoint.Port));
                continue;
            }
            TargetInfo info = TargetCatalog.Get(name);
            int port = 0;
            if (!info.IsPython && info.Protocol == "rpyc" && rpycNext > 0)
            {
                port = rpycNext++;
            }
            else if (!info.IsPython && info.Protocol == "http" && httpNext > 0)
            {
                port = httpNext++;
            }
            choices.Add(new EndpointChoice(null, port));
        }
        return choices;
    }

    /// <summary>
    /// The decision scenarios to run on every target that serves them (see <see cref="DecisionScenario.Names"/>;
    /// empty: none). Default: all of them.
    /// </summary>
    public IReadOnlyList<string> Scenarios { get; init; } = DecisionScenario.Names;

    /// <summary>Operations measured per scenario variant (on top of half of <see cref="MinPhaseDuration"/>). Default 30.</summary>
    public int ScenarioOperations { get; init; } = 30;

    /// <summary>
    /// Where the client's and the servers' threads run: <see cref="CpuPlacementMode.None"/> (the
    /// scheduler decides; the CPUs each side was seen on are reported), same CPU, or split CPUs.
    /// On a VM whose idle CPUs are slow to wake, placement alone moves a loopback round trip
    /// several-fold: pinning makes runs comparable. Default none.
    /// </summary>
    public CpuPlacementMode Placement { get; init; } = CpuPlacementMode.None;

    /// <summary>
    /// The network between the client and every server: <see cref="NetworkProfile.Loopback"/> (none,
    /// the default) or a profile played by a user-space <see cref="DelayRelay"/> that every target,
    /// the Python peers and the raw TCP floor included, goes through.
    /// </summary>
    public NetworkProfile Network { get; init; } = NetworkProfile.Loopback;

    /// <summary>
    /// Round-trip times to sweep (<see cref="Rpyc.Bench.NetworkSweep"/>), increasing; zero is loopback. With a sweep,
    /// <see cref="Rpyc.Bench.NetworkSweep.RunSuite"/> runs every figure at the first point and the ping and the
    /// scenarios at each point. Default <c>null</c>: no sweep.
    /// </summary>
    public IReadOnlyList<TimeSpan>? NetworkSweep { get; init; }

    /// <summary>
    /// The most time per point of a sweep for the ping, and for each scenario variant's warmup,
    /// measured phase and bytes sample (each at least one operation). Default 2 s.
    /// </summary>
    public TimeSpan NetworkSweepSecondsPerVariant { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Keep raw samples (exact percentiles; memory grows with the run).</summary>
    public bool KeepSamples { get; init; }

    /// <summary>
    /// Binary file transfers (<c>--test-binary-transfer</c>) on every target that can do them
    /// (<see cref="BinaryTransferBenchmark.Applies"/>), in the first round only; <c>null</c> (the default): none.
    /// </summary>
    public BinaryTransferOptions? BinaryTransfer { get; init; }

    /// <summary>Run <c>wrk</c> against HTTP targets after the concurrent benchmark, when installed. Default on.</summary>
    public bool RunWrk { get; init; } = true;

    /// <summary>How long wrk runs. Default 3 s.</summary>
    public TimeSpan WrkDuration { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>How servers are started.</summary>
    public ServerHostOptions ServerOptions { get; init; } = ServerHostOptions.Default;

    /// <summary>The default <see cref="ReceiveSpin"/>: the raw TCP floor server's, 50 us.</summary>
    public static readonly TimeSpan DefaultReceiveSpin = TcpRawServer.DefaultReceiveSpin;

    private readonly TimeSpan _receiveSpin = DefaultReceiveSpin;

    /// <summary>
    /// How long the suite's clients poll for a reply before they block: every <c>rpyc</c> target's
    /// (<see cref="RpycConnectOptions.ReceiveSpin"/>, the Python peers included), the raw TCP and the
    /// lean HTTP client's (not the HttpClient targets': they show what an application's code sees);
    /// and the same for the .NET RPyC and raw TCP servers the suite starts, in place of
    /// <see cref="ServerHostOptions.ReceiveSpin"/>. Python servers, Kestrel and an external endpoint
    /// keep their own. Default <see cref="DefaultReceiveSpin"/>; zero blocks at once.
    /// </summary>
    /// <remarks>
    /// Why on by default: on a 2-core VM a blocking ping pays the wake-up of a halted vCPU at each
    /// end, and that cost moved between two levels from one minute to the next (rpyc_threaded p50
    /// 30.5 or 35 us, the floor 22 or 16), so two back-to-back runs disagreed by more than the
    /// differences between servers. Polling for 50 us (with a back-off when it finds nothing) keeps
    /// the waiting thread's CPU awake: measured over 8 interleaved runs, rpyc_threaded's per-run p50
    /// 17.8-21.1 us instead of 30.8-35.9, the floor 14.3-17.8 instead of 21.8-27.5, 10-client
    /// throughput within 10 %. The CPU table shows what the polling costs.
    /// </remarks>
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
        new() { ReceiveSpin = ReceiveSpin, PooledBytesThreshold = RpycBenchClient.PooledBytesThreshold, MaxFrameLength = BenchLimits.MaxFrameLength, MaxDecompressedLength = BenchLimits.MaxFrameLength };

    internal BenchTarget ClientTarget(TargetInfo info, string host, int port) =>
        BenchTarget.Create(info.Name, info.Protocol, host, port, ClientConnectOptions);

    /// <summary>The options as name → value, for report metadata.</summary>
    /// <returns>The parameters.</returns>
    public IReadOnlyDictionary<string, object> ToParameters() => new Dictionary<string, object>
    {
        ["targets"] = EffectiveTargets().ToArray(),
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
        ["min_phase_seconds"] = MinPhaseDuration.TotalSeconds,
        ["scenarios"] = Scenarios.ToArray(),
        ["pin"] = CpuPlacement.ModeKey(Placement),
        ["network"] = Network.IsLoopback ? "loopback" : Network.Spec,
        ["scenario_operations"] = ScenarioOperations,
        ["network_sweep"] = (NetworkSweep ?? []).Select(Rpyc.Bench.NetworkSweep.FormatRoundTrip).ToArray(),
        ["network_sweep_seconds_per_variant"] = NetworkSweepSecondsPerVariant.TotalSeconds,
        ["runs"] = Runs,
        ["endpoints"] = RemoteEndpoints().Select(e => $"{e.Target}={RemoteEndpoint.HostPort(e.Host, e.Port)}").ToArray(),
        ["servers_in_process"] = ServerOptions.InProcess,
        ["receive_spin_us"] = ReceiveSpin.TotalMicroseconds,
        ["keep_samples"] = KeepSamples,
        ["binary_file_sizes"] = BinaryTransfer?.Sizes.ToArray() ?? [],
        ["binary_chunk_size"] = BinaryTransfer?.ChunkSize ?? 0,
        ["binary_iterations"] = BinaryTransfer?.Iterations ?? 0,
    };
}

/// <summary>A step of the suite, for progress displays.</summary>
/// <param name="Target">The target running.</param>
/// <param name="TargetIndex">Its index, from 0.</param>
/// <param name="TargetCount">How many targets run.</param>
/// <param name="Phase">What runs now, e.g. <c>latency</c>.</param>
/// <param name="Run">The round, from 0.</param>
/// <param name="Runs">How many rounds.</param>
public sealed record SuiteProgress(string Target, int TargetIndex, int TargetCount, string Phase, int Run = 0, int Runs = 1);

/// <summary>A target measured at a server elsewhere.</summary>
/// <param name="Target">The target's name (see <see cref="TargetCatalog"/>): the server there must serve it.</param>
/// <param name="Host">Host name or address.</param>
/// <param name="Port">Port.</param>
public sealed record RemoteEndpoint(string Target, string Host, int Port)
{
    // HOST:PORT as TryParse reads it and an HTTP Host header needs it: an IPv6 address in brackets
    // ('::1:18812' is no address and port, and Kestrel answers such a Host header 400).
    internal static string HostPort(string host, int port) => Transport.HostPort.Format(host, port);

    private const string EndpointForm = "NAME=HOST:PORT, e.g. rpyc_threaded=10.0.0.2:18812 or rpyc_threaded=[::1]:18812";

    /// <summary>Parses <c>NAME=HOST:PORT</c> (an IPv6 address in brackets: <c>NAME=[::1]:PORT</c>).</summary>
    /// <param name="text">The text.</param>
    /// <param name="endpoint">The endpoint, when valid.</param>
    /// <param name="error">Why not, otherwise.</param>
    /// <returns>Whether it parsed.</returns>
    public static bool TryParse(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out RemoteEndpoint? endpoint, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        endpoint = null;
        int equals = text.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0)
        {
            error = $"Bad endpoint '{text}': use {EndpointForm}.";
            return false;
        }
        string name = text[..equals];
        if (!TargetCatalog.IsKnown(name))
        {
            error = $"Bad endpoint '{text}': unknown target '{name}'. Targets: {string.Join(", ", TargetCatalog.All.Select(t => t.Name))}.";
            return false;
        }
        string address = text[(equals + 1)..];
        if (!HostPortText.TryParse(address, minPort: 1, allowEmptyHost: false, out string host, out int port, out string? problem))
        {
            error = $"Bad endpoint '{text}': '{address}' {problem}; use {EndpointForm}.";
            return false;
        }
        endpoint = new RemoteEndpoint(name, host, port);
        error = null;
        return true;
    }
}
