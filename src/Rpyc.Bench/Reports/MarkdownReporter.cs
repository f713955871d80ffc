using System.Globalization;
using System.Text;

namespace Rpyc.Bench;

/// <summary>
/// Renders the summary of a report as Markdown: the run's facts, then every summary table with all
/// targets side by side (a pull request or a wiki page scrolls sideways), the failed targets' errors
/// and the notes the console prints (<see cref="SummaryTables.Notes"/>). A pure function of the report.
/// </summary>
public static class MarkdownReporter
{
    /// <summary>Renders the report.</summary>
    /// <param name="report">The report.</param>
    /// <returns>The Markdown.</returns>
    public static string Render(BenchmarkReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var md = new StringBuilder();
        md.Append("# rpycbench results\n\n");
        foreach ((string name, string value) in ReportFacts.Of(report.Metadata))
        {
            md.Append("- **").Append(name).Append("**: ").Append(Escape(value)).Append('\n');
        }
        foreach (SummaryTable table in SummaryTables.Build(report))
        {
            md.Append("\n## ").Append(Escape(table.Title)).Append("\n\n");
            md.Append("| ").Append(string.Join(" | ", table.Columns.Select(Escape))).Append(" |\n");
            md.Append("| --- |").Append(string.Concat(Enumerable.Repeat(" ---: |", table.Columns.Count - 1))).Append('\n');
            foreach (IReadOnlyList<string> row in table.Rows)
            {
                md.Append("| ").Append(string.Join(" | ", row.Select(Escape))).Append(" |\n");
            }
        }
        // Why each target failed, as the console and the HTML page give it: the tables say only "failed".
        TargetReport[] failed = report.Targets.Where(t => t.Error is not null).ToArray();
        if (failed.Length > 0)
        {
            md.Append("\n## Errors\n\n| target | status | error |\n| --- | --- | --- |\n");
            foreach (TargetReport target in failed)
            {
                md.Append("| ").Append(Escape(target.Name)).Append(" | ").Append(Status(target.Status)).Append(" | ").Append(Escape(target.Error!)).Append(" |\n");
            }
        }
        // What the console prints under the tables: a reader of the Markdown must not trust figures it flags.
        IReadOnlyList<string> notes = SummaryTables.Notes(report);
        if (notes.Count > 0)
        {
            md.Append("\n## Notes\n\n");
            foreach (string note in notes)
            {
                md.Append("- ").Append(Escape(note)).Append('\n');
            }
        }
        md.Append("\nFigures with runs are the median of the runs ± the half-width of its 95% confidence interval.\n");
        return md.ToString();
    }

    /// <summary>Writes the Markdown to a file (UTF-8).</summary>
    /// <param name="report">The report.</param>
    /// <param name="path">The file.</param>
    public static void Write(BenchmarkReport report, string path) => File.WriteAllText(path, Render(report), new UTF8Encoding(false));

    // One table cell, or one line of a paragraph: a pipe would end a cell and a line break the table
    // or the line (an error often holds the server's stderr, a frame a line), and '<module>' of a
    // Python traceback would be read as HTML. A target's name is whatever the report file holds, so
    // what starts inline markup (emphasis, code, a link, strikethrough) is backslash-escaped too, and
    // the backslash itself, else 'a\|b' would end the cell after an escaped backslash. An underscore
    // between two letters or digits (rpyc_threaded) starts no emphasis in CommonMark: left as written.
    internal static string Escape(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var md = new StringBuilder(text.Length + 8);
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '&':
                    md.Append("&amp;");
                    break;
                case '<':
                    md.Append("&lt;");
                    break;
                case '>':
                    md.Append("&gt;");
                    break;
                case '_' when i > 0 && i < text.Length - 1 && char.IsLetterOrDigit(text[i - 1]) && char.IsLetterOrDigit(text[i + 1]):
                    md.Append(c);
                    break;
                case '\\' or '|' or '*' or '_' or '`' or '[' or ']' or '~':
                    md.Append('\\').Append(c);
                    break;
                default:
                    md.Append(c);
                    break;
            }
        }
        return md.ToString().ReplaceLineEndings("<br>");
    }

    private static string Status(TargetStatus status) => status switch
    {
        TargetStatus.Failed => "failed",
        TargetStatus.Interrupted => "interrupted",
        _ => "ok",
    };
}

/// <summary>The facts about a run every report states: date, machine, runtime, parameters.</summary>
public static class ReportFacts
{
    /// <summary>The facts as name and value, in reading order.</summary>
    /// <param name="m">The run's metadata.</param>
    /// <returns>The facts.</returns>
    public static IReadOnlyList<(string Name, string Value)> Of(RunMetadata m)
    {
        ArgumentNullException.ThrowIfNull(m);
        var facts = new List<(string, string)>
        {
            ("date", m.StartTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + " UTC"),
            ("machine", $"{m.Machine}: {m.CpuModel}, {m.ProcessorCount} logical CPUs, {(m.MemoryBytes / (1024.0 * 1024 * 1024)).ToString("F1", CultureInfo.InvariantCulture)} GiB"),
            ("operating system", m.OperatingSystem),
            ("runtime", m.Runtime),
            ("rpycbench", m.ToolVersion),
        };
        if (m.PeerVersions.Count > 0)
        {
            facts.Add(("peers", string.Join(", ", m.PeerVersions.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} {p.Value}"))));
        }
        if (m.LoadAverage.Count > 0)
        {
            facts.Add(("load average (1 min, start / end)", string.Join(" / ", m.LoadAverage.Select(l => l.ToString("F2", CultureInfo.InvariantCulture)))));
        }
        facts.Add(("parameters", Parameters(m)));
        if (m.Interrupted)
        {
            facts.Add(("interrupted", "yes: the results are partial"));
        }
        return facts;
    }

    /// <summary>The parameters as <c>name=value</c> pairs, for a caption.</summary>
    /// <param name="m">The run's metadata.</param>
    /// <returns>The text.</returns>
    public static string Parameters(RunMetadata m)
    {
        ArgumentNullException.ThrowIfNull(m);
        return string.Join(", ", m.Parameters.Select(p => $"{p.Key}={Format(p.Value)}"));
    }

    private static string Format(object value) => value switch
    {
        string s => s,
        System.Collections.IEnumerable items => string.Join("/", items.Cast<object?>().Select(i => Format(i ?? ""))),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
