using System.Net;
using System.Text;

namespace Rpyc.Bench;

/// <summary>
/// Renders a report as one self-contained HTML page: the run's facts, every summary table, the
/// failed targets' errors, the notes the console prints under its tables
/// (<see cref="SummaryTables.Notes"/>), the plots (PNG embedded as data URIs) and the definitions
/// of the figures. Nothing is fetched when the
/// page is viewed (no script, font, style sheet or image from elsewhere). A pure function of the report.
/// </summary>
public static class HtmlReporter
{
    private const string Style = """
        body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
        h1 { font-size: 1.6em; } h2 { font-size: 1.25em; margin-top: 1.8em; border-bottom: 1px solid #ccc; }
        table { border-collapse: collapse; margin: 0.6em 0; font-variant-numeric: tabular-nums; }
        th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #e4e4e4; text-align: right; white-space: nowrap; }
        th:first-child, td:first-child { text-align: left; }
        thead th { background: #f3f3f3; }
        .scroll { overflow-x: auto; }
        .facts td, .facts th { text-align: left; white-space: normal; }
        .failed { color: #b00; font-weight: bold; }
        p.failed, ul.notes li { white-space: pre-wrap; overflow-wrap: anywhere; }
        figure { margin: 1em 0; } figure img { max-width: 100%; border: 1px solid #ddd; }
        dt { font-weight: bold; margin-top: 0.6em; } dd { margin-left: 1.5em; }
        """;

    /// <summary>The definitions of the figures, as shown on the page: name, then meaning.</summary>
    public static IReadOnlyList<(string Name, string Meaning)> Definitions { get; } =
    [
        ("Connection time", "From the start of a new TCP connection to the first validated reply on it (RPyC: the handshake, GETROOT and one call; HTTP: one request). TCP connect is the connect() part alone."),
        ("Latency", "The duration of one request at a time on a warm connection (ping): mean, percentiles p50 (median), p90, p95, p99, p99.9, and the standard deviation. Throughput is successful requests per second of that phase."),
        ("CPU per request", "The CPU time each side spent per measured ping, read from the kernel's per-process CPU clocks at the two ends of the latency phase: the client process, and the server's process tree when it runs on this machine in a process of its own. A side that waits by polling (--receive-spin-us: the .NET RPyC clients and servers and the raw TCP floor, on by default) counts its polling too, so its figure is then close to the latency itself; with --receive-spin-us 0 it is the work a request costs each side, system calls and wake-ups included."),
        ("Ping beside the floor", "Each ping connection of a target, after its own latency phase, is measured again in alternating blocks of 100 pings with a new connection to the raw TCP floor (tcp_raw): both p50s come from the same time slices, milliseconds apart, and 'ours ÷ floor' is their ratio (with runs, the median of the runs' ratios). The first ping of each block, after the other side's block, is not measured. This is the ratio the JSON's vs_floor.ping_p50 gives (method 'paired')."),
        ("Bandwidth", "Payload bytes moved per second for one payload size in one direction (upload: client to server; download: server to client), protocol overhead excluded. Never averaged across sizes. MiB = 1,048,576 bytes."),
        ("Concurrent", "N clients on N connections each sending M requests, released together by a start barrier: successful requests per second across all clients, latency under load, and the success rate (successful / all requests, in percent; a fraction in the JSON)."),
        ("Sustained, wrk", "For HTTP targets: wrk, an independent load generator, against the same server with the same connections; 'ours / wrk' near 1 means rpycbench's client is not the bottleneck."),
        ("Runs and ± figures", "With --runs N, every target is measured N times in interleaved rounds; a figure is the median of the runs, and '± h' the half-width of its 95% confidence interval (Student t over the runs)."),
        ("Machine speed", "Before each target of each run, the CPU time of the measuring thread to do a fixed piece of work (heapsort the same 16,384 integers, best of 5, in code compiled once), then the wall time of a 1-byte round trip over loopback TCP between two threads of the client pinned to two CPUs (median of 400), and the CPU time of one thread sending a byte over loopback TCP and receiving it (best of 5 x 500). On a virtual machine the host can change how fast the vCPUs compute, wake and make system calls, each apart, without any program in the VM showing it; when any part's run medians differ by more than 15 %, the notes say so. The transfer part is taken on each CPU in turn: \"runs begun with a CPU slow\" (Targets) names the runs of a target whose probe found a CPU more than 25 % dearer than the cheapest any CPU showed in the report, runs whose figures are likely slower than its others."),
        ("Other programs' CPU", "CPU time of other programs while the target was measured, in cores, from /proc/stat less the client's and server's own; high values mean the figures are disturbed."),
        ("Resources", "CPU time (percent of one core: 100 = one core busy) and resident memory of the server process tree and of the client process during the benchmarks."),
    ];

