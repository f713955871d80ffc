using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Rpyc.Profiling.Wire;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rpyc.Bench.Cli.Commands;

// rpycbench profile run [--via-proxy HOST:PORT [--listen [HOST:]PORT]] -- COMMAND [ARGS...]:
// in-process, runs an unmodified .NET program with process-wide profiling on (RPYC_PROFILE_REPORT)
// and prints the report it wrote at exit; with --via-proxy, runs any program (Python included)
// through the wire profiler, the program connecting to the listen port (given to it in
// RPYCBENCH_PROXY_PORT), and prints the wire report when it exits.
internal sealed class ProfileRunCommand : Command<ProfileRunCommand.Settings>
{
    // The variables Rpyc.Telemetry.ProcessProfiling (internal to Rpyc.Profiling, run as the program's
    // startup hook) reads: when the first names a file, every RpycConnection the process opens is
    // profiled and the full report is written to that file at process exit. Keep in step with it.
    internal const string ReportPathVariable = "RPYC_PROFILE_REPORT";
    internal const string SlowMsVariable = "RPYC_PROFILE_SLOW_MS";
    internal const string StartupHooksVariable = "DOTNET_STARTUP_HOOKS";
    internal const string StacksVariable = "RPYC_PROFILE_STACKS";

    // What a program run --via-proxy is told: where to connect instead of the server.
    internal const string ProxyHostVariable = "RPYCBENCH_PROXY_HOST";
    internal const string ProxyPortVariable = "RPYCBENCH_PROXY_PORT";

    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--slow-ms <MS>")]
        [Description("Calls lasting at least this long are slow calls. Default: 100.")]
        public double? SlowMs { get; init; }

        [CommandOption("--stacks")]
        [Description("In-process: keep the whole stack of the user's code for each call (shown on slow calls); the call site (file:line) is always shown.")]
        public bool Stacks { get; init; }

        [CommandOption("-o|--output <FILE>")]
        [Description("Also write the report to FILE (JSON with --via-proxy, text otherwise).")]
        public string? Output { get; init; }

        [CommandOption("--via-proxy <HOST:PORT>")]
        [Description("Profile on the wire instead of in-process, for any program (Python included): relay to the RPyC server at HOST:PORT. The program connects to the listen port, which it also finds in RPYCBENCH_PROXY_PORT (and RPYCBENCH_PROXY_HOST).")]
        public string? ViaProxy { get; init; }

        [CommandOption("--listen <HOST:PORT>")]
        [Description("With --via-proxy: where the relay listens, [HOST:]PORT. Default: 127.0.0.1 and a free port.")]
        public string? Listen { get; init; }

