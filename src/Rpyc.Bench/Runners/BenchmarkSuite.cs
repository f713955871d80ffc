using System.Globalization;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;
using Rpyc.Bench.Profiling;

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
    /// <summary>Runs the suite.</summary>
    /// <param name="options">What to run.</param>
    /// <param name="progress">Receives each step, or <c>null</c>.</param>
    /// <param name="cancellationToken">Stops early: the report then holds what was measured, marked interrupted.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentException">An unknown target.</exception>
    public static BenchmarkReport RunAll(SuiteOptions options, IProgress<SuiteProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (string name in options.Targets)
        {
            TargetCatalog.Get(name);
        }
        DateTimeOffset startTime = DateTimeOffset.Now;
        double loadBefore = LoadAverage();
        long start = Clock.Now;
        var targets = new List<TargetReport>();
        for (int i = 0; i < options.Targets.Count && !cancellationToken.IsCancellationRequested; i++)
        {
            int index = i;
            void Report(string phase) => progress?.Report(new SuiteProgress(options.Targets[index], index, options.Targets.Count, phase));
            targets.Add(RunTarget(TargetCatalog.Get(options.Targets[i]), options, Report, cancellationToken));
        }
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
            },
            Targets = targets,
        };
    }

    /// <summary>Runs every benchmark against one target.</summary>
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
        long start = Clock.Now;
        var errors = new List<string>();
        ServerHost? host = null;
        BenchTarget? target = null;
        ConnectionResult? connection = null;
        LatencyResult? latency = null;
        BandwidthResult? bandwidth = null;
        ConcurrentResult? concurrent = null;
        ResourceUsage? serverUsage = null;
        ResourceUsage? clientUsage = null;
        WrkResult? wrk = null;
        try
        {
            report("starting server");
            string? externalHost = info.Protocol switch
            {
                "rpyc" => options.RpycHost,
                "http" => options.HttpHost,
                _ => null,
            };
            if (externalHost is not null)
            {
                target = options.ClientTarget(info, externalHost, info.Protocol == "rpyc" ? options.RpycPort : options.HttpPort);
            }
            else
            {
                host = ServerHost.Start(info.Name, "127.0.0.1", 0, options.EffectiveServerOptions);
                target = options.ClientTarget(info, host.Target.Host, host.Target.Port);
            }
            ResourceSampler? serverSampler = host is { IsOutOfProcess: true } ? new ResourceSampler(host.ProcessId, includeDescendants: true) : null;
            var clientSampler = new ResourceSampler(Environment.ProcessId, includeDescendants: false);
            try
            {
                void Settle()
                {
                    if (host is { IsOutOfProcess: true })
                    {
                        ResourceSampler.WaitUntilIdle(host.ProcessId, includeDescendants: true, maxPercent: 10, TimeSpan.FromSeconds(3));
                    }
                }
                var phase = new RunLimits(options.NumConnections, options.MaxPhaseDuration, Math.Min(5, options.NumConnections));
                Settle();
                connection = Step(errors, "connection", report, () => cancellationToken.IsCancellationRequested, () => new ConnectionBenchmark($"{info.Name} connection", target, phase) { KeepSamples = options.KeepSamples }.Execute(cancellationToken));
                latency = Step(errors, "latency", report, () => cancellationToken.IsCancellationRequested, () =>
                {
                    using BenchClient client = target.Connect();
                    Settle();
                    return new LatencyBenchmark($"{info.Name} latency", () =>
                    {
                        client.Ping();
                        return true;
                    }, new RunLimits(options.NumRequests, options.MaxPhaseDuration, options.WarmupRequests))
                    {
                        Operation = "ping",
                        WarmupMinDuration = options.WarmupDuration,
                        // Warm until the JIT is quiet: ours (client, and a server in this process) and a
                        // server process tree's tiered compiler (a Python server has none: only ours counts).
                        JitActivity = JitProbe.For(host is { IsOutOfProcess: true } ? host.ProcessId : null),
                        RoundTrips = () => client.RoundTrips,
                        KeepSamples = options.KeepSamples,
                    }.Execute(cancellationToken);
                });
                bandwidth = Step(errors, "bandwidth", report, () => cancellationToken.IsCancellationRequested, () =>
                {
                    using BenchClient client = target.Connect();
                    Settle();
                    return new BandwidthBenchmark($"{info.Name} bandwidth", client, options.PayloadSizes, new RunLimits(options.TransfersPerSize, options.MaxSizeDuration, 3)).Execute(cancellationToken);
                });
                concurrent = Step(errors, "concurrent", report, () => cancellationToken.IsCancellationRequested, () => new ConcurrentBenchmark($"{info.Name} concurrent", target, options.NumConcurrentClients, options.RequestsPerClient)
                {
                    MaxDuration = options.MaxPhaseDuration,
                    BeforeRelease = Settle,
                    KeepSamples = options.KeepSamples,
                }.Execute(cancellationToken));
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
                errors.Add($"the server process exited during the run.{(host.StandardErrorTail.Length > 0 ? " stderr: " + host.StandardErrorTail : "")}");
            }
            else if (options.RunWrk && info.Protocol == "http" && !cancellationToken.IsCancellationRequested && WrkProbe.Find() is string wrkPath)
            {
                // The same load for the same time from rpycbench's clients, then from wrk: the
                // concurrent benchmark's 1000 requests are too short a window to compare rates.
                ConcurrentResult? sustained = Step(errors, "sustained load", report, () => cancellationToken.IsCancellationRequested, () =>
                    new ConcurrentBenchmark($"{info.Name} sustained", target, options.NumConcurrentClients, int.MaxValue)
                    {
                        MaxDuration = options.WrkDuration,
                        WarmupPerClient = 50,
                    }.Execute(cancellationToken));
                report("wrk");
                WrkResult? measured = WrkProbe.Run(wrkPath, target.Host, target.Port, options.NumConcurrentClients, options.WrkDuration, cancellationToken);
                wrk = measured is null ? null : new WrkResult
                {
                    RequestsPerSecond = measured.RequestsPerSecond,
                    Connections = measured.Connections,
                    Threads = measured.Threads,
                    Seconds = measured.Seconds,
                    Path = measured.Path,
                    RpycbenchRequestsPerSecond = sustained is { Failures: 0 } ? sustained.Throughput : null,
                };
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            errors.Add(ex is ServerStartException or PythonPeerMissingException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}");
        }
        finally
        {
            report("stopping server");
            host?.Dispose();
        }
        var partial = new TargetReport
        {
            Name = info.Name,
            Protocol = info.Protocol,
            ServerMode = info.ServerMode,
            Implementation = info.Implementation,
            Endpoint = target is null ? null : $"{target.Host}:{target.Port}",
            Status = TargetStatus.Ok,
            Seconds = 0,
            Connection = connection,
            Latency = latency,
            Bandwidth = bandwidth,
            Concurrent = concurrent,
            ServerResources = serverUsage,
            ClientResources = clientUsage,
            Wrk = wrk,
        };
        if (partial.TotalFailures > 0)
        {
            errors.Add($"{partial.TotalFailures} requests or connections failed; first: {FirstError(partial)}");
        }
        TargetStatus status = cancellationToken.IsCancellationRequested ? TargetStatus.Interrupted
            : errors.Count > 0 ? TargetStatus.Failed
            : TargetStatus.Ok;
        return new TargetReport
        {
            Name = partial.Name,
            Protocol = partial.Protocol,
            ServerMode = partial.ServerMode,
            Implementation = partial.Implementation,
            Endpoint = partial.Endpoint,
            Status = status,
            Error = errors.Count > 0 ? string.Join("; ", errors) : null,
            Seconds = Clock.SecondsSince(start),
            Connection = connection,
            Latency = latency,
            Bandwidth = bandwidth,
            Concurrent = concurrent,
            ServerResources = serverUsage,
            ClientResources = clientUsage,
            Wrk = wrk,
        };
    }

    private static string? FirstError(TargetReport r) =>
        r.Connection?.FirstError ?? r.Latency?.FirstError
        ?? r.Bandwidth?.Upload.Concat(r.Bandwidth.Download).Select(x => x.FirstError).FirstOrDefault(e => e is not null)
        ?? r.Concurrent?.FirstError;

    // One benchmark; an exception (e.g. the connect of a warm client failing) is kept as the step's error.
    private static T? Step<T>(List<string> errors, string phase, Action<string> report, Func<bool> cancelled, Func<T> run)
        where T : class
    {
        if (cancelled())
        {
            return null;
        }
        report(phase);
        try
        {
            return run();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            errors.Add($"{phase}: {ex.GetType().Name}: {ex.Message}");
            return null;
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
        if (options.Targets.Any(t => TargetCatalog.Get(t).IsPython))
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
        return new RunMetadata
        {
            ToolVersion = typeof(BenchmarkSuite).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0",
            StartTime = startTime,
            Seconds = seconds,
            Machine = Environment.MachineName,
            OperatingSystem = RuntimeInformation.OSDescription,
            CpuModel = ReadProcField("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
            ProcessorCount = Environment.ProcessorCount,
            MemoryBytes = ParseKiB(ReadProcField("/proc/meminfo", "MemTotal")),
            Runtime = RuntimeInformation.FrameworkDescription,
            PeerVersions = peers,
            Parameters = options.ToParameters(),
            Interrupted = interrupted,
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

    private static string? ReadProcField(string path, string key)
    {
        try
        {
            foreach (string line in File.ReadLines(path))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line[..colon].Trim() == key)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    private static long ParseKiB(string? value)
    {
        string digits = new((value ?? "").TakeWhile(char.IsDigit).ToArray());
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long kib) ? kib * 1024 : 0;
    }
}
