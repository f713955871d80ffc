using System.ComponentModel;
using System.Globalization;
using Rpyc.Bench;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rpyc.Bench.Cli.Commands;

// rpycbench sweep --clients 1,8,32 [--payload-sizes 1K,64K]: the suite at every point of the grid
// (ParameterSweep), one JSON, plots of each figure against each swept parameter, a console table.
internal sealed class SweepCommand : Command<SweepCommand.Settings>
{
    internal sealed class Settings : RemoteSettings
    {
        [CommandOption("--clients <LIST>")]
        [Description("Swept: the concurrent benchmark's clients, comma-separated (e.g. 1,8,32,128).")]
        public string? Clients { get; init; }

        [CommandOption("--payload-sizes <LIST>")]
        [Description("Swept: the bandwidth payload size, one per point (bytes, or K/KiB/M/MiB). Not given: every point measures 1K,10K,100K,1M.")]
        public string? PayloadSizes { get; init; }

        [CommandOption("--description <TEXT>")]
        [Description("What this sweep is for; written to the JSON and the plots.")]
        public string? Description { get; init; }

        [CommandOption("--targets <LIST>")]
        [Description("Comma-separated targets (as the run command's). Default: the .NET ones and tcp_raw.")]
        public string? Targets { get; init; }

        [CommandOption("--python")]
        [Description("Add the Python peers (rpyc threaded and forking, Flask) run by /usr/bin/python3.")]
        public bool Python { get; init; }

        [CommandOption("--num-connections|--num-serial-connections <N>")]
        [Description("Connections opened by the connection benchmark, per point.")]
        [DefaultValue(100)]
        public int NumConnections { get; init; } = 100;

        [CommandOption("--num-requests <N>")]
        [Description("Requests measured by the latency benchmark, per point.")]
        [DefaultValue(1000)]
        public int NumRequests { get; init; } = 1000;

        [CommandOption("--warmup <N>")]
        [Description("Unmeasured requests before the latency benchmark.")]
        [DefaultValue(100)]
        public int Warmup { get; init; } = 100;

        [CommandOption("--requests-per-client <N>")]
        [Description("Requests per client of the concurrent benchmark.")]
        [DefaultValue(100)]
        public int RequestsPerClient { get; init; } = 100;

        [CommandOption("--transfers-per-size <N>")]
        [Description("Transfers per payload size and direction.")]
        [DefaultValue(50)]
        public int TransfersPerSize { get; init; } = 50;

        [CommandOption("--runs <N>")]
        [Description("Interleaved runs per point (each figure the median of the runs, with a 95% confidence interval).")]
        [DefaultValue(1)]
        public int Runs { get; init; } = 1;

        [CommandOption("--min-phase-seconds <S>")]
        [Description("The least measurement time behind every figure of a point.")]
        [DefaultValue(0.5)]
        public double MinPhaseSeconds { get; init; } = 0.5;

        [CommandOption("--max-phase-seconds <S>")]
        [Description("The most time one measured phase may take.")]
        [DefaultValue(20.0)]
        public double MaxPhaseSeconds { get; init; } = 20;

        [CommandOption("--scenarios <LIST>")]
        [Description("Decision scenarios run at every point (record, list, chain, callback, upload, 'all'); default none, as the grid does not change them.")]
        [DefaultValue("none")]
        public string Scenarios { get; init; } = "none";

        [CommandOption("--network <PROFILE>")]
        [Description("A network played between client and servers at every point (as the run command's).")]
        [DefaultValue("loopback")]
        public string Network { get; init; } = "loopback";

        [CommandOption("--no-wrk")]
        [Description("Do not run wrk against the HTTP targets.")]
        public bool NoWrk { get; init; }

        [CommandOption("-o|--output <FILE>")]
        [Description("Write the sweep's JSON (metadata with description and grid, then every point's parameters and full report) to FILE.")]
        public string? Output { get; init; }

        [CommandOption("--plots <DIR>")]
        [Description("Write PNG plots of each figure against each swept parameter, one line per target, to DIR.")]
        public string? Plots { get; init; }

        [CommandOption("-q|--quiet")]
        [Description("No table and no progress lines (errors and written files are still printed).")]
        public bool Quiet { get; init; }

