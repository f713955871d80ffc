using System.ComponentModel;
using System.Globalization;
using Rpyc.Bench;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rpyc.Bench.Cli.Commands;

// rpycbench [options]: runs the suite, renders the summary, writes JSON and plots.
internal sealed class RunCommand : Command<RunCommand.Settings>
{
    internal sealed class Settings : RemoteSettings
    {
        [CommandOption("--rpyc-host <HOST>")]
        [Description("Measure rpyc_threaded at the RPyC server already running there ('rpycbench serve rpyc_threaded') instead of starting one; reported as remote. Other targets are not pointed at it. With --targets, list rpyc_threaded there; not with --skip-rpyc-threaded.")]
        public string? RpycHost { get; init; }

        [CommandOption("--rpyc-port <PORT>")]
        [Description("With --rpyc-host, its port (default 18812). Without, the port the .NET RPyC servers started here bind (rpyc_threaded this port, rpyc_forking the next); default any free port.")]
        public int? RpycPort { get; init; }

        [CommandOption("--http-host <HOST>")]
        [Description("Measure http_threaded at the HTTP server already running there instead of starting one; reported as remote. With --targets, list http_threaded there; not with --skip-http.")]
        public string? HttpHost { get; init; }

        [CommandOption("--http-port <PORT>")]
        [Description("With --http-host, its port (default 5000). Without, the port the Kestrel server started here binds; default any free port.")]
        public int? HttpPort { get; init; }

        [CommandOption("--tcp-host <HOST>")]
        [Description("Measure the tcp_raw floor at 'rpycbench serve tcp_raw' running there, across the same network as the remote targets. With --targets, list tcp_raw there.")]
        public string? TcpHost { get; init; }

        [CommandOption("--tcp-port <PORT>")]
        [Description("Port of the --tcp-host server (default 18900).")]
        public int? TcpPort { get; init; }

        [CommandOption("--endpoint <NAME=HOST:PORT>")]
        [Description("Measure target NAME at a server elsewhere (repeatable), e.g. --endpoint py_rpyc_threaded=10.0.0.2:18861; reported as remote. NAME is added to the default targets; with --targets, list it there.")]
        public string[]? Endpoints { get; init; }

        [CommandOption("--scenarios <LIST>")]
        [Description("Decision scenarios run on every target that serves them: record, list, chain, callback, upload (comma-separated), 'all' or 'none'.")]
        [DefaultValue("all")]
        public string Scenarios { get; init; } = "all";

        [CommandOption("--pin <PLACEMENT>")]
        [Description("Where the client's and the servers' threads run: none (the scheduler decides; the CPUs seen are reported), same-cpu (all on one CPU) or split-cpus (client on one, server on another).")]
        [DefaultValue("none")]
        public string Pin { get; init; } = "none";

        [CommandOption("--network <PROFILE>")]
        [Description("A network between the client and every server, played by a user-space relay: loopback (none), lan (0.2 ms, 1 Gbit/s), region (10 ms, 1 Gbit/s), wan (40 ms, 100 Mbit/s), or rtt=1ms,jitter=0.05ms,rate=100mbit.")]
        [DefaultValue("loopback")]
        public string Network { get; init; } = "loopback";

        [CommandOption("--network-sweep <LIST>")]
        [Description("Round-trip times to sweep, e.g. 0,0.2ms,1ms,10ms,40ms (0 = loopback, no relay): every figure is measured at the first point as with --network, then the ping and the scenarios at each point (other figures are not swept), each server started once. Prints the times by RTT and where RPyC style takes 2x REST's time; --plots draws sweep_*.png (log-log); JSON top-level 'sweep'.")]
        public string? NetworkSweep { get; init; }

        [CommandOption("--sweep-seconds <S>")]
        [Description("With --network-sweep: the most time per point for the ping and for each scenario variant's warmup, measured phase and bytes sample (each makes at least one operation: a remote list iteration at 40 ms takes 4 s).")]
        [DefaultValue(2.0)]
        public double SweepSeconds { get; init; } = 2;

