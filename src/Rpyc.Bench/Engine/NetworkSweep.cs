using System.Globalization;
using System.Net;

namespace Rpyc.Bench;

/// <summary>
/// The network what-if as a curve: the ping and the decision scenarios of every target measured at
/// each of several round-trip times (a relay per point; RTT 0 is loopback, no relay), each server
/// started once for all points. Each variant's warmup, measured phase and bytes sample are bounded by
/// <see cref="SuiteOptions.NetworkSweepSecondsPerVariant"/> (at least one operation each), so a wan-like
/// point whose remote list iteration takes 4 s per operation still ends. Predictions use the
/// sweep's RTT-0 point as the loopback figure of <see cref="NetworkModel"/>.
/// </summary>
/// <remarks>
/// Only the ping and the scenarios are swept; the other figures (connection, bandwidth, concurrent)
/// come from the ordinary run at the sweep's first point (<see cref="RunSuite"/>). Targets measured by
/// a Python client (they time themselves) and client variants (no scenarios of their own) sweep
/// their ping only, or are skipped with the reason.
/// </remarks>
/// <example>
/// <code>
/// var options = new SuiteOptions { Targets = ["rpyc_threaded", "http_threaded"], NetworkSweep = NetworkSweep.Parse("0,0.2ms,1ms,10ms") };
/// BenchmarkReport report = NetworkSweep.RunSuite(options);      // report.Sweep: the curves
/// foreach (NetworkSweepCrossover c in report.Sweep!.Crossovers()) Console.WriteLine($"{c.Scenario}: {c.RoundTripSeconds}");
/// </code>
/// </example>
public static class NetworkSweep
{
    /// <summary>
    /// The factor that defines a crossover: the RPyC style stops being competitive at the smallest RTT
    /// where its time per operation is this many times REST's for the same work.
    /// </summary>
    public const double CrossoverFactor = 2;

    /// <summary>The series key of the ping (latency figure) in a sweep.</summary>
    public const string PingKey = "ping";

    // The error of the points left when the run is interrupted: not a failure of the target.
    internal const string Interrupted = "interrupted";

    /// <summary>The crossover's definition, for reports.</summary>
    public const string CrossoverDefinition =
        "the smallest RTT at which the RPyC target's idiomatic (netref-style) variant takes 2x the REST target's p50 time for the same scenario, interpolated log-log between the sweep points around it; one interpolated across a point where either target has no time (it failed, or was not measured) names that point";