        public override ValidationResult Validate()
        {
            if (Clients is null && PayloadSizes is null)
            {
                return ValidationResult.Error("Nothing to sweep: give --clients and/or --payload-sizes.");
            }
            if (!TryParseClients(Clients, out _, out string? clientsError))
            {
                return ValidationResult.Error(clientsError);
            }
            if (PayloadSizes is not null && !RunCommand.Settings.TryParseSizes(PayloadSizes, out _, out string? sizeError))
            {
                return ValidationResult.Error(sizeError!);
            }
            if (NumConnections < 1 || NumRequests < 1 || RequestsPerClient < 1 || TransfersPerSize < 1 || Warmup < 0)
            {
                return ValidationResult.Error("Counts must be at least 1 (--warmup at least 0).");
            }
            if (Runs is < 1 or > 100)
            {
                return ValidationResult.Error("--runs must be from 1 to 100.");
            }
            if (MaxPhaseSeconds <= 0 || !double.IsFinite(MinPhaseSeconds) || MinPhaseSeconds < 0 || MinPhaseSeconds > MaxPhaseSeconds)
            {
                return ValidationResult.Error("--max-phase-seconds must be positive and --min-phase-seconds from 0 to it.");
            }
            if (!NetworkProfile.TryParse(Network, out _, out string? networkError))
            {
                return ValidationResult.Error(networkError!);
            }
            string? badScenario = ScenarioNames().FirstOrDefault(n => !DecisionScenario.Names.Contains(n));
            if (badScenario is not null)
            {
                return ValidationResult.Error($"Unknown scenario '{badScenario}'. Scenarios: {string.Join(", ", DecisionScenario.Names)}, all, none.");
            }
            string? unknown = Split(Targets).FirstOrDefault(t => !TargetCatalog.IsKnown(t));
            if (unknown is not null)
            {
                return ValidationResult.Error($"Unknown target '{unknown}'. Targets: {string.Join(", ", TargetCatalog.All.Select(t => t.Name))}.");
            }
            return ValidateRemote(SelectedTargets(), inProcess: false, []);
        }

        public IReadOnlyList<string> SelectedTargets()
        {
            var targets = Targets is null ? SuiteOptions.DefaultTargets.ToList() : Split(Targets).Distinct().ToList();
            if (Python)
            {
                targets.AddRange(SuiteOptions.PythonTargets.Where(t => !targets.Contains(t)));
            }
            return targets;
        }

        public IReadOnlyList<string> ScenarioNames() => Scenarios.Trim() switch
        {
            "all" => DecisionScenario.Names,
            "none" or "" => [],
            _ => Split(Scenarios).Distinct().ToArray(),
        };

        public IReadOnlyList<SweepAxis> Grid()
        {
            var grid = new List<SweepAxis>();
            if (TryParseClients(Clients, out List<int> clients, out _) && clients.Count > 0)
            {
                grid.Add(new SweepAxis(SweepAxis.Clients, clients));
            }
            if (PayloadSizes is not null && RunCommand.Settings.TryParseSizes(PayloadSizes, out List<int> sizes, out _))
            {
                grid.Add(new SweepAxis(SweepAxis.PayloadSize, sizes.Distinct().ToArray()));
            }
            return grid;
        }