        [CommandOption("--runs <N>")]
        [Description("Measure every target N times in interleaved rounds (rotating order); each figure is then the median of the runs with a 95% confidence interval. Counts and --min-phase-seconds are per figure: each run makes its share.")]
        [DefaultValue(1)]
        public int Runs { get; init; } = 1;

        [CommandOption("--min-phase-seconds <S>")]
        [Description("The least measurement time behind every figure (connection, latency, each bandwidth size and direction, concurrent), on top of its count; with --runs N each run's phase lasts its share (at least 0.15 s).")]
        [DefaultValue(0.5)]
        public double MinPhaseSeconds { get; init; } = 0.5;

        [CommandOption("--skip-rpyc-threaded")]
        [Description("Leave out rpyc_threaded.")]
        public bool SkipRpycThreaded { get; init; }

        [CommandOption("--skip-rpyc-forking")]
        [Description("Leave out rpyc_forking.")]
        public bool SkipRpycForking { get; init; }

        [CommandOption("--skip-http")]
        [Description("Leave out http_threaded.")]
        public bool SkipHttp { get; init; }

        [CommandOption("--targets <LIST>")]
        [Description("Comma-separated targets: rpyc_threaded, rpyc_forking, http_threaded, tcp_raw; the Python peers py_rpyc_threaded, py_rpyc_forking, py_flask_threaded; " +
            "other clients on those servers http_threaded_httpclient, rpyc_threaded_profiled, py_rpyc_threaded_profiled, rpyc_threaded_otel, " +
            "pyclient_rpyc_threaded, pyclient_py_rpyc_threaded, pyclient_rpyc_forking, pyclient_py_rpyc_forking; over TLS rpyc_threaded_tls, http_threaded_tls " +
            "(the README's targets section says what each measures). Default: rpyc_threaded, rpyc_forking, http_threaded, tcp_raw.")]
        public string? Targets { get; init; }

        [CommandOption("--python")]
        [Description("Add the Python peers (rpyc threaded and forking, Flask) run by /usr/bin/python3.")]
        public bool Python { get; init; }

        [CommandOption("--num-connections|--num-serial-connections <N>")]
        [Description("Connections opened by the connection benchmark.")]
        [DefaultValue(100)]
        public int NumConnections { get; init; } = 100;

        [CommandOption("--num-requests <N>")]
        [Description("Requests measured by the latency benchmark.")]
        [DefaultValue(1000)]
        public int NumRequests { get; init; } = 1000;

        [CommandOption("--warmup <N>")]
        [Description("Unmeasured requests before the latency benchmark.")]
        [DefaultValue(100)]
        public int Warmup { get; init; } = 100;

        [CommandOption("--num-concurrent-clients|--num-parallel-clients <N>")]
        [Description("Clients of the concurrent benchmark.")]
        [DefaultValue(10)]
        public int NumConcurrentClients { get; init; } = 10;

        [CommandOption("--requests-per-client <N>")]
        [Description("Requests per client of the concurrent benchmark.")]
        [DefaultValue(100)]
        public int RequestsPerClient { get; init; } = 100;

        [CommandOption("--payload-sizes <LIST>")]
        [Description("Comma-separated bandwidth payload sizes: bytes, or with K/KiB/M/MiB (1024-based).")]
        [DefaultValue("1K,10K,100K,1M")]
        public string PayloadSizes { get; init; } = "1K,10K,100K,1M";

        [CommandOption("--transfers-per-size <N>")]
        [Description("Transfers per payload size and direction (also bounded by 3 s).")]
        [DefaultValue(50)]
        public int TransfersPerSize { get; init; } = 50;

        [CommandOption("--max-phase-seconds <S>")]
        [Description("The most time one measured phase may take.")]
        [DefaultValue(20.0)]
        public double MaxPhaseSeconds { get; init; } = 20;

        [CommandOption("--test-binary-transfer")]
        [Description("Also send binary files whole, in chunks and (RPyC) through an iterator, both ways, SHA-256 checked, on every target that can.")]
        public bool TestBinaryTransfer { get; init; }

