using System.ComponentModel;
using System.Globalization;
using System.Net.Sockets;
using Rpyc.Bench;
using Rpyc.Telemetry;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rpyc.Bench.Cli.Commands;

// rpycbench profile scenario NAME: runs a scripted scenario against a server of the benchmark
// service (one it starts, or --host/--port) with telemetry attached, and prints the full report.
internal sealed class ProfileScenarioCommand : Command<ProfileScenarioCommand.Settings>
{
    private const int DefaultTimelineWidth = 80;

    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<SCENARIO>")]
        [Description("ping, attribute-style, transfer, chunks or mixed.")]
        public string Scenario { get; init; } = "";

        [CommandOption("--host <HOST>")]
        [Description("Profile against the RPyC server there (any server of the benchmark service: 'rpycbench serve', Python's rpyc_server.py). Default: start a .NET rpyc_threaded server on 127.0.0.1 and stop it afterwards.")]
        public string? Host { get; init; }

        [CommandOption("--port <PORT>")]
        [Description("Port of the --host server (default 18812). Needs --host.")]
        public int? Port { get; init; }

        [CommandOption("--v6")]
        [Description("Speak the rpyc 6 message envelope (default: rpyc 5, which Debian's python3-rpyc speaks).")]
        public bool V6 { get; init; }

        [CommandOption("-n|--iterations <N>")]
        [Description("Iterations of the scenario (calls, or transfers per size).")]
        [DefaultValue(10)]
        public int Iterations { get; init; } = 10;

        [CommandOption("--slow-ms <MS>")]
        [Description("Calls at least this long are slow calls.")]
        [DefaultValue(100.0)]
        public double SlowMs { get; init; } = 100;

        [CommandOption("--timeline-width <W>")]
        [Description("Width of the timeline's time axis, in characters.")]
        [DefaultValue(DefaultTimelineWidth)]
        public int TimelineWidth { get; init; } = DefaultTimelineWidth;

        [CommandOption("-o|--output <FILE>")]
        [Description("Also write the report to FILE.")]
        public string? Output { get; init; }

        public override ValidationResult Validate() =>
            ProfileScenarios.Find(Scenario) is null ? ValidationResult.Error($"Unknown scenario '{Scenario}'. Scenarios: {ProfileScenarios.Names}.")
            : Iterations is < 1 or > 1_000_000 ? ValidationResult.Error("--iterations must be between 1 and 1000000.")
            : !ProfileProxyCommand.IsSlowMs(SlowMs) ? ValidationResult.Error(ProfileProxyCommand.SlowMsRange)
            : TimelineWidth is < 10 or > 1000 ? ValidationResult.Error("--timeline-width must be between 10 and 1000.")
            : Port is < 1 or > 65535 ? ValidationResult.Error("--port must be between 1 and 65535.")
            : Port is not null && Host is null ? ValidationResult.Error("--port needs --host (without --host, a server is started on a free port).")
            : ValidationResult.Success();
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!OutputPaths.Prepare(("--output", settings.Output, false)))
        {
            return ExitCodes.Usage;
        }
        ProfileScenario scenario = ProfileScenarios.Find(settings.Scenario)!;
        var telemetryOptions = new RpycTelemetryOptions { SlowCallThreshold = TimeSpan.FromMilliseconds(settings.SlowMs) };
        var connectOptions = new RpycConnectOptions { ProtocolVersion = settings.V6 ? RpycProtocolVersion.V6 : RpycProtocolVersion.V5 };
        RpycServerHost? server = null;
        try
        {
            string host = settings.Host ?? "127.0.0.1";
            int port = settings.Port ?? 18812;
            if (settings.Host is null)
            {
                server = new RpycServerHost("127.0.0.1", 0, RpycServerMode.Threaded);
                port = server.Port;
                Console.Error.WriteLine($"rpycbench: started a .NET rpyc_threaded server on 127.0.0.1:{port} (pid {server.ProcessId}); it stops when the scenario ends.");
            }
            (ProfileResult result, string text) = Profile(scenario, settings, host, port, telemetryOptions, connectOptions);
            string report = string.Create(CultureInfo.InvariantCulture,
                $"Scenario {scenario.Name} ({settings.Iterations} iterations): {scenario.Description}\n") + text;
            Console.Out.Write(report);
            Console.Out.Flush();
            if (settings.Output is not null)
            {
                File.WriteAllText(settings.Output, report);
                Console.Error.WriteLine($"rpycbench: report written to {settings.Output}");
            }
            return cancellationToken.IsCancellationRequested ? ExitCodes.Interrupted
                : result.Succeeded ? ExitCodes.Ok
                : ExitCodes.Failed;
        }
        catch (Exception ex) when (ex is ServerStartException or RpycException or SocketException or IOException or UnauthorizedAccessException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]Error:[/] {ex.Message}");
            return ExitCodes.Failed;
        }
        finally
        {
            server?.Dispose();
        }
    }

    private static (ProfileResult Result, string Report) Profile(ProfileScenario scenario, Settings settings, string host, int port, RpycTelemetryOptions telemetryOptions, RpycConnectOptions connectOptions)
    {
        var telemetry = new RpycTelemetry(telemetryOptions);
        // The connection is closed only after the report is made: its CLOSE is not part of the scenario.
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection(host, port, telemetry, connectOptions);
        Action<dynamic> run = scenario.Build(settings.Iterations, telemetry.Section);
        ProfileResult result = RpycProfiler.RunScenario(connection, telemetry, run);
        if (settings.TimelineWidth == DefaultTimelineWidth)
        {
            return (result, result.Report);
        }
        // The full report draws the timeline 80 wide; nothing has been recorded since, so the same
        // call gives the same text, which is swapped for the requested width.
        string standard = telemetry.FormatTimeline(DefaultTimelineWidth, maxLines: 500);
        string wide = telemetry.FormatTimeline(settings.TimelineWidth, maxLines: 500);
        return (result, result.Report.Replace(standard, wide, StringComparison.Ordinal));
    }
}