        public override ValidationResult Validate()
        {
            if (SlowMs is double slowMs && !ProfileProxyCommand.IsSlowMs(slowMs))
            {
                return ValidationResult.Error(ProfileProxyCommand.SlowMsRange);
            }
            if (Listen is not null && ViaProxy is null)
            {
                return ValidationResult.Error("--listen applies only with --via-proxy HOST:PORT (the server to relay to).");
            }
            if (Stacks && ViaProxy is not null)
            {
                // The relay sees frames, not the program's stack: accepted, it would be ignored.
                return ValidationResult.Error("--stacks applies only in-process, without --via-proxy (the relay sees the frames, not the program's stack).");
            }
            if (ViaProxy is not null && !ProfileEndpoints.TryParseTarget(ViaProxy, out _, out _, out string error))
            {
                return ValidationResult.Error($"--via-proxy: {error}");
            }
            if (Listen is not null && !ProfileEndpoints.TryParseListen(Listen, out _, out string listenError))
            {
                return ValidationResult.Error($"--listen: {listenError}");
            }
            return ValidationResult.Success();
        }
    }

    public override ValidationResult Validate(CommandContext context, Settings settings) =>
        context.Remaining.Raw.Count == 0
            ? ValidationResult.Error("No command to run: give it after --, e.g. 'rpycbench profile run -- dotnet MyApp.dll'.")
            : ValidationResult.Success();

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        !OutputPaths.Prepare(("--output", settings.Output, false)) ? ExitCodes.Usage
        : settings.ViaProxy is null ? RunInProcess(context.Remaining.Raw, settings) : RunViaProxy(context.Remaining.Raw, settings);

    private static int RunInProcess(IReadOnlyList<string> command, Settings settings)
    {
        string directory = Directory.CreateTempSubdirectory("rpycbench-profile-").FullName;
        string reportPath = Path.Combine(directory, "report.txt");
        try
        {
            var environment = new Dictionary<string, string>
            {
                [ReportPathVariable] = reportPath,
                // Process-wide profiling is opt-in and lives in Rpyc.Profiling, loaded as a startup hook.
                [StartupHooksVariable] = StartupHooks(),
            };
            if (settings.Stacks)
            {
                environment[StacksVariable] = "1";
            }
            if (settings.SlowMs is double slowMs)
            {
                environment[SlowMsVariable] = slowMs.ToString(CultureInfo.InvariantCulture);
            }
            if (!TryRun(command, environment, out int exitCode))
            {
                return ExitCodes.Failed;
            }
            string commandLine = CommandLine(command);
            if (!File.Exists(reportPath))
            {
                Console.Error.WriteLine(
                    $"rpycbench: {commandLine} (exit code {exitCode}) opened no RPyC connection: no report was written. " +
                    "Only .NET programs that use the Rpyc library are profiled in-process, and the report is written when the program exits normally " +
                    "(not when it is killed or dies of an unhandled exception). For any other program (Python included), use --via-proxy HOST:PORT.");
                return exitCode != 0 ? exitCode : ExitCodes.Failed;
            }
            string report = File.ReadAllText(reportPath);
            Console.Out.Write($"\nRPyC profile of {commandLine} (exit code {exitCode}):\n{report}");
            Console.Out.Flush();
            if (settings.Output is not null)
            {
                try
                {
                    File.WriteAllText(settings.Output, report);
                    Console.Error.WriteLine($"rpycbench: report written to {settings.Output}");
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    AnsiConsole.MarkupLineInterpolated($"[red]Error:[/] cannot write {settings.Output}: {ex.Message}");
                    return exitCode != 0 ? exitCode : ExitCodes.Failed;
                }
            }
            return exitCode != 0 ? exitCode : ExitCodes.Ok;
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static int RunViaProxy(IReadOnlyList<string> command, Settings settings)
    {
        ProfileEndpoints.TryParseTarget(settings.ViaProxy!, out string host, out int port, out _);
        IPEndPoint listen = new(IPAddress.Loopback, 0);
        if (settings.Listen is not null)
        {
            ProfileEndpoints.TryParseListen(settings.Listen, out listen, out _);
        }
        var options = new RpycWireProxyOptions { SlowCallThreshold = TimeSpan.FromMilliseconds(settings.SlowMs ?? 100) };
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
            string relayHost = proxy.LocalEndPoint.Address.Equals(IPAddress.Any) ? "127.0.0.1" : proxy.LocalEndPoint.Address.ToString();
            string relayPort = proxy.LocalEndPoint.Port.ToString(CultureInfo.InvariantCulture);
            Console.Error.WriteLine($"rpycbench: relaying {RemoteEndpoint.HostPort(relayHost, proxy.LocalEndPoint.Port)} -> {RemoteEndpoint.HostPort(host, port)}; the program finds the port in {ProxyPortVariable}.");
            var environment = new Dictionary<string, string> { [ProxyHostVariable] = relayHost, [ProxyPortVariable] = relayPort };
            if (!TryRun(command, environment, out int exitCode))
            {
                return ExitCodes.Failed;
            }
            // The program's sockets closed with it: let the relay see the last frames and the ends.
            if (proxy.TotalConnections > 0)
            {
                try
                {
                    proxy.Idle.Wait(TimeSpan.FromSeconds(5));
                }
                catch (AggregateException)
                {
                }
            }
            else
            {
                Console.Error.WriteLine($"rpycbench: {CommandLine(command)} (exit code {exitCode}) never connected to {RemoteEndpoint.HostPort(relayHost, proxy.LocalEndPoint.Port)}: point it at that port (or read {ProxyPortVariable}).");
            }
            Console.Out.Write($"\nRPyC wire profile of {CommandLine(command)} (exit code {exitCode}):");
            int reported = ProfileProxyCommand.Report(proxy.GetProfile(), settings.Output);
            return exitCode != 0 ? exitCode : reported;
        }
        finally
        {
            proxy.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    private static bool TryRun(IReadOnlyList<string> command, Dictionary<string, string> environment, out int exitCode)
    {
        exitCode = 0;
        var start = new ProcessStartInfo(command[0]) { UseShellExecute = false };
        foreach (string arg in command.Skip(1))
        {
            start.ArgumentList.Add(arg);
        }
        foreach ((string name, string value) in environment)
        {
            start.Environment[name] = value;
        }
        Console.Out.Flush();
        try
        {
            // Standard input, output and error are inherited. Ctrl-C reaches the program too (same
            // terminal); this process only waits, so the report is printed once the program exits.
            using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{command[0]} did not start.");
            process.WaitForExit();
            exitCode = process.ExitCode;
            return true;
        }
        catch (Exception ex) when (ex is Win32Exception or InvalidOperationException)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]Error:[/] cannot run {command[0]}: {ex.Message}");
            return false;
        }
    }

    // Rpyc.Profiling.dll beside this program, after any hooks the user already set.
    private static string StartupHooks()
    {
        string hook = Path.Combine(AppContext.BaseDirectory, "Rpyc.Profiling.dll");
        string? existing = Environment.GetEnvironmentVariable(StartupHooksVariable);
        return string.IsNullOrEmpty(existing) ? hook : existing + Path.PathSeparator + hook;
    }

    private static string CommandLine(IReadOnlyList<string> command) =>
        string.Join(' ', command.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));
}