        [CommandOption("--binary-file-sizes <LIST>")]
        [Description("Comma-separated binary file sizes: bytes, or with K, M, G (1024-based), up to 16G.")]
        [DefaultValue("1M,10M")]
        public string BinaryFileSizes { get; init; } = "1M,10M";

        [CommandOption("--binary-chunk-size <SIZE>")]
        [Description("Bytes per chunk of the chunked and iterator transfers (K, M suffixes).")]
        [DefaultValue("64K")]
        public string BinaryChunkSize { get; init; } = "64K";

        [CommandOption("--binary-iterations <N>")]
        [Description("Transfers per binary file size, mode and direction.")]
        [DefaultValue(3)]
        public int BinaryIterations { get; init; } = 3;

        public BinaryTransferOptions? ToBinaryTransfer()
        {
            if (!TestBinaryTransfer)
            {
                return null;
            }
            BinarySizes.TryParseList(BinaryFileSizes, out List<long> sizes, out _);
            BinarySizes.TryParse(BinaryChunkSize, out long chunk);
            return new BinaryTransferOptions { Sizes = sizes, ChunkSize = (int)chunk, Iterations = BinaryIterations };
        }

        [CommandOption("--keep-samples")]
        [Description("Keep raw samples for exact percentiles (memory grows with the run).")]
        public bool KeepSamples { get; init; }

        [CommandOption("--no-wrk")]
        [Description("Do not run wrk against the HTTP targets.")]
        public bool NoWrk { get; init; }

        [CommandOption("--wrk-seconds <S>")]
        [Description("How long wrk, and rpycbench's own clients before it, load each HTTP target (whole seconds, wrk's unit).")]
        [DefaultValue(3)]
        public int WrkSeconds { get; init; } = 3;

        [CommandOption("--in-process")]
        [Description("Run the .NET servers inside this process (not recommended: they share the client's runtime).")]
        public bool InProcess { get; init; }

        [CommandOption("--receive-spin-us <US>")]
        [Description("Microseconds the suite's clients (RPyC, raw TCP, lean HTTP) and the .NET RPyC and raw TCP servers started here poll for the next message before they block: a waiting CPU kept awake, for steadier and lower latency at some CPU. 0 blocks at once. 0 to 1000.")]
        [DefaultValue(50.0)]
        public double ReceiveSpinUs { get; init; } = 50;

        [CommandOption("-o|--output <FILE>")]
        [Description("Write the JSON report to FILE.")]
        public string? Output { get; init; }

        [CommandOption("--plots <DIR>")]
        [Description("Write PNG plots to DIR.")]
        public string? Plots { get; init; }

        [CommandOption("--html <FILE>")]
        [Description("Write a self-contained HTML report (metadata, tables, charts, definitions) to FILE.")]
        public string? Html { get; init; }

        [CommandOption("--markdown <FILE>")]
        [Description("Write the summary tables as Markdown to FILE.")]
        public string? Markdown { get; init; }

        [CommandOption("--csv <FILE>")]
        [Description("Write every figure as CSV (target, benchmark, figure, unit, value, 95% interval) to FILE.")]
        public string? Csv { get; init; }

        [CommandOption("-q|--quiet")]
        [Description("No summary tables or progress display: stdout holds errors and written files only; the notes on the figures (other programs' noise, CPU speeds, remote beside loopback) go to stderr.")]
        public bool Quiet { get; init; }

