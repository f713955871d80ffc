using System.Net;
using Rpyc.Bench.Profiling;

namespace Rpyc.Bench;

/// <summary>
/// One target for the length of a suite run: its server, started once at the target's first run
/// and stopped at the end (or an endpoint elsewhere, never started or stopped here), the network
/// relay in front of it when a profile is played, and the measured runs made against it. Each
/// <see cref="RunOnce"/> measures every benchmark on fresh client connections and returns that
/// run's report; a server that failed to start or died fails every later run at once, with the
/// reason.
/// </summary>
internal sealed class TargetSession(TargetInfo info, SuiteOptions options, EndpointChoice endpoint, CpuPlacement placement) : IDisposable
{
    // Slack on top of each phase's own bounds before a stalled server's requests are cut.
    private static readonly TimeSpan s_grace = TimeSpan.FromSeconds(2);
    private readonly PhaseGuard _guard = new();
    private readonly SamplerGate _samplerGate = new();
    private ServerHost? _host;
    private DelayRelay? _relay;
    private BenchTarget? _target;
    private BenchTarget? _direct;
    private string? _deadReason;
    private bool _warmedOnce;
    private bool _bandwidthWarmed;

    // Bandwidth warmup per size and direction: the first run's, then each later run's (a new connection).
    private static readonly TimeSpan s_bandwidthWarmup = TimeSpan.FromSeconds(0.08);
    private static readonly TimeSpan s_bandwidthRewarm = TimeSpan.FromSeconds(0.02);

    // The least measured time of the concurrent figure in each run (see its phase).
    private static readonly TimeSpan s_concurrentMinimum = TimeSpan.FromSeconds(0.3);

    // The concurrent clients beside the floor's (PairedConcurrentBenchmark), in each run: at least
    // three pairs of 0.1 s slices. The ratio of two concurrent phases measured apart read 0.79-1.00
    // for one build over six default runs (the floor's own rate moved 44,000-65,000 req/s between
    // rounds). A pair's own ratio scatters by ~0.1 (stdev; 10 clients on 2 cores), so a run's
    // figure is good to ~0.06 and the main job's median of three to less.
    private const int PairedSlicePairs = 3;
    private static readonly TimeSpan s_pairedMinimum = TimeSpan.FromSeconds(0.6);

    public TargetInfo Info { get; } = info;

    public EndpointChoice Endpoint { get; } = endpoint;

    /// <summary>The server's process id when it runs in a process of its own started here.</summary>
    public int? ServerProcessId => _host is { IsOutOfProcess: true } ? _host.ProcessId : null;

    /// <summary>The relay's counters and accuracy, when a network profile is played.</summary>
    public RelayStatistics? Relay => _relay?.GetStatistics();

    /// <summary>
    /// The raw TCP floor's session of the same suite run, when this target's ping is to be paired
    /// with the floor's (<see cref="FloorPairing"/>); <c>null</c> for the floor itself and without one.
    /// </summary>
    public TargetSession? Floor { get; init; }

