using System.ComponentModel;
using System.Diagnostics;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rpyc.Bench.Cli.Commands;

// rpycbench profile run -- COMMAND [ARGS...]: runs an unmodified .NET program with process-wide
// profiling on (RPYC_PROFILE_REPORT), waits for it, then prints the report it wrote at exit.
internal sealed class ProfileRunCommand : Command<ProfileRunCommand.Settings>
{
    // The variable Rpyc.Telemetry.ProcessProfiling (internal to Rpyc) reads: when it names a file,
    // every RpycConnection the process opens is profiled and the full report is written to that
    // file at process exit. Keep in step with ProcessProfiling.ReportPathVariable.
    internal const string ReportPathVariable = "RPYC_PROFILE_REPORT";

    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--slow-ms <MS>")]
        [Description("Not applied yet: the profiled process reads only RPYC_PROFILE_REPORT, so its telemetry uses the defaults (slow calls at 100 ms). A warning says so when given.")]
        public double? SlowMs { get; init; }

        [CommandOption("-o|--output <FILE>")]
        [Description("Also write the report to FILE.")]
        public string? Output { get; init; }

        public override ValidationResult Validate() =>
            SlowMs is < 0 or double.NaN ? ValidationResult.Error("--slow-ms must be 0 or more.") : ValidationResult.Success();
    }

    public override ValidationResult Validate(CommandContext context, Settings settings) =>
        context.Remaining.Raw.Count == 0
            ? ValidationResult.Error("No command to run: give it after --, e.g. 'rpycbench profile run -- dotnet MyApp.dll'.")
            : ValidationResult.Success();

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> command = context.Remaining.Raw;
        if (settings.SlowMs is not null)
        {
            Console.Error.WriteLine($"rpycbench: --slow-ms is not applied: {ReportPathVariable} profiling uses the default telemetry options (slow calls at 100 ms).");
        }
        string directory = Directory.CreateTempSubdirectory("rpycbench-profile-").FullName;
        string reportPath = Path.Combine(directory, "report.txt");
        try
        {
            var start = new ProcessStartInfo(command[0]) { UseShellExecute = false };
            foreach (string arg in command.Skip(1))
            {
                start.ArgumentList.Add(arg);
            }
            start.Environment[ReportPathVariable] = reportPath;
            int exitCode;
            Console.Out.Flush();
            try
            {
                // Standard input, output and error are inherited. Ctrl-C reaches the program too (same
                // terminal); this process only waits, so the report the program writes at exit is printed.
                using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{command[0]} did not start.");
                process.WaitForExit();
                exitCode = process.ExitCode;
            }
            catch (Exception ex) when (ex is Win32Exception or InvalidOperationException)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]Error:[/] cannot run {command[0]}: {ex.Message}");
                return ExitCodes.Failed;
            }
            string commandLine = string.Join(' ', command.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"'{a}'" : a));
            if (!File.Exists(reportPath))
            {
                Console.Error.WriteLine(
                    $"rpycbench: {commandLine} (exit code {exitCode}) opened no RPyC connection: no report was written. " +
                    "Only .NET programs that use the Rpyc library are profiled, and the report is written when the program exits normally " +
                    "(not when it is killed or dies of an unhandled exception).");
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
}