        public override ValidationResult Validate()
        {
            if (NumConnections < 1 || NumRequests < 1 || NumConcurrentClients < 1 || RequestsPerClient < 1 || TransfersPerSize < 1 || Warmup < 0)
            {
                return ValidationResult.Error("Counts must be at least 1 (--warmup at least 0).");
            }
            if (MaxPhaseSeconds <= 0)
            {
                return ValidationResult.Error("--max-phase-seconds must be positive.");
            }
            if (WrkSeconds is < 1 or > 3600)
            {
                return ValidationResult.Error("--wrk-seconds must be between 1 and 3600.");
            }
            if (!double.IsFinite(MinPhaseSeconds) || MinPhaseSeconds < 0 || MinPhaseSeconds > MaxPhaseSeconds)
            {
                return ValidationResult.Error("--min-phase-seconds must be from 0 to --max-phase-seconds.");
            }
            string? badScenario = ScenarioNames().FirstOrDefault(n => !DecisionScenario.Names.Contains(n));
            if (badScenario is not null)
            {
                return ValidationResult.Error($"Unknown scenario '{badScenario}'. Scenarios: {string.Join(", ", DecisionScenario.Names)}, all, none.");
            }
            if (!CpuPlacement.TryParseMode(Pin, out _, out string? pinError))
            {
                return ValidationResult.Error($"--pin: {pinError}");
            }
            if (!NetworkProfile.TryParse(Network, out _, out string? networkError))
            {
                return ValidationResult.Error(networkError!);
            }
            if (NetworkSweep is not null)
            {
                try
                {
                    Bench.NetworkSweep.Parse(NetworkSweep);
                }
                catch (FormatException ex)
                {
                    return ValidationResult.Error($"--network-sweep: {ex.Message}");
                }
                if (!string.Equals(Network.Trim(), "loopback", StringComparison.OrdinalIgnoreCase))
                {
                    return ValidationResult.Error("--network and --network-sweep exclude each other: the sweep's first point is the network of every figure.");
                }
            }
            if (!double.IsFinite(SweepSeconds) || SweepSeconds < 0.1 || SweepSeconds > 600)
            {
                return ValidationResult.Error("--sweep-seconds must be from 0.1 to 600.");
            }
            if (Runs is < 1 or > 100)
            {
                return ValidationResult.Error("--runs must be from 1 to 100.");
            }
            foreach (string endpoint in Endpoints ?? [])
            {
                if (!RemoteEndpoint.TryParse(endpoint, out _, out string? endpointError))
                {
                    return ValidationResult.Error(endpointError);
                }
            }
            if (TcpPort is not null && TcpHost is null)
            {
                return ValidationResult.Error("--tcp-port needs --tcp-host (the tcp_raw server started here always takes a free port).");
            }
            // Without its host a port is one the servers started here bind, and --remote-host starts none here.
            if (RemoteHost is not null && ((RpycPort is not null && RpycHost is null) || (HttpPort is not null && HttpHost is null)))
            {
                string port = RpycPort is not null && RpycHost is null ? "--rpyc-port" : "--http-port";
                return ValidationResult.Error($"{port} sets the port of a server started here, and with --remote-host the servers run there on free ports: drop {port}.");
            }
            if ((RpycPort is not null && RpycHost is null && !StartsHere("rpyc")) || (HttpPort is not null && HttpHost is null && !StartsHere("http")))
            {
                string port = RpycPort is not null && RpycHost is null && !StartsHere("rpyc") ? "--rpyc-port" : "--http-port";
                return ValidationResult.Error($"{port} sets the port of the .NET {(port == "--rpyc-port" ? "RPyC" : "HTTP")} servers started here, and the selected targets start none: drop {port}, or give its host.");
            }
            if (!ReceiveSpinOption.IsValid(ReceiveSpinUs))
            {
                return ValidationResult.Error(ReceiveSpinOption.Error);
            }
            if (RpycPort is < 1 or > 65535 || HttpPort is < 1 or > 65535 || TcpPort is < 1 or > 65535)
            {
                return ValidationResult.Error("Ports must be between 1 and 65535.");
            }
            try
            {
                new SuiteOptions { Endpoints = ToEndpoints(), RpycHost = RpycHost, HttpHost = HttpHost, TcpHost = TcpHost }.RemoteEndpoints();
            }
            catch (ArgumentException ex)
            {
                return ValidationResult.Error(ex.Message);
            }
            if (EndpointConflict() is string conflict)
            {
                return ValidationResult.Error(conflict);
            }
            ValidationResult remote = ValidateRemote(SelectedTargets(), InProcess, new SuiteOptions { Endpoints = ToEndpoints(), RpycHost = RpycHost, HttpHost = HttpHost, TcpHost = TcpHost }.RemoteEndpoints());
            if (!remote.Successful)
            {
                return remote;
            }
            if (!TryParseSizes(PayloadSizes, out _, out string? sizeError))
            {
                return ValidationResult.Error(sizeError!);
            }
            if (!BinarySizes.TryParseList(BinaryFileSizes, out _, out string? binaryError))
            {
                return ValidationResult.Error(binaryError!);
            }
            if (!BinarySizes.TryParse(BinaryChunkSize, out long binaryChunk) || binaryChunk > 256L << 20 || BinaryIterations < 1)
            {
                return ValidationResult.Error($"--binary-chunk-size must be 1 B to 256M (not '{BinaryChunkSize}') and --binary-iterations at least 1.");
            }
            string? unknown = ParseTargets(Targets).FirstOrDefault(t => !TargetCatalog.IsKnown(t));
            return unknown is null ? ValidationResult.Success()
                : ValidationResult.Error($"Unknown target '{unknown}'. Targets: {string.Join(", ", TargetCatalog.All.Select(t => t.Name))}.");
        }