        private static bool TryParseClients(string? list, out List<int> clients, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
        {
            clients = [];
            error = null;
            if (list is null)
            {
                return true;
            }
            foreach (string item in Split(list))
            {
                if (!int.TryParse(item, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n is < 1 or > 4096)
                {
                    error = $"Bad --clients value '{item}': a whole number from 1 to 4096.";
                    return false;
                }
                if (!clients.Contains(n))
                {
                    clients.Add(n);
                }
            }
            if (clients.Count == 0)
            {
                error = "--clients is empty.";
                return false;
            }
            return true;
        }

        private static string[] Split(string? list) =>
            (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!OutputPaths.Prepare(("--output", settings.Output, false), ("--plots", settings.Plots, true)))
        {
            return ExitCodes.Usage;
        }
        IReadOnlyList<string> targets = settings.SelectedTargets();
        if (targets.Count == 0)
        {
            AnsiConsole.MarkupLine("[red]Error:[/] no target to run.");
            return ExitCodes.Usage;
        }
        var options = new SuiteOptions
        {
            Targets = targets,
            NumConnections = settings.NumConnections,
            NumRequests = settings.NumRequests,
            WarmupRequests = settings.Warmup,
            RequestsPerClient = settings.RequestsPerClient,
            TransfersPerSize = settings.TransfersPerSize,
            MaxPhaseDuration = TimeSpan.FromSeconds(settings.MaxPhaseSeconds),
            MinPhaseDuration = TimeSpan.FromSeconds(settings.MinPhaseSeconds),
            Runs = settings.Runs,
            Scenarios = settings.ScenarioNames(),
            Network = NetworkProfile.Parse(settings.Network),
            RunWrk = !settings.NoWrk,
        };
        // --remote-host: deployed once, its servers kept across every point, stopped at the end whatever happens.
        using RemoteDeployment? remote = settings.Deploy(targets, cancellationToken, out bool remoteFailed);
        if (settings.PrepareTargets(remote, remoteFailed, ref options, cancellationToken) is int exit)
        {
            return exit;
        }
        if (Console.IsOutputRedirected)
        {
            AnsiConsole.Profile.Width = 200;
        }
        long start = Clock.Now;
        string? last = null;
        IProgress<SweepProgress>? progress = settings.Quiet ? null : new Progress(p =>
        {
            string line = $"point {p.Point + 1}/{p.Points} ({ParameterSweep.Describe(p.Parameters)}): {p.Suite.Target} (target {p.Suite.TargetIndex + 1}/{p.Suite.TargetCount}): {p.Suite.Phase}";
            if (line != last)
            {
                last = line;
                Console.Error.WriteLine($"[{Clock.SecondsSince(start).ToString("F1", CultureInfo.InvariantCulture),6} s] {line}");
            }
        });
        SweepReport sweep = ParameterSweep.Run(options, settings.Grid(), settings.Description, progress, cancellationToken);
        if (!settings.Quiet)
        {
            Render(sweep);
            AnsiConsole.MarkupLineInterpolated($"Wall time: {Clock.SecondsSince(start).ToString("F1", CultureInfo.InvariantCulture)} s");
        }
        foreach (SweepPoint point in sweep.Points)
        {
            foreach (TargetReport failed in point.Report.Targets.Where(t => t.Status == TargetStatus.Failed))
            {
                AnsiConsole.MarkupLineInterpolated($"[red]Failed:[/] {failed.Name} at {ParameterSweep.Describe(point.Parameters)}: {failed.Error ?? $"{failed.TotalFailures} failed requests"}");
            }
        }
        if (settings.Output is not null)
        {
            SweepJsonReporter.Write(sweep, settings.Output);
            AnsiConsole.MarkupLineInterpolated($"JSON sweep: {settings.Output}");
        }
        if (settings.Plots is not null)
        {
            IReadOnlyList<string> files = SweepPlotReporter.Write(sweep, settings.Plots);
            AnsiConsole.MarkupLineInterpolated($"Plots: {files.Count} PNG files in {settings.Plots}");
        }
        return cancellationToken.IsCancellationRequested ? ExitCodes.Interrupted
            : sweep.Points.Any(p => p.Report.AnyFailed) ? ExitCodes.Failed
            : ExitCodes.Ok;
    }

    // One row per point and target: the parameters, then every sweep figure.
    private static void Render(SweepReport sweep)
    {
        if (sweep.Metadata.Description is { } description)
        {
            AnsiConsole.MarkupLineInterpolated($"[bold]{description}[/]");
        }
        var table = new Table().Border(TableBorder.Simple);
        foreach (SweepAxis axis in sweep.Metadata.Grid)
        {
            table.AddColumn(new TableColumn(axis.Name switch { SweepAxis.Clients => "clients", SweepAxis.PayloadSize => "payload", _ => Markup.Escape(axis.Name) }).RightAligned());
        }
        table.AddColumn("target");
        foreach (SweepFigure figure in SweepFigure.All)
        {
            table.AddColumn(new TableColumn(Markup.Escape(figure.Label)).RightAligned());
        }
        foreach (SweepPoint point in sweep.Points)
        {
            foreach (TargetReport target in point.Report.Targets)
            {
                var cells = sweep.Metadata.Grid.Select(a => ParameterSweep.FormatValue(a.Name, point.Parameters[a.Name])).ToList();
                cells.Add(target.Status == TargetStatus.Ok ? target.Name : $"{target.Name} ({target.Status.ToString().ToLowerInvariant()})");
                cells.AddRange(SweepFigure.All.Select(f => f.Value(target) is double v ? Format(v) : "-"));
                table.AddRow(cells.Select(Markup.Escape).ToArray());
            }
        }
        AnsiConsole.Write(table);
    }

    private static string Format(double value) => value switch
    {
        >= 100 => value.ToString("N0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("F1", CultureInfo.InvariantCulture),
        _ => value.ToString("F2", CultureInfo.InvariantCulture),
    };

    private sealed class Progress(Action<SweepProgress> report) : IProgress<SweepProgress>
    {
        public void Report(SweepProgress value) => report(value);
    }
}
