using System.Globalization;

namespace Rpyc.Bench.Tests;

public class ExportTests(ITestOutputHelper output)
{
    private static BenchmarkReport Seven()
    {
        string[] names = ["rpyc_threaded", "rpyc_forking", "http_threaded", "tcp_raw", "py_rpyc_threaded", "py_rpyc_forking", "py_flask_threaded"];
        BenchmarkReport sample = HtmlReportTests.ThreeTargets();
        return new BenchmarkReport
        {
            Metadata = sample.Metadata,
            Targets = names.Select((n, i) => CompareTests.Report(1 + (i * 300), n).Targets[0]).ToArray(),
        };
    }

    [Fact]
    public void TextReporter_SevenTargets_FitsEightyColumnsWithWholeNames()
    {
        BenchmarkReport report = Seven();
        string text = TextReporter.Render(report);
        Assert.All(text.Split('\n'), line => Assert.True(line.Length <= 80, $"{line.Length}: {line}"));
        foreach (TargetReport t in report.Targets)
        {
            Assert.Matches($@"(^|\s){t.Name}(\s|$)", text);
        }
        Assert.Contains("(continued)", text, StringComparison.Ordinal);
        Assert.Contains("p95 (ms)", text, StringComparison.Ordinal);
        Assert.Contains("latency p95 (µs)", text, StringComparison.Ordinal);
        Assert.Contains("Upload bandwidth per payload size (MiB/s)", text, StringComparison.Ordinal);
    }

    [Fact]
    public void TextReporter_EveryCatalogServerDescription_WrappedWithinEightyColumnsAndKeptWhole()
    {
        // The catalog's own descriptions: the Python peers' are 60-odd characters.
        TargetReport[] targets = [.. TargetCatalog.All.Select((info, i) => CompareTests.Report(1 + i, info.Name, implementation: info.Implementation).Targets[0])];
        var report = new BenchmarkReport { Metadata = Seven().Metadata, Targets = targets };
        string text = TextReporter.Render(report);
        Assert.All(text.Split('\n'), line => Assert.True(line.Length <= 80, $"{line.Length}: {line}"));
        // Every description is kept word for word, its lines joined by '\n'.
        SummaryTable[] all = [.. SummaryTables.FitWidth(SummaryTables.Build(report)[0], TextReporter.Width, 2)];
        string[] servers = [.. all.SelectMany(p => p.Rows.Single(r => r[0] == "server").Skip(1))];
        Assert.Equal(targets.Select(t => t.Implementation), servers.Select(s => s.Replace('\n', ' ')));
        Assert.Contains(servers, s => s.Contains('\n', StringComparison.Ordinal));
        // The main job's seven targets two or more to a part: no description takes a table of its own.
        string[] seven = [.. Seven().Targets.Select(t => t.Name)];
        var main = new BenchmarkReport { Metadata = report.Metadata, Targets = [.. targets.Where(t => seven.Contains(t.Name))] };
        Assert.Equal(7, main.Targets.Count);
        IReadOnlyList<SummaryTable> parts = SummaryTables.FitWidth(SummaryTables.Build(main)[0], TextReporter.Width, 2);
        Assert.All(parts.Take(parts.Count - 1), p => Assert.True(p.Columns.Count >= 3, string.Join(", ", p.Columns)));
    }

    [Fact]
    public void FitWidth_EveryCellKeptOnce()
    {
        SummaryTable table = SummaryTables.Build(Seven())[2];
        IReadOnlyList<SummaryTable> parts = SummaryTables.FitWidth(table, 80, 2);
        Assert.True(parts.Count > 1);
        Assert.Equal(table.Columns.Skip(1), parts.SelectMany(p => p.Columns.Skip(1)));
        for (int r = 0; r < table.Rows.Count; r++)
        {
            Assert.Equal(table.Rows[r].Skip(1), parts.SelectMany(p => p.Rows[r].Skip(1)));
        }
    }

    [Fact]
    public void Markdown_HasEveryTableAndTarget()
    {
        BenchmarkReport report = Seven();
        string md = MarkdownReporter.Render(report);
        foreach (SummaryTable table in SummaryTables.Build(report))
        {
            Assert.Contains($"## {table.Title}\n\n| {string.Join(" | ", table.Columns)} |", md, StringComparison.Ordinal);
        }
        Assert.Contains("- **date**: 2025-01-02 03:04:05 UTC", md, StringComparison.Ordinal);
    }

