using System.Diagnostics;

namespace Rpyc.Bench.Tests;

// The examples/ programs, built with this test project (project references) and run with --quick.
[Collection(ServerProcesses.Name)]
public class ExamplesTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("AutonomousRun", "JSON report:")]
    [InlineData("ContextManagerBasic", "success rate 100.0")]
    [InlineData("AppIntegration", "overhead")]
    [InlineData("CustomBenchmark", "tcp_raw")]
    public async Task Example_Quick_RunsAndSucceeds(string example, string expected)
    {
        // bin/<Configuration>/net10.0 of this project maps onto the example's own output folder.
        string testBin = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        string configuration = Path.GetFileName(Path.GetDirectoryName(testBin)!);
        string repo = testBin;
        while (!File.Exists(Path.Combine(repo, "Rpyc.slnx")))
        {
            repo = Path.GetDirectoryName(repo) ?? throw new InvalidOperationException("Rpyc.slnx not found above the test output.");
        }
        string dll = Path.Combine(repo, "examples", example, "bin", configuration, "net10.0", example + ".dll");
        Assert.True(File.Exists(dll), $"{dll} was not built");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--quick");
        using Process process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(180_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{example} did not finish in 180 s");
        }
        output.WriteLine(stdout);
        output.WriteLine(await stderr);
        Assert.Equal(0, process.ExitCode);
        Assert.Contains(expected, stdout, StringComparison.Ordinal);
    }
}
