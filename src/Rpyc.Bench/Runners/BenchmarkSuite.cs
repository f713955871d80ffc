using System.Globalization;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;

namespace Rpyc.Bench;

/// <summary>
/// Runs every benchmark over the chosen targets: for each, starts its server in its own process
/// (unless an external server is given), then measures connection time, latency, bandwidth per
/// payload size and concurrent load, with the server's and the client's CPU and memory sampled
/// alongside, and stops the server. Each target's results are kept apart; a target that fails
/// (server start, failed requests, a server dying mid-run) is reported as failed and the suite
/// goes on. Cancelling returns the partial report.
/// </summary>
/// <example>
/// <code>
/// BenchmarkReport report = BenchmarkSuite.RunAll(new SuiteOptions { Targets = ["rpyc_threaded", "http_threaded"] });
/// File.WriteAllText("run.json", JsonReporter.Render(report));
/// </code>
/// </example>
public static class BenchmarkSuite
{
    /// <summary>Runs the suite: every target <see cref="SuiteOptions.Runs"/> times, in interleaved rounds.</summary>
    /// <param name="options">What to run.</param>
    /// <param name="progress">Receives each step, or <c>null</c>.</param>
    /// <param name="cancellationToken">Stops early: the report then holds what was measured, marked interrupted.</param>
    /// <returns>The report: one entry per target, combining its runs (<see cref="RunCombiner"/>).</returns>
    /// <exception cref="ArgumentException">An unknown target, or two endpoints for one target.</exception>
    public static BenchmarkReport RunAll(SuiteOptions options, IProgress<SuiteProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Runs, 1);
        IReadOnlyList<string> names = options.EffectiveTargets();
        foreach (string name in names)
        {
            TargetCatalog.Get(name);
        }
        IReadOnlyList<EndpointChoice> endpoints = options.EndpointChoices(names);
        CpuPlacement placement = CpuPlacement.Resolve(options.Placement);
        DateTimeOffset startTime = DateTimeOffset.Now;
        double loadBefore = LoadAverage();
        long start = Clock.Now;
        // Every other target's ping is also paired with the floor's in alternating blocks (FloorPairing).
        int floorIndex = names.ToList().IndexOf(TargetCatalog.TcpRaw);
        TargetSession? floor = floorIndex < 0 ? null : new TargetSession(TargetCatalog.Get(TargetCatalog.TcpRaw), options, endpoints[floorIndex], placement);
        var sessions = names.Select((name, i) => i == floorIndex ? floor! : new TargetSession(TargetCatalog.Get(name), options, endpoints[i], placement) { Floor = floor }).ToArray();
        var runs = sessions.Select(_ => new List<TargetReport>()).ToArray();
        var relays = new Dictionary<string, RelayStatistics>();
        var speed = new List<SpeedProbe>();
        // The client's threads, and every thread they start, stay on the client's CPU; re-applied
        // before each target in case the runtime started threads elsewhere meanwhile.
        using PinnedThreads clientPin = placement.PinClient();
        try
        {
            for (int round = 0; round < options.Runs && !cancellationToken.IsCancellationRequested; round++)
            {
                foreach (int index in InterleavedSchedule.Order(sessions.Length, round))
                {
                    if (cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }
                    int r = round;
                    void Report(string phase) => progress?.Report(new SuiteProgress(names[index], index, names.Count, phase, r, options.Runs));
                    clientPin.Reapply();
                    // ~7 ms of this thread's CPU, ~15 ms of loopback round trips and ~5 ms of
                    // loopback transfers, before the target's server starts.
                    if (SpeedProbe.Take(names[index], round + 1) is { } probe)
                    {
                        speed.Add(probe);
                    }
                    runs[index].Add(sessions[index].RunOnce(round, Report, cancellationToken));
                }
            }
        }
        finally
        {
            for (int i = 0; i < sessions.Length; i++)
            {
                progress?.Report(new SuiteProgress(names[i], i, names.Count, "stopping server", options.Runs - 1, options.Runs));
                if (sessions[i].Relay is { } relay)
                {
                    relays[names[i]] = relay;
                }
                sessions[i].Dispose();
            }
        }
        // A target the interruption kept from its first run has no report.
        TargetReport[] targets = runs.Where(r => r.Count > 0).Select(RunCombiner.Combine).ToArray();
        RunMetadata metadata = CollectMetadata(options, startTime, Clock.SecondsSince(start), cancellationToken.IsCancellationRequested);
        return new BenchmarkReport
        {
            Metadata = new RunMetadata
            {
                ToolVersion = metadata.ToolVersion,
                StartTime = metadata.StartTime,
                Seconds = metadata.Seconds,
                Machine = metadata.Machine,
                OperatingSystem = metadata.OperatingSystem,
                CpuModel = metadata.CpuModel,
                ProcessorCount = metadata.ProcessorCount,
                MemoryBytes = metadata.MemoryBytes,
                LoadAverage = [loadBefore, LoadAverage()],
                Runtime = metadata.Runtime,
                PeerVersions = metadata.PeerVersions,
                Parameters = metadata.Parameters,
                Interrupted = metadata.Interrupted,
                Details = metadata.Details,
                RemoteMachine = options.RemoteMachine,
                Placement = new PlacementInfo(placement, targets.Where(t => t.Placement is not null).ToDictionary(t => t.Name, t => t.Placement!)),
                Network = new NetworkInfo(options.Network, relays),
                SpeedProbes = speed,
            },
            Targets = targets,
        };
    }

    /// <summary>Runs every benchmark against one target once: starts its server (or uses its endpoint elsewhere), measures, stops it.</summary>
    /// <param name="info">The target.</param>
    /// <param name="options">What to run.</param>
    /// <param name="report">Receives the phase names, or <c>null</c>.</param>
    /// <param name="cancellationToken">Stops early.</param>
    /// <returns>The target's report.</returns>
    public static TargetReport RunTarget(TargetInfo info, SuiteOptions options, Action<string>? report = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(options);
        report ??= static _ => { };
        using var session = new TargetSession(info, options, options.EndpointChoices([info.Name])[0], CpuPlacement.Resolve(options.Placement));
        try
        {
            return session.RunOnce(0, report, cancellationToken);
        }
        finally
        {
            report("stopping server");
        }
    }

    /// <summary>Collects the run's metadata: machine, runtime, peer versions, parameters.</summary>
    /// <param name="options">The suite options.</param>
    /// <param name="startTime">When the run started.</param>
    /// <param name="seconds">How long it took.</param>
    /// <param name="interrupted">Whether it was interrupted.</param>
    /// <returns>The metadata.</returns>
    public static RunMetadata CollectMetadata(SuiteOptions options, DateTimeOffset startTime, double seconds, bool interrupted)
    {
        ArgumentNullException.ThrowIfNull(options);
        var peers = new Dictionary<string, string>();
        if (options.EffectiveTargets().Any(t => TargetCatalog.Get(t).UsesPython))
        {
            foreach (KeyValuePair<string, string> kv in PythonPeers.Versions(options.ServerOptions.PythonPath))
            {
                peers[kv.Key] = kv.Value;
            }
        }
        if (options.RunWrk && options.Targets.Any(t => TargetCatalog.Get(t).Protocol == "http") && WrkProbe.Find() is string wrk && WrkProbe.Version(wrk) is string version)
        {
            peers["wrk"] = version;
        }
        // One description of the machine (MachineInfo) feeds both the summary fields and the details.
        MachineInfo machine = MachineInfo.Collect();
        return new RunMetadata
        {
            ToolVersion = typeof(BenchmarkSuite).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0",
            StartTime = startTime,
            Seconds = seconds,
            Machine = machine.Hostname,
            OperatingSystem = RuntimeInformation.OSDescription,
            CpuModel = machine.CpuModel,
            ProcessorCount = machine.ProcessorCount,
            MemoryBytes = machine.MemoryBytes,
            Runtime = machine.Runtime,
            PeerVersions = peers,
            Parameters = options.ToParameters(),
            Interrupted = interrupted,
            Details = machine.ToDictionary(),
        };
    }

    private static double LoadAverage()
    {
        try
        {
            string text = File.ReadAllText("/proc/loadavg");
            return double.Parse(text.AsSpan(0, text.IndexOf(' ', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
        {
            return double.NaN;
        }
    }
}
