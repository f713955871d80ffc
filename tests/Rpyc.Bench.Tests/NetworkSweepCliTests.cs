using System.Diagnostics;
using Xunit.Abstractions;

namespace Rpyc.Bench.Tests;

// rpycbench --network-sweep, run as users run it: bad usage is refused before anything starts.
[Collection(ServerProcesses.Name)]
public class NetworkSweepCliTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("--network-sweep", "1ms")]
    [InlineData("--network-sweep", "0,10ms,1ms")]
    [InlineData("--network-sweep", "0,fast")]
    [InlineData("--network-sweep", "0,1ms", "--network", "lan")]
    [InlineData("--network-sweep", "0,1ms", "--sweep-seconds", "0")]
    public void Run_BadSweep_MessageAndExitCode2(params string[] args)
    {
        using Process process = Process.Start(CliTests.Rpycbench(args))!;
        process.StandardInput.Close();
        string stdout = process.StandardOutput.ReadToEnd();
        string stderr = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("rpycbench did not finish in 120 s");
        }
        output.WriteLine(stdout);
        output.WriteLine(stderr);
        Assert.Equal(2, process.ExitCode);
        Assert.Contains("Error:", stdout, StringComparison.Ordinal);
        Assert.Contains("sweep", stdout, StringComparison.OrdinalIgnoreCase);
    }
}