        public IReadOnlyList<string> SelectedTargets()
        {
            var targets = Targets is null ? SuiteOptions.DefaultTargets.ToList() : ParseTargets(Targets).Distinct().ToList();
            if (Python)
            {
                targets.AddRange(SuiteOptions.PythonTargets.Where(t => !targets.Contains(t)));
            }
            if (SkipRpycThreaded)
            {
                targets.Remove(TargetCatalog.RpycThreaded);
            }
            if (SkipRpycForking)
            {
                targets.Remove(TargetCatalog.RpycForking);
            }
            if (SkipHttp)
            {
                targets.Remove(TargetCatalog.HttpThreaded);
            }
            return targets;
        }

        // Whether a .NET server of the protocol is started here, which a port option without its host
        // binds (SuiteOptions.EndpointChoices): a target given an endpoint is measured there.
        private bool StartsHere(string protocol)
        {
            IReadOnlyList<RemoteEndpoint> endpoints = new SuiteOptions { Endpoints = ToEndpoints(), RpycHost = RpycHost, HttpHost = HttpHost, TcpHost = TcpHost }.RemoteEndpoints();
            return SelectedTargets().Any(t => TargetCatalog.IsKnown(t) && TargetCatalog.Get(t) is { IsPython: false } info && info.Protocol == protocol && endpoints.All(e => e.Target != t));
        }

        // An endpoint option names a target that --targets or a --skip-* option leaves out: which
        // one is meant cannot be told, so neither wins (before, the endpoint's target ran anyway).
        private string? EndpointConflict()
        {
            var given = new List<(string Option, string Target)>();
            if (RpycHost is not null)
            {
                given.Add(("--rpyc-host", TargetCatalog.RpycThreaded));
            }
            if (HttpHost is not null)
            {
                given.Add(("--http-host", TargetCatalog.HttpThreaded));
            }
            if (TcpHost is not null)
            {
                given.Add(("--tcp-host", TargetCatalog.TcpRaw));
            }
            foreach (string endpoint in Endpoints ?? [])
            {
                if (RemoteEndpoint.TryParse(endpoint, out RemoteEndpoint? parsed, out _))
                {
                    given.Add(($"--endpoint {endpoint}", parsed.Target));
                }
            }
            string[] listed = [.. ParseTargets(Targets), .. Python ? SuiteOptions.PythonTargets : []];
            foreach ((string option, string target) in given)
            {
                string? skip = target switch
                {
                    TargetCatalog.RpycThreaded when SkipRpycThreaded => "--skip-rpyc-threaded",
                    TargetCatalog.RpycForking when SkipRpycForking => "--skip-rpyc-forking",
                    TargetCatalog.HttpThreaded when SkipHttp => "--skip-http",
                    _ => null,
                };
                if (skip is not null)
                {
                    return $"{option} measures {target} and {skip} leaves it out: give one of them, not both.";
                }
                if (Targets is not null && !listed.Contains(target))
                {
                    return $"{option} measures {target} but --targets {Targets} leaves it out: add {target} to --targets, or drop {option}.";
                }
            }
            return null;
        }

