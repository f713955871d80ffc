using System.ComponentModel;
using System.Net;
using System.Net.Sockets;
using Rpyc.Profiling.Wire;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rpyc.Bench.Cli.Commands;

// rpycbench profile proxy --listen [HOST:]PORT --target HOST:PORT: a relay that profiles any RPyC
// client and server (Python included) from the frames, and prints the report when it stops.
internal sealed class ProfileProxyCommand : Command<ProfileProxyCommand.Settings>
{
    // The most --slow-ms and --duration take: past them TimeSpan overflows (1e20 ms) or the timer
    // refuses (49.7 days), with a stack trace rather than a usage error. 31 years and 46 days.
    internal const double MaxSlowMs = 1e12;
    internal const double MaxDurationSeconds = 4_000_000;

    internal const string SlowMsRange = "--slow-ms must be from 0 to 1e12 (milliseconds).";

    internal static bool IsSlowMs(double ms) => ms is >= 0 and <= MaxSlowMs;

    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--listen <HOST:PORT>")]
        [Description("Where clients connect: [HOST:]PORT (HOST 127.0.0.1 when omitted; PORT 0 picks a free one, printed at start).")]
        public string? Listen { get; init; }

        [CommandOption("--target <HOST:PORT>")]
        [Description("The RPyC server every client connection is relayed to.")]
        public string? Target { get; init; }

        [CommandOption("--slow-ms <MS>")]
        [Description("Round trips lasting at least this long are slow calls. Default: 100.")]
        public double SlowMs { get; init; } = 100;

        [CommandOption("--max-pending <N>")]
        [Description("Requests of each side of a connection awaited for a reply (and replies matching no request kept waiting for it); past it the oldest request is given up and counted ('Requests Given Up'), so a relay left running stays bounded. Default: 10000.")]
        public int MaxPending { get; init; } = RpycWireProxyOptions.Default.MaxPendingRequests;

        [CommandOption("--duration <SECONDS>")]
        [Description("Stop and report after this many seconds.")]
        public double? Duration { get; init; }

        [CommandOption("--exit-when-idle")]
        [Description("Stop and report when the last client disconnects (after at least one connected).")]
        public bool ExitWhenIdle { get; init; }

        [CommandOption("-o|--output <FILE>")]
        [Description("Also write the profile as JSON to FILE.")]
        public string? Output { get; init; }

        public override ValidationResult Validate()
        {
            if (Listen is null || Target is null)
            {
                return ValidationResult.Error("Both --listen [HOST:]PORT and --target HOST:PORT are required, e.g. 'rpycbench profile proxy --listen 18870 --target 127.0.0.1:18861'.");
            }
            if (!ProfileEndpoints.TryParseListen(Listen, out _, out string error) || !ProfileEndpoints.TryParseTarget(Target, out _, out _, out error))
            {
                return ValidationResult.Error(error);
            }
            if (!IsSlowMs(SlowMs))
            {
                return ValidationResult.Error(SlowMsRange);
            }
            if (MaxPending < 1)
            {
                return ValidationResult.Error("--max-pending must be from 1 to 2147483647 (requests).");
            }
            return Duration is not null and not (> 0 and <= MaxDurationSeconds)
                ? ValidationResult.Error("--duration must be more than 0 and at most 4000000 seconds.")
                : ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!OutputPaths.Prepare(("--output", settings.Output, false)))
        {
            return ExitCodes.Usage;
        }
        ProfileEndpoints.TryParseListen(settings.Listen!, out IPEndPoint listen, out _);
        ProfileEndpoints.TryParseTarget(settings.Target!, out string host, out int port, out _);
        var options = new RpycWireProxyOptions { SlowCallThreshold = TimeSpan.FromMilliseconds(settings.SlowMs), MaxPendingRequests = settings.MaxPending };
        RpycWireProxy proxy;
        try
        {
            proxy = RpycWireProxy.Start(listen, host, port, options);
        }
        catch (SocketException ex)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]Error:[/] cannot listen on {listen}: {ex.Message}");
            return ExitCodes.Failed;
        }
        try
        {
            string stop = settings.Duration is double seconds ? $"for {seconds:0.###} s" : settings.ExitWhenIdle ? "until the last client disconnects" : "until Ctrl-C";
            Console.Error.WriteLine($"rpycbench: profiling {proxy.LocalEndPoint} -> {RemoteEndpoint.HostPort(host, port)} {stop}; point the client at port {proxy.LocalEndPoint.Port}.");
            Wait(proxy, settings, cancellationToken);
            return Report(proxy.GetProfile(), settings.Output);
        }
        finally
        {
            proxy.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static void Wait(RpycWireProxy proxy, Settings settings, CancellationToken cancellationToken)
    {
        var waits = new List<Task> { Task.Delay(Timeout.Infinite, cancellationToken) };
        if (settings.Duration is double seconds)
        {
            waits.Add(Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken));
        }
        if (settings.ExitWhenIdle)
        {
            waits.Add(proxy.Idle);
        }
        // Ctrl-C, the duration or the last disconnect ends the wait; the report follows in every case.
        Task.WhenAny(waits).GetAwaiter().GetResult();
    }

    // Prints the text report and writes the JSON one; shared with 'profile run --via-proxy'.
    internal static int Report(WireProfile profile, string? output)
    {
        Console.Out.Write(WireProfileReport.FormatText(profile));
        Console.Out.Flush();
        if (output is null)
        {
            return ExitCodes.Ok;
        }
        try
        {
            using (FileStream file = File.Create(output))
            {
                WireProfileReport.WriteJson(profile, file);
            }
            Console.Error.WriteLine($"rpycbench: profile written to {output}");
            return ExitCodes.Ok;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]Error:[/] cannot write {output}: {ex.Message}");
            return ExitCodes.Failed;
        }
    }
}
