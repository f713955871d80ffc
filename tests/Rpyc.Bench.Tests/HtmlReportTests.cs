using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace Rpyc.Bench.Tests;

// The HTML report rendered by a real browser: Debian's chromium, headless, installed by scripts/install-peers.sh.
public partial class HtmlReportTests(ITestOutputHelper output)
{
    private const string Chromium = "/usr/bin/chromium";

    internal static BenchmarkReport ThreeTargets()
    {
        BenchmarkReport sample = ReporterTests.Sample();
        TargetReport first = sample.Targets[0];
        BenchmarkReport runs = CompareTests.Report(1, "py_rpyc_threaded");
        BenchmarkReport slow = CompareTests.Report(40, "py_flask_threaded", runs: 1);
        return new BenchmarkReport { Metadata = sample.Metadata, Targets = [first, runs.Targets[0], slow.Targets[0]] };
    }

    [Fact]
    public void Html_InHeadlessChromium_ShowsEveryTargetFigureAndChart()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run 'bash scripts/install-peers.sh' (apt-get install chromium).");
        BenchmarkReport report = ThreeTargets();
        string dir = Directory.CreateTempSubdirectory("rpycbench-html").FullName;
        try
        {
            string page = Path.Combine(dir, "report.html");
            HtmlReporter.Write(report, page);
            string html = File.ReadAllText(page);
            // Self-contained: nothing to fetch when the page is viewed.
            Assert.DoesNotMatch(@"(src|href)\s*=\s*""(https?:)?//", html);
            Assert.Equal(5, Regex.Matches(html, "<img [^>]*src=\"data:image/png;base64,").Count);

            string dom = RunChromium(dir, "--dump-dom", new Uri(page).AbsoluteUri);
            string text = WebUtility.HtmlDecode(Tags().Replace(dom, " "));
            text = Spaces().Replace(text, " ");
            foreach (TargetReport target in report.Targets)
            {
                Assert.Contains(target.Name, text, StringComparison.Ordinal);
            }
            foreach (SummaryTable table in SummaryTables.Build(report))
            {
                Assert.Contains(table.Title, text, StringComparison.Ordinal);
                foreach (string cell in table.Rows.SelectMany(r => r))
                {
                    Assert.Contains(cell, text, StringComparison.Ordinal);
                }
            }
            foreach ((string name, string meaning) in HtmlReporter.Definitions)
            {
                Assert.Contains(meaning, text, StringComparison.Ordinal);
            }
            Assert.Contains("host: cpu, 2 logical CPUs", text, StringComparison.Ordinal);
            Assert.Contains("2025-01-02 03:04:05 UTC", text, StringComparison.Ordinal);

            string png = Path.Combine(dir, "shot.png");
            RunChromium(dir, $"--screenshot={png}", "--window-size=1280,3000", new Uri(page).AbsoluteUri);
            byte[] bytes = File.ReadAllBytes(png);
            Assert.True(bytes.Length > 20_000, $"screenshot of {bytes.Length} bytes");
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // A failed target's error often holds the server's stderr, one line per frame: the browser
    // shows its lines, as the console does, not one run-on paragraph.
    [Fact]
    public void Html_MultiLineError_ShowsItsLinesInHeadlessChromium()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run 'bash scripts/install-peers.sh' (apt-get install chromium).");
        BenchmarkReport sample = ReporterTests.Sample();
        var failed = new TargetReport
        {
            Name = "rpyc_forking",
            Protocol = "rpyc",
            Status = TargetStatus.Failed,
            Seconds = 60,
            Error = "no valid reply to ping within 60 s. Server stderr:\nrpyc: worker 11904: Unhandled exception.\nrpyc: worker 11904:    at Rpyc.Servers.ForkingWorker.Run() + 0x106",
        };
        BenchmarkReport report = new() { Metadata = sample.Metadata, Targets = [sample.Targets[0], failed] };
        string dir = Directory.CreateTempSubdirectory("rpycbench-html").FullName;
        try
        {
            // The test's own script reads the text as the browser lays it out (innerText follows
            // the page's white-space rules); the report itself has no script.
            string page = Path.Combine(dir, "report.html");
            File.WriteAllText(page, HtmlReporter.Render(report, includePlots: false).Replace("</body>",
                "<pre id=\"shown\"></pre><script>document.getElementById('shown').textContent = JSON.stringify(document.querySelector('p.failed').innerText);</script></body>", StringComparison.Ordinal));

            string dom = RunChromium(dir, "--dump-dom", new Uri(page).AbsoluteUri);

            Match shown = Regex.Match(dom, "<pre id=\"shown\">(.*?)</pre>", RegexOptions.Singleline);
            Assert.True(shown.Success, dom);
            string text = System.Text.Json.JsonSerializer.Deserialize<string>(WebUtility.HtmlDecode(shown.Groups[1].Value))!;
            Assert.Equal($"rpyc_forking: {failed.Error}", text);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // The console prints notes under its tables (a busy machine, a remote target beside loopback
    // ones...): the page shows them too, each a list item the browser lays out as written.
    [Fact]
    public void Html_ReportWithNotes_ShowsEveryNoteInHeadlessChromium()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: run 'bash scripts/install-peers.sh' (apt-get install chromium).");
        BenchmarkReport sample = ReporterTests.Sample();
        var report = new BenchmarkReport
        {
            Metadata = sample.Metadata,
            Targets =
            [
                new TargetReport { Name = "rpyc_threaded", Protocol = "rpyc", Status = TargetStatus.Ok, Seconds = 3, Latency = sample.Targets[0].Latency, NoiseCores = 1.5 },
                new TargetReport { Name = "http_threaded", Protocol = "http", Status = TargetStatus.Ok, Seconds = 3, Latency = sample.Targets[0].Latency, Remote = true, Endpoint = "[::1]:8080" },
            ],
        };
        IReadOnlyList<string> notes = SummaryTables.Notes(report);
        Assert.True(notes.Count >= 2, string.Join("\n", notes));
        string dir = Directory.CreateTempSubdirectory("rpycbench-html").FullName;
        try
        {
            string page = Path.Combine(dir, "report.html");
            File.WriteAllText(page, HtmlReporter.Render(report, includePlots: false).Replace("</body>",
                "<pre id=\"shown\"></pre><script>document.getElementById('shown').textContent = JSON.stringify([...document.querySelectorAll('ul.notes li')].map(li => li.innerText));</script></body>", StringComparison.Ordinal));

            string dom = RunChromium(dir, "--dump-dom", new Uri(page).AbsoluteUri);

            Match shown = Regex.Match(dom, "<pre id=\"shown\">(.*?)</pre>", RegexOptions.Singleline);
            Assert.True(shown.Success, dom);
            string[] items = System.Text.Json.JsonSerializer.Deserialize<string[]>(WebUtility.HtmlDecode(shown.Groups[1].Value))!;
            Assert.Equal(notes, items);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private string RunChromium(string dir, params string[] args)
    {
        var start = new ProcessStartInfo(Chromium) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (string arg in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", $"--user-data-dir={Path.Combine(dir, "profile")}", .. args])
        {
            start.ArgumentList.Add(arg);
        }
        using Process process = Process.Start(start)!;
        process.StandardInput.Close();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("chromium did not finish in 120 s");
        }
        output.WriteLine(stderr.Result);
        Assert.Equal(0, process.ExitCode);
        return stdout;
    }

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tags();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();
}