        public IReadOnlyList<string> ScenarioNames() => Scenarios.Trim() switch
        {
            "all" => DecisionScenario.Names,
            "none" or "" => [],
            _ => ParseTargets(Scenarios).Distinct().ToArray(),
        };

        public IReadOnlyList<RemoteEndpoint> ToEndpoints() =>
            (Endpoints ?? []).Select(e => RemoteEndpoint.TryParse(e, out RemoteEndpoint? parsed, out _) ? parsed : throw new ArgumentException($"Bad endpoint '{e}'.")).ToArray();

        private static string[] ParseTargets(string? list) =>
            (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        public static bool TryParseSizes(string list, out List<int> sizes, out string? error)
        {
            sizes = [];
            error = null;
            foreach (string item in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                string digits = new(item.TakeWhile(char.IsDigit).ToArray());
                string unit = item[digits.Length..].Trim().ToUpperInvariant();
                long scale = unit switch
                {
                    "" or "B" => 1,
                    "K" or "KB" or "KIB" => 1024,
                    "M" or "MB" or "MIB" => 1024 * 1024,
                    _ => 0,
                };
                if (scale == 0 || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n * scale < 1 || n * scale > BenchLimits.MaxPayloadBytes)
                {
                    error = $"Bad payload size '{item}': use bytes or K/KiB/M/MiB, from 1 B to 64 MiB.";
                    return false;
                }
                sizes.Add((int)(n * scale));
            }
            if (sizes.Count == 0)
            {
                error = "--payload-sizes is empty.";
                return false;
            }
            return true;
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!OutputPaths.Prepare(("--output", settings.Output, false), ("--plots", settings.Plots, true), ("--html", settings.Html, false),
            ("--markdown", settings.Markdown, false), ("--csv", settings.Csv, false)))
        {
            return ExitCodes.Usage;
        }
        IReadOnlyList<string> targets = settings.SelectedTargets();
        if (targets.Count == 0)
        {
            AnsiConsole.MarkupLine("[red]Error:[/] no target left to run.");
            return ExitCodes.Usage;
        }
        Settings.TryParseSizes(settings.PayloadSizes, out List<int> sizes, out _);
        var options = new SuiteOptions
        {
            Targets = targets,
            NumConnections = settings.NumConnections,
            NumRequests = settings.NumRequests,
            WarmupRequests = settings.Warmup,
            NumConcurrentClients = settings.NumConcurrentClients,
            RequestsPerClient = settings.RequestsPerClient,
            PayloadSizes = sizes,
            TransfersPerSize = settings.TransfersPerSize,
            MaxPhaseDuration = TimeSpan.FromSeconds(settings.MaxPhaseSeconds),
            MinPhaseDuration = TimeSpan.FromSeconds(settings.MinPhaseSeconds),
            Runs = settings.Runs,
            Scenarios = settings.ScenarioNames(),
            Placement = CpuPlacement.ParseMode(settings.Pin),
            Network = NetworkProfile.Parse(settings.Network),
            NetworkSweep = settings.NetworkSweep is null ? null : Bench.NetworkSweep.Parse(settings.NetworkSweep),
            NetworkSweepSecondsPerVariant = TimeSpan.FromSeconds(settings.SweepSeconds),
            RpycHost = settings.RpycHost,
            RpycPort = settings.RpycPort,
            HttpHost = settings.HttpHost,
            HttpPort = settings.HttpPort,
            TcpHost = settings.TcpHost,
            TcpPort = settings.TcpPort,
            Endpoints = settings.ToEndpoints(),
            KeepSamples = settings.KeepSamples,
            BinaryTransfer = settings.ToBinaryTransfer(),
            RunWrk = !settings.NoWrk,
            WrkDuration = TimeSpan.FromSeconds(settings.WrkSeconds),
            ReceiveSpin = TimeSpan.FromMicroseconds(settings.ReceiveSpinUs),
            ServerOptions = new ServerHostOptions { InProcess = settings.InProcess },
        };
        // --remote-host: the servers run there, each target measured at its endpoint; stopped at the end, whatever happens.
        using RemoteDeployment? remote = settings.Deploy(targets, cancellationToken, out bool remoteFailed);
        if (settings.PrepareTargets(remote, remoteFailed, ref options, cancellationToken) is int exit)
        {
            return exit;
        }
        if (Console.IsOutputRedirected)
        {
            // Redirected output has no width: give the side-by-side tables room instead of wrapping.
            AnsiConsole.Profile.Width = 200;
        }
        long start = Clock.Now;
        bool interactive = !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;
        BenchmarkReport report = Run(options, showProgress: !settings.Quiet && interactive, progressLines: !settings.Quiet && !interactive, cancellationToken);
        if (settings.Quiet)
        {
            SummaryRenderer.RenderQuiet(report);
        }
        else
        {
            SummaryRenderer.Render(report);
            AnsiConsole.MarkupLineInterpolated($"Wall time: {Clock.SecondsSince(start).ToString("F1", CultureInfo.InvariantCulture)} s");
        }
        if (settings.Output is not null)
        {
            JsonReporter.Write(report, settings.Output);
            AnsiConsole.MarkupLineInterpolated($"JSON report: {settings.Output}");
        }
        if (settings.Plots is not null)
        {
            IReadOnlyList<string> files = PlotReporter.Write(report, settings.Plots);
            AnsiConsole.MarkupLineInterpolated($"Plots: {files.Count} PNG files in {settings.Plots}");
        }
        ReportCommand.WriteExports(report, settings.Html, settings.Markdown, settings.Csv);
        return cancellationToken.IsCancellationRequested ? ExitCodes.Interrupted
            : report.AnyFailed ? ExitCodes.Failed
            : ExitCodes.Ok;
    }

