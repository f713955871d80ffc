using Rpyc.Bench.Profiling;

namespace Rpyc.Bench;

/// <summary>
/// One target for the length of a suite run: its server, started once at the target's first run
/// and stopped at the end (or an endpoint elsewhere, never started or stopped here), and the
/// measured runs made against it. Each <see cref="RunOnce"/> measures every benchmark on fresh
/// client connections and returns that run's report; a server that failed to start or died fails
/// every later run at once, with the reason.
/// </summary>
internal sealed class TargetSession(TargetInfo info, SuiteOptions options, EndpointChoice endpoint) : IDisposable
{
    // Slack on top of each phase's own bounds before a stalled server's requests are cut.
    private static readonly TimeSpan s_grace = TimeSpan.FromSeconds(2);
    private readonly PhaseGuard _guard = new();
    private ServerHost? _host;
    private BenchTarget? _target;
    private string? _deadReason;

    public TargetInfo Info { get; } = info;

    public EndpointChoice Endpoint { get; } = endpoint;

    /// <summary>The server's process id when it runs in a process of its own started here.</summary>
    public int? ServerProcessId => _host is { IsOutOfProcess: true } ? _host.ProcessId : null;

    /// <summary>Measures every benchmark once.</summary>
    /// <param name="round">The round, from 0: extras that only need one look (wrk) run in round 0.</param>
    /// <param name="report">Receives the phase names.</param>
    /// <param name="cancellationToken">Stops early: the report then holds what was measured.</param>
    public TargetReport RunOnce(int round, Action<string> report, CancellationToken cancellationToken)
    {
        long start = Clock.Now;
        var errors = new List<string>();
        ConnectionResult? connection = null;
        LatencyResult? latency = null;
        BandwidthResult? bandwidth = null;
        ConcurrentResult? concurrent = null;
        IReadOnlyList<ScenarioResult>? scenarios = null;
        ResourceUsage? serverUsage = null;
        ResourceUsage? clientUsage = null;
        WrkResult? wrk = null;
        try
        {
            BenchTarget target = _guard.Wrap(EnsureStarted(report));
            ServerHost? host = _host;
            ResourceSampler? serverSampler = ServerProcessId is int pid ? new ResourceSampler(pid, includeDescendants: true) : null;
            var clientSampler = new ResourceSampler(Environment.ProcessId, includeDescendants: false);
            try
            {
                void Settle()
                {
                    if (ServerProcessId is int serverPid)
                    {
                        ResourceSampler.WaitUntilIdle(serverPid, includeDescendants: true, maxPercent: 10, TimeSpan.FromSeconds(3));
                    }
                }
                TimeSpan minimum = options.MinPhaseDuration;
                bool Cancelled() => cancellationToken.IsCancellationRequested;
                TimeSpan max = options.MaxPhaseDuration;
                TimeSpan warmupBound = max < TimeSpan.FromSeconds(20) ? max : TimeSpan.FromSeconds(20);
                TimeSpan sizeBound = options.MaxSizeDuration + (options.MaxSizeDuration < TimeSpan.FromSeconds(10) ? options.MaxSizeDuration : TimeSpan.FromSeconds(10));
                Settle();
                connection = Step(errors, "connection", max + s_grace, report, Cancelled, () => new ConnectionBenchmark($"{Info.Name} connection", target,
                    new RunLimits(options.NumConnections, options.MaxPhaseDuration, Math.Min(5, options.NumConnections)) { MinDuration = minimum })
                {
                    KeepSamples = options.KeepSamples,
                }.Execute(cancellationToken));
                latency = Step(errors, "latency", max + warmupBound + s_grace, report, Cancelled, () =>
                {
                    using BenchClient client = target.Connect();
                    Settle();
                    return new LatencyBenchmark($"{Info.Name} latency", () =>
                    {
                        client.Ping();
                        return true;
                    }, new RunLimits(options.NumRequests, options.MaxPhaseDuration, options.WarmupRequests) { MinDuration = minimum })
                    {
                        Operation = "ping",
                        WarmupMinDuration = options.WarmupDuration,
                        // Warm until the JIT is quiet: ours (client, and a server in this process) and a
                        // server process tree's tiered compiler (a Python server has none: only ours counts).
                        JitActivity = JitProbe.For(ServerProcessId),
                        RoundTrips = () => client.RoundTrips,
                        KeepSamples = options.KeepSamples,
                    }.Execute(cancellationToken);
                });
                bandwidth = Step(errors, "bandwidth", (2 * options.PayloadSizes.Count * sizeBound) + s_grace, report, Cancelled, () =>
                {
                    using BenchClient client = target.Connect();
                    Settle();
                    return new BandwidthBenchmark($"{Info.Name} bandwidth", client, options.PayloadSizes,
                        new RunLimits(options.TransfersPerSize, options.MaxSizeDuration, 3) { MinDuration = minimum }).Execute(cancellationToken);
                });
                concurrent = Step(errors, "concurrent", max + s_grace, report, Cancelled, () => new ConcurrentBenchmark($"{Info.Name} concurrent", target, options.NumConcurrentClients, options.RequestsPerClient)
                {
                    MaxDuration = options.MaxPhaseDuration,
                    MinDuration = minimum,
                    BeforeRelease = Settle,
                    KeepSamples = options.KeepSamples,
                }.Execute(cancellationToken));
                int variants = DecisionScenario.For(Info.Protocol, options.Scenarios).Count;
                if (variants > 0)
                {
                    scenarios = Step(errors, "scenarios", (variants * (max + warmupBound)) + s_grace, report, Cancelled, () =>
                    {
                        Settle();
                        return new ScenarioBenchmark(target, options.Scenarios,
                            new RunLimits(options.ScenarioOperations, max, Math.Min(options.WarmupRequests, 20)) { MinDuration = minimum / 2 }).Execute(cancellationToken);
                    });
                }
            }
            finally
            {
                serverUsage = serverSampler?.Stop();
                clientUsage = clientSampler.Stop();
                serverSampler?.Dispose();
                clientSampler.Dispose();
            }
            if (host is { HasExited: true })
            {
                _deadReason = $"the server process exited during the run.{(host.StandardErrorTail.Length > 0 ? " stderr: " + host.StandardErrorTail : "")}";
                errors.Add(_deadReason);
            }
            else if (round == 0 && options.RunWrk && Info.Protocol == "http" && !cancellationToken.IsCancellationRequested && WrkProbe.Find() is string wrkPath)
            {
                wrk = CompareWithWrk(target, wrkPath, errors, report, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            errors.Add(ex is ServerStartException or PythonPeerMissingException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}");
        }
        var partial = new TargetReport
        {
            Name = Info.Name,
            Protocol = Info.Protocol,
            Status = TargetStatus.Ok,
            Seconds = 0,
            Connection = connection,
            Latency = latency,
            Bandwidth = bandwidth,
            Concurrent = concurrent,
            Scenarios = scenarios,
        };
        if (partial.TotalFailures > 0)
        {
            errors.Add($"{partial.TotalFailures} requests or connections failed; first: {FirstError(partial)}");
        }
        if (latency is { WarmupFailures: > 0 })
        {
            errors.Add($"{latency.WarmupFailures} warmup requests failed");
        }
        TargetStatus status = cancellationToken.IsCancellationRequested ? TargetStatus.Interrupted
            : errors.Count > 0 ? TargetStatus.Failed
            : TargetStatus.Ok;
        return new TargetReport
        {
            Name = Info.Name,
            Protocol = Info.Protocol,
            ServerMode = Info.ServerMode,
            Implementation = Info.Implementation,
            Endpoint = _target is null ? Endpoint.Describe() : $"{_target.Host}:{_target.Port}",
            Remote = Endpoint.IsRemote,
            Status = status,
            Error = errors.Count > 0 ? string.Join("; ", errors) : null,
            Seconds = Clock.SecondsSince(start),
            Connection = connection,
            Latency = latency,
            Bandwidth = bandwidth,
            Concurrent = concurrent,
            Scenarios = scenarios,
            ServerResources = serverUsage,
            ClientResources = clientUsage,
            Wrk = wrk,
        };
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
        if (Endpoint.IsRemote)
        {
            _target = options.ClientTarget(Info, Endpoint.Host, Endpoint.Port);
            return _target;
        }
        report("starting server");
        try
        {
            _host = ServerHost.Start(Info.Name, "127.0.0.1", Endpoint.Port, options.EffectiveServerOptions);
        }
        catch (Exception ex) when (ex is ServerStartException or PythonPeerMissingException)
        {
            _deadReason = ex.Message;
            throw;
        }
        _target = options.ClientTarget(Info, _host.Target.Host, _host.Target.Port);
        return _target;
    }

    internal static string? FirstError(TargetReport r) =>
        r.Connection?.FirstError ?? r.Latency?.FirstError
        ?? r.Bandwidth?.Upload.Concat(r.Bandwidth.Download).Select(x => x.FirstError).FirstOrDefault(e => e is not null)
        ?? r.Concurrent?.FirstError
        ?? r.Scenarios?.Select(x => x.FirstError).FirstOrDefault(e => e is not null);

    // One benchmark, cut by the guard past its budget; an exception (e.g. the connect of a warm
    // client failing) is kept as the step's error.
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
        _host?.Dispose();
        _host = null;
    }
}

/// <summary>Where a target is measured: a server started here on a port (0: any), or an endpoint elsewhere.</summary>
/// <param name="Host">The remote host, or <c>null</c> for a server started here.</param>
/// <param name="Port">The remote port, or the port the started server binds (0: any free one).</param>
internal readonly record struct EndpointChoice(string? Host, int Port)
{
    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(true, nameof(Host))]
    public bool IsRemote => Host is not null;

    public string? Describe() => Host is null ? null : $"{Host}:{Port}";
}
