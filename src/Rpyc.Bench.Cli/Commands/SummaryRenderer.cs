using Rpyc.Bench;
using Spectre.Console;

namespace Rpyc.Bench.Cli.Commands;

// Renders the library's summary tables with Spectre.Console: one table per benchmark kind.
internal static class SummaryRenderer
{
    public static void Render(BenchmarkReport report)
    {
        // A terminal's own width; 80 in a log or a pipe. A column takes its text, one space each side and a border.
        int width = Console.IsOutputRedirected ? 80 : Math.Max(40, AnsiConsole.Profile.Width);
        foreach (SummaryTable summary in SummaryTables.Build(report).SelectMany(t => SummaryTables.FitWidth(t, width - 2, 3)))
        {
            var table = new Table().Border(TableBorder.Simple).Title($"[bold]{Markup.Escape(summary.Title)}[/]");
            for (int i = 0; i < summary.Columns.Count; i++)
            {
                var column = new TableColumn(Markup.Escape(summary.Columns[i]));
                table.AddColumn(i == 0 ? column.LeftAligned() : column.RightAligned());
            }
            foreach (IReadOnlyList<string> row in summary.Rows)
            {
                table.AddRow(row.Select((cell, i) => i > 0 && cell is "failed" or "interrupted" ? $"[red]{cell}[/]" : Markup.Escape(cell)).ToArray());
            }
            AnsiConsole.Write(table);
        }
        RenderErrors(report);
    }

    // What -q still prints: each failed target's reason and an interrupted run's warning on stdout;
    // the notes (noise, CPU speeds, remote beside loopback) on stderr, so that stdout holds errors
    // and written files only, as -q promises, and a person still sees why the figures are doubtful.
    public static void RenderQuiet(BenchmarkReport report) => RenderErrors(report, notesToStderr: true);

    private static void RenderErrors(BenchmarkReport report, bool notesToStderr = false)
    {
        foreach (TargetReport target in report.Targets.Where(t => t.Error is not null))
        {
            AnsiConsole.MarkupLineInterpolated($"[red]{target.Name}[/]: {target.Error}");
        }
        IAnsiConsole notes = notesToStderr ? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) }) : AnsiConsole.Console;
        bool redirected = notesToStderr ? Console.IsErrorRedirected : Console.IsOutputRedirected;
        int width = redirected ? 80 : Math.Max(40, notes.Profile.Width);
        foreach (string note in SummaryTables.Notes(report))
        {
            // Wrapped here: a log is read 80 columns wide.
            string[] lines = Wrap("Note: " + note, width - 1);
            notes.MarkupLineInterpolated($"[yellow]{lines[0]}[/]");
            foreach (string line in lines.Skip(1))
            {
                notes.MarkupLineInterpolated($"  {line}");
            }
        }
        if (report.Metadata.Interrupted)
        {
            AnsiConsole.MarkupLine("[yellow]Interrupted: the report is partial.[/]");
        }
    }

    // Greedy word wrap; the continuation lines are indented by two by the caller.
    private static string[] Wrap(string text, int width)
    {
        var lines = new List<string>();
        var line = new System.Text.StringBuilder();
        foreach (string word in text.Split(' '))
        {
            int limit = lines.Count == 0 ? width : width - 2;
            if (line.Length > 0 && line.Length + 1 + word.Length > limit)
            {
                lines.Add(line.ToString());
                line.Clear();
            }
            line.Append(line.Length > 0 ? " " : "").Append(word);
        }
        lines.Add(line.ToString());
        return [.. lines];
    }
}