    private static BenchmarkReport Run(SuiteOptions options, bool showProgress, bool progressLines, CancellationToken cancellationToken)
    {
        if (progressLines)
        {
            // No terminal (a CI log, a pipe): one line per target and phase on stderr, so the log shows the run moving.
            long start = Clock.Now;
            string? last = null;
            return Bench.NetworkSweep.RunSuite(options, new Progress(p =>
            {
                string round = p.Runs > 1 ? $"run {p.Run + 1}/{p.Runs}, " : "";
                string line = $"{p.Target} ({round}target {p.TargetIndex + 1}/{p.TargetCount}): {p.Phase}";
                if (line != last)
                {
                    last = line;
                    Console.Error.WriteLine($"[{Clock.SecondsSince(start).ToString("F1", CultureInfo.InvariantCulture),6} s] {line}");
                }
            }), cancellationToken);
        }
        if (!showProgress)
        {
            return Bench.NetworkSweep.RunSuite(options, null, cancellationToken);
        }
        SuiteProgress? current = null;
        var progress = new Progress(p => Volatile.Write(ref current, p));
        Task<BenchmarkReport> run = Task.Factory.StartNew(() => Bench.NetworkSweep.RunSuite(options, progress, cancellationToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        AnsiConsole.Status().Spinner(Spinner.Known.Dots).Start("starting", status =>
        {
            while (!run.Wait(100, CancellationToken.None))
            {
                if (Volatile.Read(ref current) is { } p)
                {
                    string round = p.Runs > 1 ? $"run {p.Run + 1}/{p.Runs}, " : "";
                    status.Status($"[bold]{p.Target}[/] ({round}target {p.TargetIndex + 1}/{p.TargetCount}): {p.Phase}{(cancellationToken.IsCancellationRequested ? " [yellow](interrupted, stopping)[/]" : "")}");
                }
            }
        });
        return run.GetAwaiter().GetResult();
    }

    // Reports on the calling thread (Progress<T> would post to the thread pool, out of order).
    private sealed class Progress(Action<SuiteProgress> report) : IProgress<SuiteProgress>
    {
        public void Report(SuiteProgress value) => report(value);
    }
}
