using System.Diagnostics;

namespace Rpyc.Bench.Tests;

// rpycbench machine: the machine description, the placements and other programs' CPU.
public class MachineCommandTests(ITestOutputHelper output)
{
    [Fact]
    public void Machine_Default_DescribesMachinePlacementsAndNoise()
    {
        (int code, string stdout) = Run("machine", "--seconds", "0.3");
        output.WriteLine(stdout);
        Assert.Equal(0, code);
        Assert.Contains("cpu_model", stdout, StringComparison.Ordinal);
        Assert.Contains("placement same-cpu", stdout, StringComparison.Ordinal);
        Assert.Contains("placement split-cpus", stdout, StringComparison.Ordinal);
        Assert.Contains("other programs' CPU", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Machine_NegativeSeconds_UsageError()
    {
        (int code, string stdout) = Run("machine", "--seconds", "-1");
        Assert.Equal(2, code);
        Assert.Contains("--seconds must be between 0 and 600", stdout, StringComparison.Ordinal);
    }

    private static (int Code, string Stdout) Run(params string[] args)
    {
        var start = new ProcessStartInfo(ForkingServer.DotnetHostPath) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rpycbench.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["COLUMNS"] = "200";
        using Process process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("rpycbench machine did not exit within 60 s.");
        }
        return (process.ExitCode, stdout + stderr.Result);
    }
}
