namespace Rpyc.Bench;

/// <summary>How a target's run ended.</summary>
public enum TargetStatus
{
    /// <summary>Every benchmark ran and every request succeeded.</summary>
    Ok,

    /// <summary>The server could not start, or requests failed.</summary>
    Failed,

    /// <summary>The run was cancelled while this target ran; its results are partial.</summary>
    Interrupted,
}

/// <summary>Everything measured for one target; each benchmark's result is kept separately.</summary>
public sealed class TargetReport
{
    /// <summary>The target's name, e.g. <c>rpyc_threaded</c>.</summary>
    public required string Name { get; init; }

    /// <summary><c>rpyc</c>, <c>http</c> or <c>tcp</c>.</summary>
    public required string Protocol { get; init; }

    /// <summary><c>threaded</c>, <c>forking</c>, or <c>null</c>.</summary>
    public string? ServerMode { get; init; }

    /// <summary>The server's implementation, e.g. <c>.NET Rpyc ThreadedServer</c>.</summary>
    public string? Implementation { get; init; }

    /// <summary>The client that produced the figures, e.g. the lean HTTP client or <c>HttpClient</c>.</summary>
    public string? Client { get; init; }

    /// <summary>With placement left to the scheduler: the CPUs the client's and the server's threads were seen on; otherwise <c>null</c>.</summary>
    public ObservedPlacement? Placement { get; init; }

    /// <summary>The server address measured.</summary>
    public string? Endpoint { get; init; }

    /// <summary>
    /// Whether the server is an endpoint elsewhere (given on the command line) rather than one this
    /// run started on loopback: a remote figure includes a network, a local one does not.
    /// </summary>
    public bool Remote { get; init; }

    /// <summary>
    /// How many runs these results combine (see <see cref="Runs"/>); 1 for a single run. Set only by a
    /// report read back from JSON (<see cref="ReportReader"/>), which keeps the count but not each run's report.
    /// </summary>
    public int RunCount
    {
        get => _runCount ?? Runs?.Count ?? 1;
        init => _runCount = value;
    }

    private readonly int? _runCount;

    /// <summary>Each run's report, in run order, when this report combines several runs; otherwise <c>null</c>.</summary>
    public IReadOnlyList<TargetReport>? Runs { get; init; }

    /// <summary>
    /// Other programs' CPU while this target was measured, in cores (1 = one core busy), from
    /// <c>/proc/stat</c> less the client's and the server's own CPU; <c>null</c> when not measured.
    /// Across runs, the largest run's value.
    /// </summary>
    public double? NoiseCores { get; init; }

    /// <summary>How the run ended.</summary>
    public required TargetStatus Status { get; init; }

    /// <summary>Why it failed, or <c>null</c>.</summary>
    public string? Error { get; init; }

    /// <summary>Wall time of this target, server start and stop included, in seconds.</summary>
    public required double Seconds { get; init; }

    /// <summary>Connection benchmark, or <c>null</c> when it did not run.</summary>
    public ConnectionResult? Connection { get; init; }

    /// <summary>Latency benchmark, or <c>null</c>.</summary>
    public LatencyResult? Latency { get; init; }

    /// <summary>Bandwidth benchmark, or <c>null</c>.</summary>
    public BandwidthResult? Bandwidth { get; init; }

    /// <summary>Concurrent benchmark, or <c>null</c>.</summary>
    public ConcurrentResult? Concurrent { get; init; }

    /// <summary>The decision scenarios' variants this target's protocol serves, or <c>null</c> when they did not run.</summary>
    public IReadOnlyList<ScenarioResult>? Scenarios { get; init; }

    /// <summary>The server process tree's CPU and memory, or <c>null</c> for an external server.</summary>
    public ResourceUsage? ServerResources { get; init; }

    /// <summary>The client (this) process's CPU and memory over the same window.</summary>
    public ResourceUsage? ClientResources { get; init; }

    /// <summary>wrk against the same server (HTTP targets, when wrk is installed), or <c>null</c>.</summary>
    public WrkResult? Wrk { get; init; }

    /// <summary>Load from Locust's master and workers (<c>rpycbench locust</c>), or <c>null</c>.</summary>
    public DistributedResult? Distributed { get; init; }
    /// <summary>Binary file transfers (<c>--test-binary-transfer</c>), measured in the first run only; <c>null</c> when not run.</summary>
    public BinaryTransferResult? BinaryTransfer { get; init; }