    /// <summary>Parses a sweep list: round-trip times with units (<c>us</c>, <c>ms</c>, <c>s</c>), <c>0</c> for loopback, comma-separated, strictly increasing.</summary>
    /// <param name="text">For example <c>0,0.2ms,1ms,10ms,40ms</c>.</param>
    /// <returns>The round-trip times.</returns>
    /// <exception cref="FormatException">Not such a list; the message says why.</exception>
    public static IReadOnlyList<TimeSpan> Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] items = text.Split(',', StringSplitOptions.TrimEntries);
        if (items.Length < 2 || items.Any(i => i.Length == 0))
        {
            throw new FormatException($"The network sweep '{text}' needs at least two round-trip times, comma-separated, e.g. 0,0.2ms,1ms,10ms,40ms.");
        }
        if (items.Length > 12)
        {
            throw new FormatException($"The network sweep '{text}' has {items.Length} points; at most 12.");
        }
        var times = new List<TimeSpan>();
        foreach (string item in items)
        {
            if (item.Contains('=', StringComparison.Ordinal))
            {
                throw new FormatException($"The network sweep point '{item}' is not a round-trip time: give times only (0, 200us, 1ms, ...).");
            }
            TimeSpan rtt = NetworkProfile.Parse("rtt=" + item).RoundTrip;
            if (times.Count > 0 && rtt <= times[^1])
            {
                throw new FormatException($"The network sweep '{text}' must increase strictly: {item} after {FormatRoundTrip(times[^1])}.");
            }
            times.Add(rtt);
        }
        return times;
    }

    /// <summary>The profile of a sweep point: loopback at zero, otherwise the round trip alone (no rate limit, no jitter).</summary>
    /// <param name="roundTrip">The round-trip time.</param>
    /// <returns>The profile.</returns>
    public static NetworkProfile ProfileFor(TimeSpan roundTrip) =>
        roundTrip == TimeSpan.Zero ? NetworkProfile.Loopback : NetworkProfile.Parse("rtt=" + FormatRoundTrip(roundTrip));

    /// <summary>A round-trip time as a report key: <c>0</c>, <c>200us</c>, <c>1ms</c>, <c>1.5ms</c>.</summary>
    /// <param name="roundTrip">The round-trip time.</param>
    /// <returns>The key.</returns>
    public static string FormatRoundTrip(TimeSpan roundTrip)
    {
        if (roundTrip == TimeSpan.Zero)
        {
            return "0";
        }
        double us = roundTrip.Ticks / (double)TimeSpan.TicksPerMicrosecond;
        return us < 1000 ? us.ToString("0.#", CultureInfo.InvariantCulture) + "us"
            : (us / 1000).ToString("0.###", CultureInfo.InvariantCulture) + "ms";
    }

    /// <summary>
    /// Finds where <paramref name="ratios"/> first reaches <paramref name="factor"/>: interpolated
    /// linearly in log(ratio) against log(RTT) between the two points around it (against RTT itself
    /// when the lower point is 0, which has no logarithm).
    /// </summary>
    /// <param name="roundTrips">Each point's RTT in seconds, increasing.</param>
    /// <param name="ratios">RPyC time over REST time per point; <c>null</c> where missing.</param>
    /// <param name="factor">The crossover factor.</param>
    /// <returns>Where the crossover lies and its RTT in seconds, when known.</returns>
    public static (NetworkSweepCrossoverKind Kind, double? RoundTripSeconds) FindCrossover(IReadOnlyList<double> roundTrips, IReadOnlyList<double?> ratios, double factor)
    {
        (NetworkSweepCrossoverKind kind, double? rtt, _) = LocateCrossover(roundTrips, ratios, factor);
        return (kind, rtt);
    }

    // FindCrossover, with the indices of the two points a crossover within is interpolated between:
    // the last point below the factor and the first at or past it, both with a ratio. Points between
    // them have none (a target failed there, or was not measured).
    internal static (NetworkSweepCrossoverKind Kind, double? RoundTripSeconds, (int Below, int Above)? Between) LocateCrossover(IReadOnlyList<double> roundTrips, IReadOnlyList<double?> ratios, double factor)
    {
        ArgumentNullException.ThrowIfNull(roundTrips);
        ArgumentNullException.ThrowIfNull(ratios);
        var known = roundTrips.Zip(ratios).Select((p, i) => (Index: i, Rtt: p.First, p.Second))
            .Where(p => p.Second is double r && r > 0 && double.IsFinite(r)).Select(p => (p.Index, p.Rtt, Ratio: p.Second!.Value)).ToArray();
        if (known.Length < 2)
        {
            return (NetworkSweepCrossoverKind.Unknown, null, null);
        }
        if (known[0].Ratio >= factor)
        {
            return (NetworkSweepCrossoverKind.AtOrBelowFirst, known[0].Rtt, null);
        }
        for (int i = 1; i < known.Length; i++)
        {
            if (known[i].Ratio < factor)
            {
                continue;
            }
            (int i0, double r0, double q0) = known[i - 1];
            (int i1, double r1, double q1) = known[i];
            double f = (Math.Log(factor) - Math.Log(q0)) / (Math.Log(q1) - Math.Log(q0));
            double rtt = r0 > 0
                ? Math.Exp(Math.Log(r0) + (f * (Math.Log(r1) - Math.Log(r0))))
                : r0 + (f * (r1 - r0));
            return (NetworkSweepCrossoverKind.Within, rtt, (i0, i1));
        }
        return (NetworkSweepCrossoverKind.Beyond, null, null);
    }

    /// <summary>
    /// Runs the suite at the sweep's first point (every figure, as an ordinary run with that network),
    /// then the sweep (<see cref="Run"/>), and returns the suite's report with <see cref="BenchmarkReport.Sweep"/>.
    /// Without <see cref="SuiteOptions.NetworkSweep"/>, the ordinary run.
    /// </summary>
    /// <param name="options">What to run.</param>
    /// <param name="progress">Receives each step, or <c>null</c>.</param>
    /// <param name="cancellationToken">Stops early; the sweep is then left out or partial.</param>
    /// <returns>The report.</returns>
    public static BenchmarkReport RunSuite(SuiteOptions options, IProgress<SuiteProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.NetworkSweep is not { Count: > 0 } points)
        {
            return BenchmarkSuite.RunAll(options, progress, cancellationToken);
        }
        BenchmarkReport first = BenchmarkSuite.RunAll(options with { Network = ProfileFor(points[0]) }, progress, cancellationToken);
        if (cancellationToken.IsCancellationRequested)
        {
            return first;
        }
        return new BenchmarkReport { Metadata = first.Metadata, Targets = first.Targets, Sweep = Run(options, progress, cancellationToken) };
    }

    /// <summary>Measures the ping and the scenarios of every target at each point of <see cref="SuiteOptions.NetworkSweep"/>.</summary>
    /// <param name="options">What to run; <see cref="SuiteOptions.NetworkSweep"/> must be set.</param>
    /// <param name="progress">Receives each step, or <c>null</c>.</param>
    /// <param name="cancellationToken">Stops early: the report then holds the points measured.</param>
    /// <returns>The sweep.</returns>
    /// <exception cref="ArgumentException">No sweep points, or an unknown target.</exception>
    public static NetworkSweepReport Run(SuiteOptions options, IProgress<SuiteProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.NetworkSweep is not { Count: > 0 } roundTrips)
        {
            throw new ArgumentException("The options have no network sweep points.", nameof(options));
        }
        IReadOnlyList<string> names = options.EffectiveTargets();
        IReadOnlyList<EndpointChoice> endpoints = options.EndpointChoices(names);
        var perPoint = roundTrips.Select(_ => new List<NetworkSweepTargetResult>()).ToArray();
        var skipped = new Dictionary<string, string>();
        for (int i = 0; i < names.Count && !cancellationToken.IsCancellationRequested; i++)
        {
            TargetInfo info = TargetCatalog.Get(names[i]);
            if (info.Client != TargetClient.Dotnet)
            {
                skipped[info.Name] = info.Client == TargetClient.Python
                    ? "measured by rpyc's Python client, which times itself; the sweep measures the Python server through the .NET client (py_rpyc_threaded)"
                    : $"a client variant ({info.Client}) of a server the sweep measures through its plain client";
                continue;
            }
            int index = i;
            void Report(string phase) => progress?.Report(new SuiteProgress(info.Name, index, names.Count, phase));
            using var sweeper = new TargetSweeper(info, options, endpoints[i]);
            NetworkSweepTargetResult[] results = sweeper.Run(roundTrips, Report, cancellationToken);
            for (int p = 0; p < results.Length; p++)
            {
                perPoint[p].Add(results[p]);
            }
        }
        return new NetworkSweepReport
        {
            Points = roundTrips.Select((rtt, p) => new NetworkSweepPoint { RoundTrip = rtt, Profile = ProfileFor(rtt), Targets = perPoint[p] }).ToArray(),
            SecondsPerVariant = options.NetworkSweepSecondsPerVariant,
            Skipped = skipped,
        };
    }

    // One target across every point: its server started once, a relay per point.
    private sealed class TargetSweeper(TargetInfo info, SuiteOptions options, EndpointChoice endpoint) : IDisposable
    {
        private static readonly TimeSpan s_grace = TimeSpan.FromSeconds(5);
        private readonly PhaseGuard _guard = new();
        private ServerHost? _host;

        public NetworkSweepTargetResult[] Run(IReadOnlyList<TimeSpan> roundTrips, Action<string> report, CancellationToken cancellationToken)
        {
            var results = new NetworkSweepTargetResult[roundTrips.Count];
            BenchTarget server;
            try
            {
                server = Start(report);
            }
            catch (Exception ex) when (ex is ServerStartException or PythonPeerMissingException or System.Net.Sockets.SocketException)
            {
                for (int p = 0; p < results.Length; p++)
                {
                    results[p] = new NetworkSweepTargetResult { Target = info.Name, Error = ex.Message };
                }
                return results;
            }
            NetworkSweepTargetResult? baseline = null;
            for (int p = 0; p < roundTrips.Count; p++)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    results[p] = new NetworkSweepTargetResult { Target = info.Name, Error = Interrupted };
                    continue;
                }
                NetworkProfile profile = ProfileFor(roundTrips[p]);
                results[p] = MeasurePoint(server, profile, p == 0, baseline, s => report($"sweep rtt={FormatRoundTrip(roundTrips[p])}: {s}"), cancellationToken);
                if (p == 0 && profile.IsLoopback)
                {
                    baseline = results[p];
                }
            }
            return results;
        }

        private NetworkSweepTargetResult MeasurePoint(BenchTarget server, NetworkProfile profile, bool first, NetworkSweepTargetResult? baseline, Action<string> report, CancellationToken cancellationToken)
        {
            DelayRelay? relay = null;
            var errors = new List<string>();
            Statistics? ping = null;
            double? pingRoundTrips = null;
            IReadOnlyList<ScenarioResult> scenarios = [];
            try
            {
                BenchTarget target = server;
                if (!profile.IsLoopback)
                {
                    IPAddress address = IPAddress.TryParse(server.Host, out IPAddress? parsed) ? parsed : Dns.GetHostAddresses(server.Host)[0];
                    relay = DelayRelay.Start(profile, new IPEndPoint(address, server.Port));
                    target = options.ClientTarget(info, "127.0.0.1", relay.Port);
                }
                target = _guard.Wrap(target);
                TimeSpan budget = options.NetworkSweepSecondsPerVariant;
                double rtt = profile.RoundTrip.TotalSeconds;
                report("ping");
                ping = Step(errors, "ping", (2 * budget) + s_grace, () =>
                {
                    using BenchClient client = target.Connect();
                    LatencyResult r = new LatencyBenchmark($"{info.Name} ping", () =>
                    {
                        client.Ping();
                        return true;
                    }, new RunLimits(200, budget, 20)) { Operation = PingKey, RoundTrips = () => client.RoundTrips }.Execute(cancellationToken);
                    if (r.FirstError is not null)
                    {
                        errors.Add($"ping: {r.FirstError}");
                    }
                    pingRoundTrips = r.RoundTripsPerRequest;
                    return r.Latency;
                });
                int variants = DecisionScenario.For(info.Protocol, options.Scenarios).Count;
                if (variants > 0 && info.Server == info.Name && info.Name != TargetCatalog.HttpThreadedHttpClient && !cancellationToken.IsCancellationRequested)
                {
                    report("scenarios");
                    // Three bounded phases per variant (warmup, measured, bytes), each at least one
                    // operation: a remote list iteration makes ~103 round trips.
                    TimeSpan stepBudget = (variants * 3 * (budget + TimeSpan.FromSeconds(120 * rtt))) + s_grace;
                    scenarios = Step(errors, "scenarios", stepBudget, () =>
                        new ScenarioBenchmark(target, options.Scenarios, new RunLimits(options.ScenarioOperations, budget, 1))
                        {
                            SampleBytes = first,
                        }.Execute(cancellationToken)) ?? [];
                    scenarios = scenarios.Select(s => WithModel(s, profile, baseline)).ToArray();
                }
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ArgumentException)
            {
                errors.Add($"relay: {ex.Message}");
            }
            finally
            {
                relay?.Dispose();
            }
            errors.AddRange(scenarios.Where(s => s.FirstError is not null).Select(s => $"{s.Key}: {s.FirstError}"));
            return new NetworkSweepTargetResult
            {
                Target = info.Name,
                Ping = ping,
                PingRoundTrips = pingRoundTrips,
                Scenarios = scenarios,
                Relay = relay?.GetStatistics(),
                Error = errors.Count > 0 ? string.Join("; ", errors) : null,
            };
        }

        // Bytes come from the first point (they do not depend on the RTT); the prediction from the
        // loopback point, when the sweep has one.
        private static ScenarioResult WithModel(ScenarioResult s, NetworkProfile profile, NetworkSweepTargetResult? baseline)
        {
            ScenarioResult? b = baseline?.Scenarios.FirstOrDefault(x => x.Key == s.Key);
            double? bytes = s.BytesPerOp ?? b?.BytesPerOp;
            double? predicted = null;
            if (!profile.IsLoopback && b is { Latency.Count: > 0 } && baseline?.Ping is { Count: > 0 } basePing)
            {
                predicted = NetworkModel.Predict(profile, b.Latency.P50, basePing.P50, b.RoundTripsPerOp ?? 0, bytes ?? 0);
            }
            return new ScenarioResult
            {
                Key = s.Key,
                Scenario = s.Scenario,
                Style = s.Style,
                Successes = s.Successes,
                Failures = s.Failures,
                Seconds = s.Seconds,
                Latency = s.Latency,
                RoundTripsPerOp = s.RoundTripsPerOp,
                BytesPerOp = bytes,
                PredictedSeconds = predicted,
                FirstError = s.FirstError,
            };
        }

        private T? Step<T>(List<string> errors, string phase, TimeSpan budget, Func<T> run)
            where T : class
        {
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

        private BenchTarget Start(Action<string> report)
        {
            if (endpoint.IsRemote)
            {
                return options.ClientTarget(info, endpoint.Host, endpoint.Port);
            }
            report("sweep: starting server");
            _host = ServerHost.Start(info.Name, "127.0.0.1", endpoint.Port, options.EffectiveServerOptions);
            return options.ClientTarget(info, _host.Target.Host, _host.Target.Port);
        }

        public void Dispose()
        {
            _guard.Dispose();
            _host?.Dispose();
            _host = null;
        }
    }
}