    /// <summary>Measures every benchmark once.</summary>
    /// <param name="round">The round, from 0: extras that only need one look (wrk) run in round 0.</param>
    /// <param name="report">Receives the phase names.</param>
    /// <param name="cancellationToken">Stops early: the report then holds what was measured.</param>
    public TargetReport RunOnce(int round, Action<string> report, CancellationToken cancellationToken)
    {
        long start = Clock.Now;
        var errors = new List<string>();
        var phases = new Phases();
        ResourceUsage? serverUsage = null;
        ResourceUsage? clientUsage = null;
        WrkResult? wrk = null;
        BinaryTransferResult? binary = null;
        MachineNoiseResult? noise = null;
        ObservedPlacement? observed = null;
        try
        {
            BenchTarget target = _guard.Wrap(EnsureStarted(report));
            ServerHost? host = _host;
            BenchTarget? floor = FloorTarget(report);
            // The floor's server works during the pairing: its CPU is not other programs' noise.
            int[] serverPids = new[] { ServerProcessId, floor is null ? null : Floor?.ServerProcessId }.OfType<int>().ToArray();
            // rpyc's Python client is the client as much as this process is: its process (and any it
            // starts) counts in the client's CPU and memory, not in other programs'. It is started
            // before the window, so its interpreter's start-up is in neither, and stopped after it.
            using BenchClient? pythonClient = Info.Client == TargetClient.Python ? target.Connect() : null;
            int[] clientHelperPids = (pythonClient is IGuardedClient guarded ? guarded.Inner : pythonClient) is PythonBenchClient py ? [py.ProcessId] : [];
            ResourceSampler? serverSampler = ServerProcessId is int spid ? new ResourceSampler(spid, includeDescendants: true, gate: _samplerGate) : null;
            var clientSampler = new ResourceSampler(Environment.ProcessId, includeDescendants: false, gate: _samplerGate, helperPids: clientHelperPids);
            MachineNoise noiseProbe = MachineNoise.Start(Environment.ProcessId, serverPids, clientHelperPids);
            using ThreadPlacement? seen = placement.Mode == CpuPlacementMode.None ? new ThreadPlacement(Environment.ProcessId, ServerProcessId, gate: _samplerGate) : null;
            try
            {
                if (pythonClient is not null)
                {
                    MeasureWithPythonClient(pythonClient, phases, errors, report, cancellationToken);
                }
                else
                {
                    Measure(target, floor, phases, errors, report, cancellationToken);
                }
                if (round == 0 && options.BinaryTransfer is { } binaryOptions && BinaryTransferBenchmark.Applies(Info))
                {
                    binary = MeasureBinary(target, binaryOptions, errors, report, cancellationToken);
                }
            }
            finally
            {
                serverUsage = serverSampler?.Stop();
                clientUsage = clientSampler.Stop();
                serverSampler?.Dispose();
                clientSampler.Dispose();
                noise = noiseProbe.Stop();
                observed = seen?.Stop();
            }
            if (host is { HasExited: true })
            {
                _deadReason = $"the server process exited during the run.{(host.StandardErrorTail.Length > 0 ? " stderr: " + host.StandardErrorTail : "")}";
                errors.Add(_deadReason);
            }
            else if (round == 0 && options.RunWrk && Info.Protocol == "http" && Info.Client == TargetClient.Dotnet && _relay is null
                && !cancellationToken.IsCancellationRequested && WrkProbe.Find() is string wrkPath)
            {
                wrk = CompareWithWrk(target, wrkPath, errors, report, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            errors.Add(ex is ServerStartException or PythonPeerMissingException or CpuPlacementException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}");
        }
        var partial = new TargetReport
        {
            Name = Info.Name,
            Protocol = Info.Protocol,
            Status = TargetStatus.Ok,
            Seconds = 0,
            Connection = phases.Connection,
            Latency = phases.Latency,
            Bandwidth = phases.Bandwidth,
            Concurrent = phases.Concurrent,
            Scenarios = phases.Scenarios,
        };
        if (partial.TotalFailures > 0)
        {
            // The server's own account (a refusal, a worker's crash) goes with the client's, since
            // the client only sees a reset or a closed connection.
            string stderr = _host?.StandardErrorTail ?? "";
            errors.Add($"{partial.TotalFailures} requests or connections failed; first: {FirstError(partial)}"
                + (stderr.Length > 0 ? $"; the server's last stderr lines: {stderr}" : ""));
        }
        if (phases.Latency is { WarmupFailures: > 0 })
        {
            errors.Add($"{phases.Latency.WarmupFailures} warmup requests failed");
        }
        if (phases.Connection is { WarmupFailures: > 0 })
        {
            errors.Add($"{phases.Connection.WarmupFailures} warmup connections failed");
        }
        TargetStatus status = cancellationToken.IsCancellationRequested ? TargetStatus.Interrupted
            : errors.Count > 0 ? TargetStatus.Failed
            : TargetStatus.Ok;
        return new TargetReport
        {
            Name = Info.Name,
            Protocol = Info.Protocol,
            ServerMode = Info.ServerMode,
            Implementation = Implementation(),
            Client = _target?.ClientDescription,
            Endpoint = EndpointText(),
            Remote = Endpoint.IsRemote,
            NoiseCores = noise?.OtherCores,
            Placement = observed,
            Status = status,
            Error = errors.Count > 0 ? string.Join("; ", errors) : null,
            Seconds = Clock.SecondsSince(start),
            Connection = phases.Connection,
            Latency = phases.Latency,
            Bandwidth = phases.Bandwidth,
            Concurrent = phases.Concurrent,
            Scenarios = phases.Scenarios,
            ServerResources = serverUsage,
            ClientResources = clientUsage,
            Wrk = wrk,
            BinaryTransfer = binary,
        };
    }

    // Binary transfers bound themselves (each transfer has a deadline from its size), so the guard
    // only watches for a stall past the sum of those deadlines.
    private BinaryTransferResult? MeasureBinary(BenchTarget target, BinaryTransferOptions binary, List<string> errors, Action<string> report, CancellationToken cancellationToken)
    {
        int ways = binary.Sizes.Count * BinaryTransferModes.All.Count * 2;
        TimeSpan budget = TimeSpan.FromTicks(binary.Sizes.Sum(s => BinaryClient.TimeoutFor(s).Ticks) * BinaryTransferModes.All.Count * 2 * binary.Iterations) + s_grace;
        BinaryTransferResult? result = Step(errors, "binary transfer", budget, report, () => cancellationToken.IsCancellationRequested, () =>
            new BinaryTransferBenchmark(Info, target.Host, target.Port, binary, ServerProcessId).Execute(cancellationToken));
        if (result is { Failures: > 0 })
        {
            errors.Add($"binary transfer: {result.Failures} of {ways} ways failed; first: {result.FirstError}");
        }
        return result;
    }

    private string? EndpointText()
    {
        BenchTarget? server = _direct ?? _target;
        string? where = server is null ? Endpoint.Describe() : RemoteEndpoint.HostPort(server.Host, server.Port);
        return _relay is null ? where : $"{where} via relay 127.0.0.1:{_relay.Port} ({options.Network.Spec})";
    }

    private void Measure(BenchTarget target, BenchTarget? floor, Phases phases, List<string> errors, Action<string> report, CancellationToken cancellationToken)
    {
        TimeSpan minimum = options.PerRunMinPhase;
        bool Cancelled() => cancellationToken.IsCancellationRequested;
        TimeSpan max = options.MaxPhaseDuration;
        TimeSpan warmupBound = max < TimeSpan.FromSeconds(20) ? max : TimeSpan.FromSeconds(20);
        TimeSpan sizeBound = options.MaxSizeDuration + (options.MaxSizeDuration < TimeSpan.FromSeconds(10) ? options.MaxSizeDuration : TimeSpan.FromSeconds(10));
        Settle();
        phases.Connection = QuietStep(errors, "connection", max + s_grace, report, Cancelled, () => new ConnectionBenchmark($"{Info.Name} connection", target,
            new RunLimits(options.PerRun(options.NumConnections), max, Math.Min(5, options.NumConnections)) { MinDuration = minimum })
        {
            KeepSamples = options.KeepSamples,
            // The warmup rule of the latency phase, in the first run: connections go on until the
            // JIT of both sides has been quiet for 0.3 s (a quiet 0.1 s comes before tier-1
            // compiles begin, after the runtime's 100 ms call-counting delay), for at most 3 s
            // (the first target measured settles the client too, 5-6 s of connections to quiet;
            // the latency phase's warmup settles whatever is left). Later runs meet settled code
            // and warm with the count alone, as within 3 minutes the main job must.
            JitActivity = _warmedOnce ? null : JitProbe.For(ServerProcessId),
            WarmupMinDuration = _warmedOnce ? TimeSpan.Zero : options.WarmupDuration / 5,
            WarmupQuietPeriod = TimeSpan.FromSeconds(0.3),
            WarmupMaxDuration = TimeSpan.FromSeconds(3),
        }.Execute(cancellationToken));
        // With the floor's pairing, the phase also holds its blocks and their warmups (FloorPairing).
        phases.Latency = QuietStep(errors, "latency", (floor is null ? max : 3 * max) + warmupBound + s_grace, report, Cancelled,
            () => Ping(target, options.PerRun(options.NumRequests), minimum, cancellationToken, floor: floor));
        _warmedOnce |= phases.Latency is { WarmupSettled: not false };
        phases.Bandwidth = QuietStep(errors, "bandwidth", (2 * options.PayloadSizes.Count * sizeBound) + s_grace, report, Cancelled,
            () => Bandwidth(target, minimum, cancellationToken));
        _bandwidthWarmed |= phases.Bandwidth is not null;
        phases.Concurrent = Step(errors, "concurrent", max + s_grace, report, Cancelled, () => new ConcurrentBenchmark($"{Info.Name} concurrent", target, options.NumConcurrentClients, options.RequestsPerClient)
        {
            MaxDuration = max,
            // Ten clients on two cores: the scheduler's pattern of who runs when holds for tens of
            // milliseconds, so a run's throughput needs a longer window than one client's figures.
            MinDuration = minimum < s_concurrentMinimum && minimum > TimeSpan.Zero ? s_concurrentMinimum : minimum,
            BeforeRelease = Settle,
            KeepSamples = options.KeepSamples,
        }.Execute(cancellationToken));
        // The .NET servers only: the Python peers' ten clients make 0.03-0.45x the floor's rate, a
        // verdict the phases measured apart give as well, and the pairing's ~0.7 s a run for each
        // of them would add ~6 s to the main job, which has little of its 3 minutes to spare.
        if (floor is not null && !Info.IsPython && phases.Concurrent is { Successes: > 0 } concurrent)
        {
            concurrent.Floor = Step(errors, "concurrent beside the floor", max + s_grace, report, Cancelled, () =>
                new PairedConcurrentBenchmark($"{Info.Name} concurrent vs floor", target, floor, options.NumConcurrentClients,
                    new RunLimits(PairedSlicePairs, max, Warmup: 5) { MinDuration = minimum < s_pairedMinimum ? s_pairedMinimum : minimum })
                {
                    BeforeRelease = Settle,
                }.Execute(cancellationToken));
        }
        // Client variants (another client on a server measured already) leave the scenarios to the main
        // target, as do the HttpClient targets (the scenarios' HTTP client counts raw bytes).
        int variants = DecisionScenario.For(Info.Protocol, options.Scenarios).Count;
        if (variants > 0 && Info.Client == TargetClient.Dotnet && Info.Server == Info.Name && Info.Name is not (TargetCatalog.HttpThreadedHttpClient or TargetCatalog.HttpThreadedTls))
        {
            TimeSpan budget = (variants * (max + warmupBound)) + s_grace;
            phases.Scenarios = Step(errors, "scenarios", _direct is null ? budget : 2 * budget, report, Cancelled, () => Scenarios(target, minimum, cancellationToken));
        }
    }

    // Which worker program a ForkingServer started here runs says how fast its connections start,
    // and a server started here that polls for requests says so (SuiteOptions.ReceiveSpin).
    private string Implementation()
    {
        if (Endpoint.IsRemote)
        {
            return Info.Implementation;
        }
        var notes = new List<string>(2);
        if (Info.Server == TargetCatalog.RpycForking)
        {
            notes.Add(BenchWorkerLocator.Find() is null ? "JIT worker" : "NativeAOT worker");
        }
        if (Info.Server is TargetCatalog.RpycThreaded or TargetCatalog.RpycForking or TargetCatalog.TcpRaw && options.ReceiveSpin > TimeSpan.Zero)
        {
            notes.Add($"polls {options.ReceiveSpin.TotalMicroseconds:0} us");
        }
        // The ForkingServer's host runs so too, but its workers serve the calls: only the
        // ThreadedServer's figures are its own code's. In this process (--in-process) the server
        // runs with this process's setting, not the host's.
        if (Info.Server == TargetCatalog.RpycThreaded && ServerHost.RunsWithoutDynamicPgo(Info, options.ServerOptions))
        {
            notes.Add("PGO off");
        }
        return notes.Count == 0 ? Info.Implementation : $"{Info.Implementation} ({string.Join(", ", notes)})";
    }

    // Each run's bandwidth figures, like its ping, are spread over connections (see PingConnections):
    // a 1 KiB transfer's rate moved 12 <-> 21 MiB/s between runs with the connection's placement.
    // Each size's count and least time are split between them; the first connection of the first
    // run warms by time and JIT, the others by count (the code is warm by then), their first size
    // also by time (a new connection's first calls, see BandwidthBenchmark.ConnectionWarmupMinDuration).
    private BandwidthResult Bandwidth(BenchTarget target, TimeSpan minimum, CancellationToken cancellationToken)
    {
        var recorders = new Dictionary<(int Size, bool Upload), LatencyRecorder>();
        BandwidthResult? merged = null;
        int count = options.PerRun(options.TransfersPerSize);
        for (int c = 0; c < PingConnections && !cancellationToken.IsCancellationRequested; c++)
        {
            int share = (count / PingConnections) + (c < count % PingConnections ? 1 : 0);
            if (share == 0)
            {
                break;
            }
            using BenchClient client = target.Connect();
            Settle();
            BandwidthResult part = new BandwidthBenchmark($"{Info.Name} bandwidth", client, options.PayloadSizes,
                // --max-phase-seconds bounds the figure, so each connection gets its share of it.
                new RunLimits(share, options.MaxSizeDuration / PingConnections, 3) { MinDuration = minimum / PingConnections })
            {
                // Each size warms by time, the first run until the server's JIT is quiet too (see
                // BandwidthBenchmark.WarmupMinDuration); later runs meet warm code and a grown heap.
                WarmupMinDuration = c > 0 ? TimeSpan.Zero : _bandwidthWarmed ? s_bandwidthRewarm : s_bandwidthWarmup,
                // Every connection's first transfers warm as a later ping connection does: a
                // ForkingServer worker's first ~1,000 calls (a new process) measured a 1 KiB upload
                // p50 of 40 us against 24 us after them, with 3-8 ms stalls.
                ConnectionWarmupMinDuration = s_connectionRewarm,
                JitActivity = c > 0 || _bandwidthWarmed ? null : JitProbe.For(ServerProcessId),
                Into = recorders,
                KeepSamples = options.KeepSamples,
            }.Execute(cancellationToken);
            merged = merged is null ? part : Merge(merged, part);
        }
        return merged ?? new BandwidthResult { Name = $"{Info.Name} bandwidth", Upload = [], Download = [] };
    }

    // The parts share their recorders, so the later part's statistics are of both.
    private static BandwidthResult Merge(BandwidthResult first, BandwidthResult next)
    {
        static IReadOnlyList<BandwidthSizeResult> Sizes(IReadOnlyList<BandwidthSizeResult> a, IReadOnlyList<BandwidthSizeResult> b) =>
            b.Select(n => a.FirstOrDefault(x => x.SizeBytes == n.SizeBytes) is { } f
                ? new BandwidthSizeResult
                {
                    SizeBytes = n.SizeBytes,
                    Transfers = f.Transfers + n.Transfers,
                    Failures = f.Failures + n.Failures,
                    Seconds = f.Seconds + n.Seconds,
                    Latency = n.Latency,
                    FirstError = f.FirstError ?? n.FirstError,
                }
                : n).Concat(a.Where(f => b.All(n => n.SizeBytes != f.SizeBytes))).ToArray();
        return new BandwidthResult { Name = first.Name, Upload = Sizes(first.Upload, next.Upload), Download = Sizes(first.Download, next.Download) };
    }

    // Connections one run's ping figure is spread over. Each connection is one draw of where its
    // threads land (same CPU as the client's or not, on 2 cores the largest single cause of a
    // run's p50 moving by 20-40 %): over three, a run's figure is their mix, not one draw's.
    private const int PingConnections = 3;

    // Each side's CPU around the measured pings: the client process's, unless the server runs inside
    // it (--in-process: neither side is then its own), and the server process tree's when it runs on
    // this machine (a remote server's is not known here).
    private CpuMeters PingCpu => new(
        _host is { IsOutOfProcess: false } ? static () => null : CpuClocks.ThisProcessSeconds,
        ServerProcessId is int pid ? () => CpuClocks.ProcessTreeSeconds(pid) : static () => null);

    // A connection after the first in a run: its thread and caches warm, the JIT already quiet.
    // 0.1 s, not less: a new loopback connection's two threads start on one CPU (the wake-ups of
    // its first calls put them there), and the scheduler takes 30-60 ms to split them. Its first
    // 1,000-2,000 pings ran at the one-CPU level (29 us against 18 split, a ThreadedServer and a
    // ForkingServer alike; with the two sides pinned to separate CPUs there was no such start).
    private static readonly TimeSpan s_connectionRewarm = TimeSpan.FromSeconds(0.1);

    // With a floor, each connection's ping is then paired with the floor's (FloorPairing) for as
    // long again as its own phase, half of it each side: over the main job's three runs, 0.25 s
    // of each, 0.5 s in all, and the main job stays within its 3 minutes.
    private LatencyResult Ping(BenchTarget target, int count, TimeSpan minimum, CancellationToken cancellationToken, int connections = 0, BenchTarget? floor = null)
    {
        connections = connections > 0 ? connections : PingConnections;
        var recorder = new LatencyRecorder(options.KeepSamples);
        FloorPairing? pairing = floor is null ? null : new FloorPairing(floor, options.KeepSamples) { Warmup = s_connectionRewarm };
        LatencyResult? merged = null;
        for (int c = 0; c < connections && !cancellationToken.IsCancellationRequested; c++)
        {
            // The counts add up to the run's exactly (7 = 3 + 2 + 2); a connection with none is skipped.
            int share = count <= 0 ? count : (count / connections) + (c < count % connections ? 1 : 0);
            if (count > 0 && share == 0)
            {
                break;
            }
            // --max-phase-seconds bounds the figure, so each connection gets its share of it.
            LatencyResult part = PingOnce(target, share, minimum / connections, options.MaxPhaseDuration / connections, c == 0, recorder, cancellationToken, pairing);
            merged = merged is null ? part : Merge(merged, part);
            if (part.Successes == 0)
            {
                break;
            }
        }
        return pairing?.Result is { } paired ? Merge(merged!, null, paired) : merged!;
    }

    // The parts share one recorder, so the last part's statistics are of all of them. Without a
    // next part: the first alone, with the run's floor pairing.
    private static LatencyResult Merge(LatencyResult first, LatencyResult? next, PairedLatencyResult? floor = null) => new()
    {
        Name = first.Name,
        Operation = first.Operation,
        Latency = (next ?? first).Latency,
        Successes = first.Successes + (next?.Successes ?? 0),
        Failures = first.Failures + (next?.Failures ?? 0),
        Seconds = first.Seconds + (next?.Seconds ?? 0),
        RoundTripsPerRequest = PerRequest(first, next, r => r.RoundTripsPerRequest),
        ConnectionsPerRequest = PerRequest(first, next, r => r.ConnectionsPerRequest),
        CpuPerRequest = next is null ? first.CpuPerRequest
            : CpuPerRequest.Weighted(first.CpuPerRequest, first.Successes + first.Failures, next.CpuPerRequest, next.Successes + next.Failures),
        SampleTicks = (next ?? first).SampleTicks,
        FirstError = first.FirstError ?? next?.FirstError,
        WarmupSeconds = next is null ? first.WarmupSeconds : first.WarmupSeconds + next.WarmupSeconds,
        WarmupSettled = first.WarmupSettled,
        WarmupFailures = first.WarmupFailures + (next?.WarmupFailures ?? 0),
        Floor = floor ?? next?.Floor ?? first.Floor,
    };

    // A per-request figure of two parts, weighted by their requests; one part's alone when the other has none.
    private static double? PerRequest(LatencyResult first, LatencyResult? next, Func<LatencyResult, double?> figure)
    {
        if (next is null)
        {
            return figure(first);
        }
        long a = first.Successes + first.Failures, b = next.Successes + next.Failures;
        return figure(first) is double x && figure(next) is double y && a + b > 0
            ? ((x * a) + (y * b)) / (a + b)
            : figure(first) ?? figure(next);
    }

    private LatencyResult PingOnce(BenchTarget target, int count, TimeSpan minimum, TimeSpan maxDuration, bool firstOfRun, LatencyRecorder into, CancellationToken cancellationToken, FloorPairing? pairing = null)
    {
        using BenchClient client = target.Connect();
        Settle();
        LatencyResult result = new LatencyBenchmark($"{Info.Name} latency", () =>
        {
            client.Ping();
            return true;
        }, new RunLimits(count, maxDuration, firstOfRun ? options.WarmupRequests : Math.Min(options.WarmupRequests, 20)) { MinDuration = minimum })
        {
            Operation = "ping",
            // The first run warms for the whole rule; later runs meet a server whose JIT has
            // settled, and warm the new connection (its thread, caches) for a fifth of it; the
            // run's further connections, for a moment.
            WarmupMinDuration = !firstOfRun ? s_connectionRewarm : _warmedOnce ? options.WarmupDuration / 5 : options.WarmupDuration,
            // Warm until the JIT is quiet: ours (client, and a server in this process) and a
            // server process tree's tiered compiler (a Python server has none: only ours counts).
            JitActivity = firstOfRun ? JitProbe.For(ServerProcessId) : null,
            WarmupQuietPeriod = _warmedOnce ? TimeSpan.FromSeconds(0.1) : TimeSpan.FromSeconds(0.5),
            RoundTrips = () => client.RoundTrips,
            ConnectionsOpened = () => client.ConnectionsOpened,
            Cpu = PingCpu,
            KeepSamples = options.KeepSamples,
            Into = into,
        }.Execute(cancellationToken);
        // After the connection's own phase, so that phase is measured exactly as without a floor.
        if (result.Successes > 0)
        {
            pairing?.Measure($"{Info.Name} ping beside tcp_raw", () =>
            {
                client.Ping();
                return true;
            }, minimum, maxDuration, cancellationToken);
        }
        return result;
    }

    // Through a network profile the scenarios are measured twice: through the relay, and straight
    // to the server, so that the model t(r) = t(loopback) + round trips x (RTT - loopback ping)
    // + bytes / rate is fed by this target's own loopback figures of the same run.
    private IReadOnlyList<ScenarioResult> Scenarios(BenchTarget target, TimeSpan minimum, CancellationToken cancellationToken)
    {
        Settle();
        // A quarter of the headline phases' minimum per scenario (8 of them per RPyC target): the
        // decision figures are per-operation p50s of a few microseconds to milliseconds, and the
        // main job must stay within 3 minutes from a fresh clone.
        var limits = new RunLimits(options.PerRun(options.ScenarioOperations), options.MaxPhaseDuration, Math.Min(options.WarmupRequests, 20)) { MinDuration = minimum / 4 };
        IReadOnlyList<ScenarioResult> measured = new ScenarioBenchmark(target, options.Scenarios, limits).Execute(cancellationToken);
        if (_direct is null || cancellationToken.IsCancellationRequested)
        {
            return measured;
        }
        BenchTarget direct = _guard.Wrap(_direct);
        IReadOnlyList<ScenarioResult> loopback = new ScenarioBenchmark(direct, options.Scenarios, limits).Execute(cancellationToken);
        double loopbackPing = Ping(direct, 200, TimeSpan.Zero, cancellationToken, connections: 1).Latency.P50;
        return measured.Select(m => loopback.FirstOrDefault(l => l.Key == m.Key) is { Latency.Count: > 0 } l
            ? Predicted(m, NetworkModel.Predict(options.Network, l.Latency.P50, loopbackPing, l.RoundTripsPerOp ?? 0, l.BytesPerOp ?? 0))
            : m).ToArray();
    }

    private static ScenarioResult Predicted(ScenarioResult m, double predicted) => new()
    {
        Key = m.Key,
        Scenario = m.Scenario,
        Style = m.Style,
        Successes = m.Successes,
        Failures = m.Failures,
        Seconds = m.Seconds,
        Latency = m.Latency,
        RoundTripsPerOp = m.RoundTripsPerOp,
        BytesPerOp = m.BytesPerOp,
        PredictedSeconds = predicted,
        FirstError = m.FirstError,
    };

    // rpyc's own Python client times itself (a pipe hop per call would swamp a 100 us ping): the
    // latency, connection and bandwidth figures are its per-call times; the concurrent figure and
    // the scenarios are not measured this way.
    private void MeasureWithPythonClient(BenchClient guarded, Phases phases, List<string> errors, Action<string> report, CancellationToken cancellationToken)
    {
        bool Cancelled() => cancellationToken.IsCancellationRequested;
        TimeSpan max = options.MaxPhaseDuration;
        BenchClient inner = guarded is IGuardedClient g ? g.Inner : guarded;
        if (inner is not ISelfTimingClient timing)
        {
            throw new InvalidOperationException($"{Info.Name}: its client does not time itself.");
        }
        Settle();
        phases.Connection = QuietStep(errors, "connection", max + s_grace, report, Cancelled, () =>
        {
            SelfTimedBatch batch = timing.TimeConnections(options.PerRun(options.NumConnections), TimeSpan.Zero);
            LatencyRecorder recorder = Recorder(batch);
            return new ConnectionResult
            {
                Name = $"{Info.Name} connection",
                ConnectionTime = recorder.ToStatistics(),
                TcpConnect = Statistics.Empty,
                Successes = recorder.Count,
                Failures = recorder.Failures,
                RoundTripsPerConnection = timing.RoundTripsPerCall("ping") + 1,
                Seconds = batch.Seconds,
                FirstError = batch.FirstError,
            };
        });
        phases.Latency = QuietStep(errors, "latency", (2 * max) + s_grace, report, Cancelled, () =>
            new SelfTimedLatencyBenchmark($"{Info.Name} latency", timing, "ping",
                new RunLimits(options.PerRun(Math.Max(options.NumRequests, 2000)), max, options.WarmupRequests))
            {
                WarmupMinDuration = options.WarmupDuration,
                JitActivity = JitProbe.For(ServerProcessId),
                KeepSamples = options.KeepSamples,
            }.Execute(cancellationToken));
        phases.Bandwidth = QuietStep(errors, "bandwidth", (2 * options.PayloadSizes.Count * 2 * options.MaxSizeDuration) + s_grace, report, Cancelled, () =>
        {
            BandwidthSizeResult Size(string direction, int size)
            {
                timing.RunUntimed($"{direction}:{size}", 3);
                SelfTimedBatch batch = timing.RunTimed($"{direction}:{size}", options.PerRun(options.TransfersPerSize), options.MaxSizeDuration);
                LatencyRecorder recorder = Recorder(batch);
                Statistics stats = recorder.ToStatistics();
                return new BandwidthSizeResult
                {
                    SizeBytes = size,
                    Transfers = recorder.Count,
                    Failures = recorder.Failures,
                    Seconds = stats.Count > 0 ? stats.Mean * stats.Count : 0,
                    Latency = stats,
                    FirstError = batch.FirstError,
                };
            }
            return new BandwidthResult
            {
                Name = $"{Info.Name} bandwidth",
                Upload = options.PayloadSizes.TakeWhile(_ => !Cancelled()).Select(size => Size("upload", size)).ToArray(),
                Download = options.PayloadSizes.TakeWhile(_ => !Cancelled()).Select(size => Size("download", size)).ToArray(),
            };
        });
    }

    private LatencyRecorder Recorder(SelfTimedBatch batch)
    {
        var recorder = new LatencyRecorder(options.KeepSamples);
        foreach (long ticks in batch.Ticks)
        {
            recorder.Record(ticks);
        }
        recorder.RecordFailures(batch.Failures);
        return recorder;
    }

    private void Settle()
    {
        if (ServerProcessId is int serverPid)
        {
            ResourceSampler.WaitUntilIdle(serverPid, includeDescendants: true, maxPercent: 10, TimeSpan.FromSeconds(3));
        }
    }

    // The same load for the same time from rpycbench's clients, then from wrk: the concurrent
    // benchmark's requests are too short a window to compare rates.
    private WrkResult? CompareWithWrk(BenchTarget target, string wrkPath, List<string> errors, Action<string> report, CancellationToken cancellationToken)
    {
        ConcurrentResult? sustained = Step(errors, "sustained load", options.WrkDuration + s_grace, report, () => cancellationToken.IsCancellationRequested, () =>
            new ConcurrentBenchmark($"{Info.Name} sustained", target, options.NumConcurrentClients, int.MaxValue)
            {
                MaxDuration = options.WrkDuration,
                WarmupPerClient = 50,
            }.Execute(cancellationToken));
        report("wrk");
        WrkResult? measured = WrkProbe.Run(wrkPath, target.Host, target.Port, options.NumConcurrentClients, options.WrkDuration, cancellationToken);
        return measured is null ? null : new WrkResult
        {
            RequestsPerSecond = measured.RequestsPerSecond,
            Connections = measured.Connections,
            Threads = measured.Threads,
            Seconds = measured.Seconds,
            Path = measured.Path,
            RpycbenchRequestsPerSecond = sustained is { Failures: 0 } ? sustained.Throughput : null,
        };
    }

    // The floor's server (started by its own session's means when it has not run yet) for this
    // target's pairing: only when the floor stands where this target does (both here, or both on
    // the same remote host, through the same network profile) and this target's client is ours.
    // Two remote hosts were paired before (--tcp-host A beside --rpyc-host B): a ratio across two
    // networks. The host is compared as given: another spelling of the same host is not paired.
    private BenchTarget? FloorTarget(Action<string> report)
    {
        if (Floor is null || Floor.Endpoint.IsRemote != Endpoint.IsRemote || Info.Client == TargetClient.Python
            || !string.Equals(Floor.Endpoint.Host, Endpoint.Host, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        try
        {
            return _guard.Wrap(Floor.EnsureStarted(report));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The floor's own session reports its failure; this target is measured without the pairing.
            return null;
        }
    }

    private BenchTarget EnsureStarted(Action<string> report)
    {
        if (_deadReason is not null)
        {
            throw new ServerStartException($"{Info.Name}: not measured again: {_deadReason}");
        }
        if (_target is not null)
        {
            return _target;
        }
        BenchTarget server;
        if (Endpoint.IsRemote)
        {
            server = options.ClientTarget(Info, Endpoint.Host, Endpoint.Port);
        }
        else
        {
            report("starting server");
            try
            {
                _host = ServerHost.Start(Info.Name, "127.0.0.1", Endpoint.Port, options.EffectiveServerOptions.WithServerCpu(placement.ServerCpu));
            }
            catch (Exception ex) when (ex is ServerStartException or PythonPeerMissingException or CpuPlacementException)
            {
                _deadReason = ex.Message;
                throw;
            }
            server = options.ClientTarget(Info, _host.Target.Host, _host.Target.Port);
        }
        if (options.Network.IsLoopback)
        {
            _target = server;
            return _target;
        }
        IPAddress address = IPAddress.TryParse(server.Host, out IPAddress? parsed) ? parsed : Dns.GetHostAddresses(server.Host)[0];
        _relay = DelayRelay.Start(options.Network, new IPEndPoint(address, server.Port));
        _direct = server;
        _target = options.ClientTarget(Info, "127.0.0.1", _relay.Port);
        return _target;
    }

    internal static string? FirstError(TargetReport r) =>
        r.Connection?.FirstError ?? r.Latency?.FirstError
        ?? r.Bandwidth?.Upload.Concat(r.Bandwidth.Download).Select(x => x.FirstError).FirstOrDefault(e => e is not null)
        ?? r.Concurrent?.FirstError
        ?? r.Scenarios?.Select(x => x.FirstError).FirstOrDefault(e => e is not null);

    // One benchmark, cut by the guard past its budget; an exception (e.g. the connect of a warm
    // client failing) is kept as the step's error.
    // A phase whose figures are single-stream latencies and their tails (connect, ping, each
    // transfer): the resource and placement samplers hold still while it is measured (see
    // SamplerGate). The concurrent phase, where the RSS and CPU peaks are, keeps them.
    private T? QuietStep<T>(List<string> errors, string phase, TimeSpan budget, Action<string> report, Func<bool> cancelled, Func<T> run)
        where T : class
    {
        using (_samplerGate.Pause())
        {
            return Step(errors, phase, budget, report, cancelled, run);
        }
    }

    private T? Step<T>(List<string> errors, string phase, TimeSpan budget, Action<string> report, Func<bool> cancelled, Func<T> run)
        where T : class
    {
        if (cancelled())
        {
            return null;
        }
        report(phase);
        _guard.Begin(budget);
        try
        {
            return run();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            errors.Add($"{phase}: {ex.GetType().Name}: {ex.Message}");
            return null;
        }
        finally
        {
            _guard.End();
        }
    }

    public void Dispose()
    {
        _guard.Dispose();
        _relay?.Dispose();
        _relay = null;
        _host?.Dispose();
        _host = null;
    }

    private sealed class Phases
    {
        public ConnectionResult? Connection { get; set; }

        public LatencyResult? Latency { get; set; }

        public BandwidthResult? Bandwidth { get; set; }

        public ConcurrentResult? Concurrent { get; set; }

        public IReadOnlyList<ScenarioResult>? Scenarios { get; set; }
    }
}

/// <summary>Where a target is measured: a server started here on a port (0: any), or an endpoint elsewhere.</summary>
/// <param name="Host">The remote host, or <c>null</c> for a server started here.</param>
/// <param name="Port">The remote port, or the port the started server binds (0: any free one).</param>
internal readonly record struct EndpointChoice(string? Host, int Port)
{
    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(true, nameof(Host))]
    public bool IsRemote => Host is not null;

    public string? Describe() => Host is null ? null : RemoteEndpoint.HostPort(Host, Port);
}
