using System.ComponentModel;
using Rpyc.Bench;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rpyc.Bench.Cli.Commands;

// rpycbench report RUN.json: renders a stored run again (tables, HTML, Markdown, CSV, plots).
internal sealed class ReportCommand : Command<ReportCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "<REPORT>")]
        [Description("A JSON report (rpycbench -o FILE).")]
        public string Report { get; init; } = "";

        [CommandOption("--html <FILE>")]
        [Description("Write a self-contained HTML report to FILE.")]
        public string? Html { get; init; }

        [CommandOption("--markdown <FILE>")]
        [Description("Write the summary tables as Markdown to FILE.")]
        public string? Markdown { get; init; }

        [CommandOption("--csv <FILE>")]
        [Description("Write every figure as CSV to FILE.")]
        public string? Csv { get; init; }

        [CommandOption("--plots <DIR>")]
        [Description("Write PNG plots to DIR.")]
        public string? Plots { get; init; }

        [CommandOption("-q|--quiet")]
        [Description("Do not print the summary tables.")]
        public bool Quiet { get; init; }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        if (!OutputPaths.Prepare(("--plots", settings.Plots, true), ("--html", settings.Html, false), ("--markdown", settings.Markdown, false), ("--csv", settings.Csv, false)))
        {
            return ExitCodes.Usage;
        }
        BenchmarkReport report;
        try
        {
            report = ReportReader.Read(settings.Report);
        }
        catch (ReportFormatException ex)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]Error:[/] {ex.Message}");
            return ExitCodes.Usage;
        }
        if (!settings.Quiet)
        {
            SummaryRenderer.Render(report);
        }
        if (settings.Plots is not null)
        {
            IReadOnlyList<string> files = PlotReporter.Write(report, settings.Plots);
            AnsiConsole.MarkupLineInterpolated($"Plots: {files.Count} PNG files in {settings.Plots}");
        }
        WriteExports(report, settings.Html, settings.Markdown, settings.Csv);
        return ExitCodes.Ok;
    }

    // The file exports a run and a stored report share.
    public static void WriteExports(BenchmarkReport report, string? html, string? markdown, string? csv)
    {
        if (html is not null)
        {
            HtmlReporter.Write(report, html);
            AnsiConsole.MarkupLineInterpolated($"HTML report: {html}");
        }
        if (markdown is not null)
        {
            MarkdownReporter.Write(report, markdown);
            AnsiConsole.MarkupLineInterpolated($"Markdown summary: {markdown}");
        }
        if (csv is not null)
        {
            CsvReporter.Write(report, csv);
            AnsiConsole.MarkupLineInterpolated($"CSV: {csv}");
        }
    }
}
