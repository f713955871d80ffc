using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using Rpyc.Bench;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rpyc.Bench.Cli.Commands;

// rpycbench locust: each target's server started here, driven by Locust's master and workers
// (Rpyc.Bench's LocustRun), the result written as a report with a `distributed` section.
internal sealed class LocustCommand : Command<LocustCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--targets <LIST>")]
        [Description("Comma-separated targets whose servers Locust drives (RPyC and HTTP ones).")]
        [DefaultValue("rpyc_threaded,py_rpyc_threaded,http_threaded,py_flask_threaded")]
        public string Targets { get; init; } = "rpyc_threaded,py_rpyc_threaded,http_threaded,py_flask_threaded";

        [CommandOption("--workers <N>")]
        [Description("Locust workers started here, as local processes.")]
        [DefaultValue(2)]
        public int Workers { get; init; } = 2;

        [CommandOption("--external-workers <N>")]
        [Description("Workers the master also waits for, to be started on other hosts with the command printed (needs a --host they can reach, not loopback: the master and the servers bind it).")]
        [DefaultValue(0)]
        public int ExternalWorkers { get; init; }

        [CommandOption("--users <N>")]
        [Description("Locust users in all, spread over the workers.")]
        [DefaultValue(8)]
        public int Users { get; init; } = 8;

        [CommandOption("--spawn-rate <R>")]
        [Description("Users started per second (default: all at once).")]
        public double? SpawnRate { get; init; }

        [CommandOption("--duration <S>")]
        [Description("Seconds of load per target.")]
        [DefaultValue(10.0)]
        public double Duration { get; init; } = 10;

        [CommandOption("--operation <OP>")]
        [Description("ping, echo (of --payload-size bytes, checked byte for byte), or a decision scenario: record, list, chain, callback; record_by_value, list_by_value, chain_by_value for RPyC targets.")]
        [DefaultValue("ping")]
        public string Operation { get; init; } = "ping";

        [CommandOption("--payload-size <SIZE>")]
        [Description("Echo's payload, e.g. 1K.")]
        [DefaultValue("1K")]
        public string PayloadSize { get; init; } = "1K";

        [CommandOption("--host <HOST>")]
        [Description("The IPv4 address (or a name of one) the servers and the master bind; Locust binds no IPv6. Not loopback only with workers on other hosts: RPyC has no authentication (a warning is printed).")]
        [DefaultValue("127.0.0.1")]
        public string Host { get; init; } = "127.0.0.1";

        [CommandOption("--master-port <PORT>")]
        [Description("The master's port (default: a free one).")]
        [DefaultValue(0)]
        public int MasterPort { get; init; }

        [CommandOption("-o|--output <FILE>")]
        [Description("Write the JSON report to FILE.")]
        public string? Output { get; init; }

        [CommandOption("--plots <DIR>")]
        [Description("Write PNG plots to DIR.")]
        public string? Plots { get; init; }

        [CommandOption("--html <FILE>")]
        [Description("Write a self-contained HTML report to FILE.")]
        public string? Html { get; init; }

        [CommandOption("-q|--quiet")]
        [Description("Do not print the summary tables: stdout holds errors and written files only; the notes on the figures go to stderr.")]
        public bool Quiet { get; init; }

        // ping and echo, and the decision scenarios (DecisionScenario) the locustfile knows.
        private static readonly string[] s_operations = ["ping", "echo", "record", "list", "chain", "callback", "record_by_value", "list_by_value", "chain_by_value"];

        public IReadOnlyList<string> TargetList => Targets.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        public override ValidationResult Validate()
        {
            foreach (string t in TargetList)
            {
                if (!TargetCatalog.IsKnown(t))
                {
                    return ValidationResult.Error($"Unknown target '{t}'.");
                }
                if (TargetCatalog.Get(t).Protocol is not ("rpyc" or "http") || TargetCatalog.Get(t).Server != t)
                {
                    return ValidationResult.Error($"'{t}' cannot be driven by Locust: its users speak RPyC and HTTP to a server target (rpyc_*, http_*, py_*).");
                }
            }
            if (TargetList.Count == 0)
            {
                return ValidationResult.Error("--targets names no target.");
            }
            if (Workers < 0 || ExternalWorkers < 0 || Workers + ExternalWorkers < 1 || Workers > 64)
            {
                return ValidationResult.Error("--workers must be 0-64 and with --external-workers make at least 1.");
            }
            if (Users < 1 || Users > 10_000)
            {
                return ValidationResult.Error("--users must be between 1 and 10000.");
            }
            if (SpawnRate is <= 0)
            {
                return ValidationResult.Error("--spawn-rate must be positive.");
            }
            if (Duration is < 1 or > 86_400)
            {
                return ValidationResult.Error("--duration must be between 1 and 86400 seconds.");
            }
            if (!s_operations.Contains(Operation))
            {
                return ValidationResult.Error($"--operation must be one of {string.Join(", ", s_operations)}.");
            }
            if (Operation.EndsWith("_by_value", StringComparison.Ordinal) && TargetList.FirstOrDefault(t => TargetCatalog.Get(t).Protocol != "rpyc") is string http)
            {
                return ValidationResult.Error($"--operation {Operation} is an RPyC style; '{http}' is an HTTP target (its REST form is '{Operation[..^"_by_value".Length]}').");
            }
            if (!RunCommand.Settings.TryParseSizes(PayloadSize, out List<int> sizes, out string? error) || sizes.Count != 1)
            {
                return ValidationResult.Error(error ?? "--payload-size takes one size.");
            }
            if (MasterPort is < 0 or > 65535)
            {
                return ValidationResult.Error("--master-port must be between 0 and 65535.");
            }
            if (!LocalServer.TryResolveHost(Host, out string? hostError))
            {
                return ValidationResult.Error($"--host: {hostError}");
            }
            if (ExternalWorkers > 0 && LocalServer.IsLoopback(Host))
            {
                // External workers run on other hosts (README, --help): there a loopback address is
                // their own machine, so none could ever join and the run only waited for them.
                return ValidationResult.Error($"--external-workers {ExternalWorkers} with --host {Host}: the master and the servers would bind a loopback address, which workers on other hosts cannot reach. Give an address of this host they reach (--host 10.0.0.5, or 0.0.0.0 for every address); for workers on this machine, use --workers.");
            }
            return System.Net.IPAddress.TryParse(Host, out System.Net.IPAddress? address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
                ? ValidationResult.Error($"--host {Host}: {LocustRun.Ipv4Only}")
                : ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!OutputPaths.Prepare(("--output", settings.Output, false), ("--plots", settings.Plots, true), ("--html", settings.Html, false)))
        {
            return ExitCodes.Usage;
        }
        RunCommand.Settings.TryParseSizes(settings.PayloadSize, out List<int> sizes, out _);
        if (settings.Host is not ("127.0.0.1" or "localhost" or "::1"))
        {
            AnsiConsole.MarkupLineInterpolated($"[yellow]Warning:[/] the servers and the master bind {settings.Host}: anyone who reaches it can call them (RPyC has no authentication).");
        }
        var options = new LocustOptions
        {
            LocalWorkers = settings.Workers,
            ExternalWorkers = settings.ExternalWorkers,
            Users = settings.Users,
            SpawnRate = settings.SpawnRate,
            Duration = TimeSpan.FromSeconds(settings.Duration),
            Operation = settings.Operation,
            PayloadBytes = sizes[0],
            MasterBindHost = settings.Host,
            MasterPort = settings.MasterPort,
        };
        DateTimeOffset started = DateTimeOffset.Now;
        var clock = Stopwatch.StartNew();
        var targets = new List<TargetReport>();
        foreach (string name in settings.TargetList)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            targets.Add(RunTarget(name, options, settings.Quiet, cancellationToken));
        }
        BenchmarkReport report = Report(settings, targets, started, clock.Elapsed.TotalSeconds, cancellationToken.IsCancellationRequested);
        if (!settings.Quiet)
        {
            SummaryRenderer.Render(report);
        }
        else
        {
            SummaryRenderer.RenderQuiet(report);
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
        if (settings.Html is not null)
        {
            HtmlReporter.Write(report, settings.Html);
            AnsiConsole.MarkupLineInterpolated($"HTML report: {settings.Html}");
        }
        return cancellationToken.IsCancellationRequested ? ExitCodes.Interrupted : report.AnyFailed ? ExitCodes.Failed : ExitCodes.Ok;
    }

    private static TargetReport RunTarget(string name, LocustOptions options, bool quiet, CancellationToken cancellationToken)
    {
        TargetInfo info = TargetCatalog.Get(name);
        var clock = Stopwatch.StartNew();
        string? endpoint = null;
        try
        {
            using ServerHost server = ServerHost.Start(name, options.MasterBindHost, 0);
            string host = options.MasterBindHost is "0.0.0.0" or "::" ? "127.0.0.1" : options.MasterBindHost;
            endpoint = RemoteEndpoint.HostPort(host, server.Port);
            if (!quiet)
            {
                AnsiConsole.MarkupLineInterpolated($"[grey]{name}: {options.LocalWorkers + options.ExternalWorkers} Locust workers, {options.Users} users, {options.Duration.TotalSeconds:0} s against {endpoint}[/]");
            }
            var run = new LocustRun(options);
            DistributedResult result = run.Run(info.Protocol, host, server.Port, command =>
            {
                if (options.ExternalWorkers > 0)
                {
                    AnsiConsole.MarkupLineInterpolated($"Start {options.ExternalWorkers} worker(s) on other hosts with:");
                    Console.WriteLine("  " + command);
                }
            }, cancellationToken);
            bool ok = result.Failures == 0 && result.Requests > 0;
            return Target(info, endpoint, ok ? TargetStatus.Ok : TargetStatus.Failed,
                ok ? null : result.Requests == 0 ? "Locust made no request." : $"{result.Failures} of {result.Requests} requests failed.", clock.Elapsed.TotalSeconds, result);
        }
        catch (OperationCanceledException)
        {
            return Target(info, endpoint, TargetStatus.Interrupted, "interrupted", clock.Elapsed.TotalSeconds, null);
        }
        catch (Exception ex) when (ex is LocustRunException or ServerStartException or PythonPeerMissingException or FileNotFoundException)
        {
            return Target(info, endpoint, TargetStatus.Failed, ex.Message, clock.Elapsed.TotalSeconds, null);
        }
    }

    private static TargetReport Target(TargetInfo info, string? endpoint, TargetStatus status, string? error, double seconds, DistributedResult? result) => new()
    {
        Name = info.Name,
        Protocol = info.Protocol,
        ServerMode = info.ServerMode,
        Implementation = info.Implementation,
        Client = result?.Clients ?? "Python (Locust users)",
        Endpoint = endpoint,
        Status = status,
        Error = error,
        Seconds = seconds,
        Distributed = result,
    };

    private static BenchmarkReport Report(Settings settings, IReadOnlyList<TargetReport> targets, DateTimeOffset started, double seconds, bool interrupted)
    {
        RunMetadata m = BenchmarkSuite.CollectMetadata(new SuiteOptions { Targets = settings.TargetList.ToList() }, started, seconds, interrupted);
        return new BenchmarkReport
        {
            Metadata = new RunMetadata
            {
                ToolVersion = m.ToolVersion,
                StartTime = m.StartTime,
                Seconds = m.Seconds,
                Machine = m.Machine,
                OperatingSystem = m.OperatingSystem,
                CpuModel = m.CpuModel,
                ProcessorCount = m.ProcessorCount,
                MemoryBytes = m.MemoryBytes,
                Runtime = m.Runtime,
                PeerVersions = m.PeerVersions,
                Interrupted = m.Interrupted,
                Details = m.Details,
                Parameters = new Dictionary<string, object>
                {
                    ["engine"] = "locust",
                    ["workers"] = settings.Workers,
                    ["external_workers"] = settings.ExternalWorkers,
                    ["users"] = settings.Users,
                    ["duration_seconds"] = settings.Duration,
                    ["operation"] = settings.Operation,
                    ["payload_size"] = settings.PayloadSize,
                    ["targets"] = string.Join(",", settings.TargetList),
                },
            },
            Targets = targets,
        };
    }
}
