using System.Diagnostics;

namespace Rpyc.Bench.Tests;

// A short run writing every export, then 'rpycbench report' rendering the stored JSON again.
[Collection(ServerProcesses.Name)]
public class ReportCommandTests(ITestOutputHelper output)
{
    private (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        using Process process = Process.Start(CliTests.Rpycbench(args))!;
        process.StandardInput.Close();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(300_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("rpycbench did not finish in 300 s");
        }
        output.WriteLine(stdout);
        output.WriteLine(stderr.Result);
        return (process.ExitCode, stdout, stderr.Result);
    }

    [Fact]
    public void Run_NotATerminal_ProgressLinesTablesIn80ColumnsAndEveryExport()
    {
        string dir = Directory.CreateTempSubdirectory("rpycbench-exports").FullName;
        try
        {
            string json = Path.Combine(dir, "run.json"), html = Path.Combine(dir, "run.html"), md = Path.Combine(dir, "run.md"), csv = Path.Combine(dir, "run.csv");
            (int code, string stdout, string stderr) = Run(
                "--targets", "tcp_raw,rpyc_threaded", "--num-connections", "5", "--num-requests", "20", "--warmup", "5", "--num-concurrent-clients", "2",
                "--requests-per-client", "10", "--payload-sizes", "1K", "--transfers-per-size", "2", "--min-phase-seconds", "0",
                "-o", json, "--html", html, "--markdown", md, "--csv", csv);
            Assert.Equal(0, code);
            // stdout is a pipe here: one progress line per target and phase, on stderr.
            Assert.Matches(@"\[\s*\d+\.\d s\] tcp_raw \(target 1/2\): latency", stderr);
            Assert.Matches(@"\[\s*\d+\.\d s\] rpyc_threaded \(target 2/2\): concurrent", stderr);
            Assert.All(stdout.Split('\n'), line => Assert.True(line.Length <= 80, $"{line.Length}: {line}"));
            Assert.Contains("rpyc_threaded", stdout, StringComparison.Ordinal);
            Assert.Contains("p95", stdout, StringComparison.Ordinal);
            Assert.StartsWith("<!DOCTYPE html>", File.ReadAllText(html), StringComparison.Ordinal);
            Assert.Contains("| metric | tcp_raw | rpyc_threaded |", File.ReadAllText(md), StringComparison.Ordinal);
            Assert.StartsWith(CsvReporter.Header + "\ntcp_raw,", File.ReadAllText(csv), StringComparison.Ordinal);

            string html2 = Path.Combine(dir, "again.html"), csv2 = Path.Combine(dir, "again.csv");
            (code, stdout, _) = Run("report", json, "--html", html2, "--csv", csv2, "--plots", Path.Combine(dir, "plots"));
            Assert.Equal(0, code);
            Assert.Contains("Latency", stdout, StringComparison.Ordinal);
            Assert.Equal(File.ReadAllText(csv), File.ReadAllText(csv2));
            Assert.Equal(5, Directory.GetFiles(Path.Combine(dir, "plots"), "*.png").Length);
            Assert.Contains("rpyc_threaded", File.ReadAllText(html2), StringComparison.Ordinal);

            File.WriteAllText(Path.Combine(dir, "bad.json"), "[]");
            (code, stdout, _) = Run("report", Path.Combine(dir, "bad.json"), "--html", html2);
            Assert.Equal(2, code);
            Assert.Contains("is not an rpycbench report", stdout, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // A report file's target names are any text (a hand-edited file, another tool's): in the
    // Markdown a '|' ended the cell, '*', '_' and backticks made emphasis and code, '[x](y)' a link.
    [Fact]
    public void Report_TargetNamesWithMarkup_MarkdownEscapesThemAndKeepsTheTables()
    {
        const string name = "evil|*bold* _em_ `code` <i>[x](y)</i> a\\|b";
        const string escaped = @"evil\|\*bold\* \_em\_ \`code\` &lt;i&gt;\[x\](y)&lt;/i&gt; a\\\|b";
        string dir = Directory.CreateTempSubdirectory("rpycbench-md-names").FullName;
        try
        {
            BenchmarkReport ok = CompareTests.Report(1, name);
            var failed = new TargetReport { Name = "*failed*_" + name, Protocol = "rpyc", Status = TargetStatus.Failed, Seconds = 1, Error = "refused" };
            string json = Path.Combine(dir, "run.json"), md = Path.Combine(dir, "run.md");
            JsonReporter.Write(new BenchmarkReport { Metadata = ok.Metadata, Targets = [.. ok.Targets, failed] }, json);

            (int code, _, _) = Run("report", json, "--markdown", md);

            Assert.Equal(0, code);
            string text = File.ReadAllText(md);
            output.WriteLine(text);
            Assert.Contains($"| metric | {escaped} | \\*failed\\*\\_{escaped} |\n", text, StringComparison.Ordinal);
            Assert.Contains($"\n| \\*failed\\*\\_{escaped} | failed | refused |\n", text, StringComparison.Ordinal);
            Assert.DoesNotContain(name, text, StringComparison.Ordinal);
            MarkdownTables.AssertWhole(text);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
