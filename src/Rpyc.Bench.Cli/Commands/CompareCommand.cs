using System.ComponentModel;
using System.Globalization;
using Rpyc.Bench;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rpyc.Bench.Cli.Commands;

// rpycbench compare BASE.json NEW.json: every headline figure of both, with a verdict; --threshold gates CI.
internal sealed class CompareCommand : Command<CompareCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<BASE>")]
        [Description("The baseline JSON report (rpycbench -o FILE).")]
        public string Base { get; init; } = "";

        [CommandArgument(1, "<NEW>")]
        [Description("The new JSON report.")]
        public string New { get; init; } = "";

        [CommandOption("--threshold <PERCENT>")]
        [Description("Exit 1 when any figure is 'slower' and worse by more than PERCENT (e.g. 10%), or a target failed in NEW that did not in BASE; without it, compare always exits 0.")]
        public string? Threshold { get; init; }

        [CommandOption("--noise-band <PERCENT>")]
        [Description("The change counted as 'same' for figures without confidence intervals (a report of --runs 1).")]
        [DefaultValue("10%")]
        public string NoiseBand { get; init; } = "10%";

        [CommandOption("--json [FILE]")]
        [Description("Write the comparison as JSON to FILE; without FILE, to standard output instead of the table.")]
        public FlagValue<string>? Json { get; init; }

        [CommandOption("--markdown [FILE]")]
        [Description("Write the comparison as Markdown to FILE (e.g. for a pull-request comment); without FILE, to standard output instead of the table.")]
        public FlagValue<string>? Markdown { get; init; }

        public override ValidationResult Validate()
        {
            if (Threshold is not null && !TryParsePercent(Threshold, out _))
            {
                return ValidationResult.Error($"Bad --threshold '{Threshold}': give a percentage of 0 or more, e.g. 10%.");
            }
            if (!TryParsePercent(NoiseBand, out _))
            {
                return ValidationResult.Error($"Bad --noise-band '{NoiseBand}': give a percentage of 0 or more, e.g. 10%.");
            }
            return ToStdout(Json) && ToStdout(Markdown) ? ValidationResult.Error("Only one of --json and --markdown can go to standard output: give the other a FILE.") : ValidationResult.Success();
        }

        // An option given without a FILE writes to standard output.
        public static bool ToStdout(FlagValue<string>? option) => option is { IsSet: true } && string.IsNullOrEmpty(option.Value);

        public static string? Target(FlagValue<string>? option) => option is not { IsSet: true } ? null : ToStdout(option) ? "-" : option.Value;

        public static bool TryParsePercent(string text, out double percent) =>
            double.TryParse(text.Trim().TrimEnd('%'), NumberStyles.Float, CultureInfo.InvariantCulture, out percent) && double.IsFinite(percent) && percent >= 0;
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!OutputPaths.Prepare(("--json", Settings.Target(settings.Json), false), ("--markdown", Settings.Target(settings.Markdown), false)))
        {
            return ExitCodes.Usage;
        }
        BenchmarkReport baseline, current;
        try
        {
            baseline = ReportReader.Read(settings.Base);
            current = ReportReader.Read(settings.New);
        }
        catch (ReportFormatException ex)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]Error:[/] {ex.Message}");
            return ExitCodes.Usage;
        }
        Settings.TryParsePercent(settings.NoiseBand, out double noise);
        double? threshold = settings.Threshold is { } t && Settings.TryParsePercent(t, out double value) ? value : null;
        ReportComparison comparison = ReportComparison.Compare(baseline, current, noise);
        if (!Settings.ToStdout(settings.Json) && !Settings.ToStdout(settings.Markdown))
        {
            Console.Out.Write(ComparisonReporter.RenderText(comparison, threshold));
        }
        Write(Settings.Target(settings.Json), ComparisonReporter.RenderJson(comparison, threshold), "JSON comparison");
        Write(Settings.Target(settings.Markdown), ComparisonReporter.RenderMarkdown(comparison, threshold), "Markdown comparison");
        return threshold is double limit && comparison.Regressed(limit) ? ExitCodes.Failed : ExitCodes.Ok;
    }

    private static void Write(string? path, string content, string what)
    {
        if (path is null)
        {
            return;
        }
        if (path == "-")
        {
            Console.Out.Write(content);
            return;
        }
        File.WriteAllText(path, content, new System.Text.UTF8Encoding(false));
        // On stderr: stdout may be carrying the other format.
        Console.Error.WriteLine($"{what}: {path}");
    }
}
