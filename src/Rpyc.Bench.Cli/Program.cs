using System.Runtime.InteropServices;
using Rpyc.Bench;
using Rpyc.Bench.Cli.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

// Ctrl-C cancels the run (partial report, servers stopped, exit 130); a second Ctrl-C stops at once.
// SIGTERM (CI cancel, timeout, docker stop) does the same and exits 143, as a shell reports it.
using var interrupt = new CancellationTokenSource();
bool terminated = false;
Console.CancelKeyPress += (_, e) =>
{
    if (interrupt.IsCancellationRequested)
    {
        ServerHost.StopAll();
        RemoteDeployment.StopAll();
        return;
    }
    e.Cancel = true;
    interrupt.Cancel();
};
using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    if (interrupt.IsCancellationRequested)
    {
        ServerHost.StopAll();
        RemoteDeployment.StopAll();
        return;
    }
    // Keep the process alive until the partial report is written.
    context.Cancel = true;
    terminated = true;
    interrupt.Cancel();
});

bool usageError = false;
var app = new CommandApp<RunCommand>();
app.Configure(config =>
{
    config.SetApplicationName("rpycbench");
    config.UseStrictParsing();
    config.UseAssemblyInformationalVersion();
    config.SetHelpProvider(new StackedHelpProvider(config.Settings));
    config.AddCommand<ServeCommand>("serve")
        .WithDescription("Run one target's server until stopped, so a suite elsewhere can measure it (--rpyc-host/--http-host).")
        .WithExample("serve", "rpyc_threaded", "--host", "0.0.0.0", "--port", "18812");
    config.AddCommand<SweepCommand>("sweep")
        .WithDescription("Run the suite at every point of a grid (--clients, --payload-sizes), with --description; one JSON of every point's full report, plots of each figure against each swept parameter, one line per target.")
        .WithExample("sweep", "--clients", "1,8,32,128", "--targets", "rpyc_threaded,http_threaded,tcp_raw", "--description", "clients on the LAN", "-o", "sweep.json", "--plots", "sweep-plots");
    config.AddCommand<MachineCommand>("machine")
        .WithDescription("Describe this machine (CPU, cores, memory, runtime, idle and frequency governors, load), the CPU placements it allows, and other programs' CPU use now.");
    config.AddCommand<CompareCommand>("compare")
        .WithDescription("Compare two JSON reports figure by figure (faster / slower / same, from confidence intervals or a noise band); --threshold exits 1 on a regression, for CI.")
        .WithExample("compare", "baseline.json", "new.json", "--threshold", "10%")
        .WithExample("compare", "baseline.json", "new.json", "--markdown", "comparison.md");
    config.AddCommand<ReportCommand>("report")
        .WithDescription("Render a stored JSON report again: summary tables, and --html, --markdown, --csv or --plots files.")
        .WithExample("report", "run.json", "--html", "run.html");
    config.AddCommand<LocustCommand>("locust")
        .WithDescription("Drive each target's server with Locust's master and workers (Python users, every reply checked); latency from the workers' merged microsecond histograms, written as the report's distributed section.")
        .WithExample("locust", "--targets", "rpyc_threaded,py_rpyc_threaded", "--workers", "2", "--users", "8", "--duration", "10", "-o", "locust.json");
    config.AddBranch("profile", profile =>
    {
        profile.SetDescription("Show what RPyC does on the wire: round trips, netrefs, call tree, timeline, slow calls and advice.");
        profile.AddCommand<ProfileScenarioCommand>("scenario")
            .WithDescription($"Run a scripted scenario ({ProfileScenarios.Names}) against a server of the benchmark service and print the full telemetry report.")
            .WithExample("profile", "scenario", "attribute-style", "--iterations", "3")
            .WithExample("profile", "scenario", "mixed", "--host", "127.0.0.1", "--port", "18812", "-o", "report.txt");
        profile.AddCommand<ProfileRunCommand>("run")
            .WithDescription("Run an unmodified .NET program (given after --: COMMAND [[ARGS...]]) with every RPyC connection it opens profiled, then print the report it wrote at exit.")
            .WithExample("profile", "run", "--", "dotnet", "MyApp.dll", "--my-arg");
        profile.AddCommand<ProfileProxyCommand>("proxy")
            .WithDescription("Relay clients to an RPyC server (any language, 5.x or 6.x), forwarding every byte unchanged, and profile them from the frames; report on Ctrl-C, --duration or --exit-when-idle.")
            .WithExample("profile", "proxy", "--listen", "18870", "--target", "127.0.0.1:18861", "--exit-when-idle", "-o", "profile.json");
    });
    config.SetExceptionHandler((ex, resolver) =>
    {
        // Parse and validation errors are usage errors: say what is wrong, point to --help, exit 2.
        if (ex is CommandParseException or CommandConfigurationException or CommandRuntimeException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]Error:[/] {ex.Message}");
            usageError = true;
            return ExitCodes.Usage;
        }
        AnsiConsole.WriteException(ex, ExceptionFormats.ShortenEverything);
        return ExitCodes.Failed;
    });
});

int code = app.Run(args, interrupt.Token);
if (terminated && code == ExitCodes.Interrupted)
{
    return ExitCodes.Terminated;
}
if (args is ["profile"] && code == ExitCodes.Failed)
{
    // Spectre shows a branch's help and returns 1 when no subcommand is given: that is bad usage.
    return ExitCodes.Usage;
}
// 'profile run' passes the program's exit code through: a 2 from it is not a usage error.
bool passesExitCode = args is ["profile", "run", ..];
if (code == ExitCodes.Usage && (usageError || !passesExitCode))
{
    // The message, then one line: the full help would push the message off the screen.
    string command = args switch
    {
        ["serve" or "compare" or "report" or "sweep" or "locust" or "machine", ..] => $"rpycbench {args[0]} --help",
        ["profile", "scenario" or "run" or "proxy", ..] => $"rpycbench profile {args[1]} --help",
        ["profile", ..] => "rpycbench profile --help",
        _ => "rpycbench --help",
    };
    Console.WriteLine($"Run '{command}' for the options.");
}
return code;