    /// <summary>Renders the report.</summary>
    /// <param name="report">The report.</param>
    /// <param name="includePlots">Whether to draw and embed the plots (off only for tests of the text).</param>
    /// <returns>The HTML document.</returns>
    public static string Render(BenchmarkReport report, bool includePlots = true)
    {
        ArgumentNullException.ThrowIfNull(report);
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.Append("<title>rpycbench results, ").Append(E(report.Metadata.StartTime.UtcDateTime.ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture))).Append(" UTC</title>\n");
        html.Append("<style>\n").Append(Style).Append("</style>\n</head>\n<body>\n");
        html.Append("<h1>rpycbench results</h1>\n");
        html.Append("<p>RPyC compared with HTTP/REST and raw TCP on ").Append(E(report.Metadata.Machine)).Append(": ")
            .Append(report.Targets.Count).Append(" targets (").Append(E(string.Join(", ", report.Targets.Select(t => t.Name)))).Append(").</p>\n");
        if (report.Metadata.Interrupted)
        {
            html.Append("<p class=\"failed\">The run was interrupted: the results are partial.</p>\n");
        }
        html.Append("<h2 id=\"run\">The run</h2>\n<table class=\"facts\">\n");
        foreach ((string name, string value) in ReportFacts.Of(report.Metadata))
        {
            html.Append("<tr><th>").Append(E(name)).Append("</th><td>").Append(E(value)).Append("</td></tr>\n");
        }
        html.Append("</table>\n");
        foreach (SummaryTable table in SummaryTables.Build(report))
        {
            html.Append("<h2>").Append(E(table.Title)).Append("</h2>\n<div class=\"scroll\"><table>\n<thead><tr>");
            foreach (string column in table.Columns)
            {
                html.Append("<th>").Append(E(column)).Append("</th>");
            }
            html.Append("</tr></thead>\n<tbody>\n");
            foreach (IReadOnlyList<string> row in table.Rows)
            {
                html.Append("<tr>");
                for (int i = 0; i < row.Count; i++)
                {
                    html.Append(i > 0 && row[i] is "failed" or "interrupted" ? "<td class=\"failed\">" : "<td>").Append(E(row[i])).Append("</td>");
                }
                html.Append("</tr>\n");
            }
            html.Append("</tbody></table></div>\n");
        }
        foreach (TargetReport target in report.Targets.Where(t => t.Error is not null))
        {
            html.Append("<p class=\"failed\">").Append(E(target.Name)).Append(": ").Append(E(target.Error!)).Append("</p>\n");
        }
        // What the console prints under the tables (a busy machine, a figure beating the floor...):
        // a reader of the page must not trust figures the console flags.
        IReadOnlyList<string> notes = SummaryTables.Notes(report);
        if (notes.Count > 0)
        {
            html.Append("<h2 id=\"notes\">Notes</h2>\n<ul class=\"notes\">\n");
            foreach (string note in notes)
            {
                html.Append("<li>").Append(E(note)).Append("</li>\n");
            }
            html.Append("</ul>\n");
        }
        if (includePlots)
        {
            html.Append("<h2 id=\"charts\">Charts</h2>\n");
            foreach ((_, string title, byte[] png) in PlotReporter.Render(report))
            {
                html.Append("<figure><img alt=\"").Append(E(title)).Append("\" src=\"data:image/png;base64,").Append(Convert.ToBase64String(png))
                    .Append("\"><figcaption>").Append(E(title)).Append("</figcaption></figure>\n");
            }
        }
        html.Append("<h2 id=\"definitions\">Definitions</h2>\n<dl>\n");
        foreach ((string name, string meaning) in Definitions)
        {
            html.Append("<dt>").Append(E(name)).Append("</dt><dd>").Append(E(meaning)).Append("</dd>\n");
        }
        html.Append("</dl>\n</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>Writes the page to a file (UTF-8).</summary>
    /// <param name="report">The report.</param>
    /// <param name="path">The file.</param>
    public static void Write(BenchmarkReport report, string path) => File.WriteAllText(path, Render(report), new UTF8Encoding(false));

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