    // The console and the HTML page give a failed target's reason; the Markdown gave only the
    // word "failed" in its cells. Its error, often the server's stderr one frame a line, is one
    // table row: a pipe or a line break in it must not end the cell or the table.
    [Fact]
    public void Markdown_FailedTarget_ShowsItsErrorInOneRow()
    {
        BenchmarkReport sample = ReporterTests.Sample();
        var failed = new TargetReport
        {
            Name = "rpyc_forking",
            Protocol = "rpyc",
            Status = TargetStatus.Failed,
            Seconds = 60,
            Error = "no valid reply to ping within 60 s. Server stderr:\r\nTraceback (most recent call last):\n  File \"<string>\", line 1, in <module>\nValueError: a|b",
        };
        string md = MarkdownReporter.Render(new BenchmarkReport { Metadata = sample.Metadata, Targets = [sample.Targets[0], failed] });
        Assert.Contains(
            "| rpyc_forking | failed | no valid reply to ping within 60 s. Server stderr:<br>Traceback (most recent call last):<br>  File \"&lt;string&gt;\", line 1, in &lt;module&gt;<br>ValueError: a\\|b |\n",
            md, StringComparison.Ordinal);
        Assert.DoesNotContain(md.Split('\n'), line => line.StartsWith("Traceback", StringComparison.Ordinal) || line.StartsWith("ValueError", StringComparison.Ordinal));
    }

    // The console prints SummaryTables.Notes under the tables (a busy machine, a network-sweep
    // point's error, remote targets beside loopback ones); the Markdown left them out, so a reader of it trusted figures the console
    // flagged. A point's error is the relay's or a server's text: one list item, escaped.
    [Fact]
    public void Markdown_ReportWithNotes_ListsEveryNoteEscaped()
    {
        BenchmarkReport sample = ReporterTests.Sample();
        NetworkSweepReport whole = NetworkSweepTests.Sample();
        NetworkSweepPoint last = whole.Points[^1];
        NetworkSweepTargetResult failing = new() { Target = "rpyc_threaded", Error = "relay: bind failed\n  at <module>: a|b" };
        var report = new BenchmarkReport
        {
            Metadata = sample.Metadata,
            Targets =
            [
                new TargetReport { Name = "rpyc_threaded", Protocol = "rpyc", Status = TargetStatus.Ok, Seconds = 3, Latency = sample.Targets[0].Latency, NoiseCores = 1.5 },
                new TargetReport { Name = "http_threaded", Protocol = "http", Status = TargetStatus.Ok, Seconds = 3, Latency = sample.Targets[0].Latency, Remote = true, Endpoint = "[::1]:8080" },
            ],
            Sweep = new NetworkSweepReport
            {
                Points = [.. whole.Points.SkipLast(1), new NetworkSweepPoint { RoundTrip = last.RoundTrip, Profile = last.Profile, Targets = [failing, last.Targets[1]] }],
                SecondsPerVariant = whole.SecondsPerVariant,
            },
        };
        IReadOnlyList<string> notes = SummaryTables.Notes(report);
        Assert.Contains(notes, n => n.StartsWith("rpyc_threaded: other programs used 1.50 cores", StringComparison.Ordinal));
        Assert.Contains(notes, n => n.StartsWith("remote targets' figures include a network", StringComparison.Ordinal));

        string md = MarkdownReporter.Render(report);

        output.WriteLine(md);
        Assert.Contains("\n## Notes\n\n", md, StringComparison.Ordinal);
        foreach (string note in notes.Where(n => !n.Contains("relay: bind failed", StringComparison.Ordinal)))
        {
            Assert.Contains($"\n- {note}\n", md, StringComparison.Ordinal);
        }
        Assert.Contains("\n- rpyc_threaded at RTT 10ms: relay: bind failed<br>  at &lt;module&gt;: a\\|b\n", md, StringComparison.Ordinal);
        Assert.DoesNotContain(md.Split('\n'), line => line.StartsWith("  at", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("")]
    [InlineData("de-DE")]
    public void Csv_FiguresInJsonUnitsWithIntervals(string culture)
    {
        CultureInfo saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo(culture);
            BenchmarkReport report = CompareTests.Report(1);
            string[] lines = CsvReporter.Render(report).TrimEnd('\n').Split('\n');
            Assert.Equal(CsvReporter.Header, lines[0]);
            Assert.All(lines, l => Assert.Equal(7, l.Count(c => c == ',')));
            Statistics latency = report.Targets[0].Latency!.Latency;
            Interval ci = latency.Ci95!["p50"];
            Assert.Contains($"rpyc_threaded,latency,p50,seconds,{latency.P50.ToString("R", CultureInfo.InvariantCulture)},{ci.Low.ToString("R", CultureInfo.InvariantCulture)},{ci.High.ToString("R", CultureInfo.InvariantCulture)},3", lines);
            Assert.Contains(lines, l => l.StartsWith("rpyc_threaded,concurrent,success_rate,fraction,1,", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.StartsWith("rpyc_threaded,download_bandwidth,1048576,bytes_per_second,", StringComparison.Ordinal));
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }
}