    /// <summary>Failed requests and connections over every benchmark.</summary>
    public long TotalFailures =>
        (Connection?.Failures ?? 0) + (Latency?.Failures ?? 0) + (Bandwidth?.Failures ?? 0) + (Concurrent?.Failures ?? 0)
        + (Scenarios?.Sum(s => s.Failures) ?? 0) + (Distributed?.Failures ?? 0);
}

/// <summary>Facts about the run: machine, runtime, peer versions, parameters, start time.</summary>
public sealed class RunMetadata
{
    /// <summary>rpycbench's version.</summary>
    public required string ToolVersion { get; init; }

    /// <summary>When the run started.</summary>
    public required DateTimeOffset StartTime { get; init; }

    /// <summary>Wall time of the whole run, in seconds.</summary>
    public double Seconds { get; init; }

    /// <summary>Host name.</summary>
    public required string Machine { get; init; }

    /// <summary>Operating system description.</summary>
    public required string OperatingSystem { get; init; }

    /// <summary>CPU model name.</summary>
    public required string CpuModel { get; init; }

    /// <summary>Logical processors.</summary>
    public required int ProcessorCount { get; init; }

    /// <summary>Physical memory in bytes (0 when unknown).</summary>
    public required long MemoryBytes { get; init; }

    /// <summary>The 1-minute load average when the run started and when it ended (other work on the machine shows here).</summary>
    public IReadOnlyList<double> LoadAverage { get; init; } = [];

    /// <summary>The .NET runtime description.</summary>
    public required string Runtime { get; init; }

    /// <summary>Versions of the peers and tools used (python, rpyc, flask, wrk), when found.</summary>
    public required IReadOnlyDictionary<string, string> PeerVersions { get; init; }

    /// <summary>The suite parameters (connections, requests, sizes, …) as name → value.</summary>
    public required IReadOnlyDictionary<string, object> Parameters { get; init; }

    /// <summary>Whether the run was interrupted (Ctrl-C) before every target finished.</summary>
    public bool Interrupted { get; init; }

    /// <summary>The full description of the machine (<see cref="MachineInfo"/>): kernel, hypervisor, idle and frequency governors, GC mode…</summary>
    public IReadOnlyDictionary<string, object> Details { get; init; } = new Dictionary<string, object>();

    /// <summary>The remote machine the servers ran on (<c>--remote-host</c>), as <see cref="SuiteOptions.RemoteMachine"/>; <c>null</c> otherwise.</summary>
    public IReadOnlyDictionary<string, object>? RemoteMachine { get; init; }

    /// <summary>Where the threads ran: the placement chosen and, left to the scheduler, the CPUs seen per target.</summary>
    public PlacementInfo? Placement { get; init; }

    /// <summary>The network played between client and servers, and the relay's measured accuracy.</summary>
    public NetworkInfo? Network { get; init; }

    /// <summary>
    /// The machine's speed before each target of each run (<see cref="MachineSpeed"/>), in run order;
    /// empty when not probed (off Linux, a report written before the probe).
    /// </summary>
    public IReadOnlyList<SpeedProbe> SpeedProbes { get; init; } = [];
}

/// <summary>The placement of a run.</summary>
/// <param name="Choice">The placement chosen.</param>
/// <param name="Observed">With placement left to the scheduler: per target, the CPUs its client and server threads were seen on (sampled outside the quiet phases, see <see cref="SamplerGate"/>).</param>
public sealed record PlacementInfo(CpuPlacement Choice, IReadOnlyDictionary<string, ObservedPlacement> Observed);

/// <summary>The network of a run.</summary>
/// <param name="Profile">The profile played (<see cref="NetworkProfile.Loopback"/>: none).</param>
/// <param name="Relays">Per target, its relay's counters and accuracy.</param>
public sealed record NetworkInfo(NetworkProfile Profile, IReadOnlyDictionary<string, RelayStatistics> Relays);

/// <summary>The immutable result of a suite run, the input of every reporter.</summary>
public sealed class BenchmarkReport
{
    /// <summary>Run metadata.</summary>
    public required RunMetadata Metadata { get; init; }

    /// <summary>One report per target, in run order.</summary>
    public required IReadOnlyList<TargetReport> Targets { get; init; }

    /// <summary>The network sweep (<c>--network-sweep</c>), when one ran: <see cref="Targets"/> then hold the sweep's first point.</summary>
    public NetworkSweepReport? Sweep { get; init; }

    /// <summary>Whether any target failed.</summary>
    public bool AnyFailed => Targets.Any(t => t.Status == TargetStatus.Failed);
}
