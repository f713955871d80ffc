using System.Diagnostics;
using System.Globalization;

namespace Rpyc.Bench.Tests;

// rpycbench-host, the child-server program: serves a target, says its port, stops when stdin closes;
// and the suite's hosts start it, never the CLI's rpycbench.dll.
[Collection(ServerProcesses.Name)]
public class HostTests(ITestOutputHelper output)
{
    private static readonly string s_host = Path.Combine(AppContext.BaseDirectory, "rpycbench-host.dll");

    [Theory]
    [InlineData(TargetCatalog.RpycThreaded)]
    [InlineData(TargetCatalog.HttpThreaded)]
    [InlineData(TargetCatalog.TcpRaw)]
    public void Host_Target_ServesThenExitsWhenStdinCloses(string target)
    {
        using Process process = StartHost("serve", target, "--port", "0", "--watch-stdin");
        try
        {
            string? line = ReadLine(process, TimeSpan.FromSeconds(60));
            output.WriteLine($"{target}: {line}");
            Assert.NotNull(line);
            Assert.StartsWith("PORT ", line, StringComparison.Ordinal);
            int port = int.Parse(line.AsSpan(5), CultureInfo.InvariantCulture);
            using (BenchClient client = BenchTarget.Create(target, TargetCatalog.Get(target).Protocol, "127.0.0.1", port).Connect())
            {
                client.Ping();
                client.Echo(Payload.Create(10_000));
                client.Download(70_000);
            }
            process.StandardInput.Close();
            Assert.True(process.WaitForExit(15_000), $"{target}: the host did not exit after its stdin closed");
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            Kill(process);
        }
    }

    [Fact]
    public void Host_UnknownTarget_ExitsWithUsageError()
    {
        using Process process = StartHost("no_such_target");
        string stderr = process.StandardError.ReadToEnd();
        Assert.True(process.WaitForExit(30_000));
        Assert.Equal(2, process.ExitCode);
        Assert.Contains("Unknown target 'no_such_target'", stderr, StringComparison.Ordinal);
        Assert.Contains("rpyc_threaded", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(TargetCatalog.RpycThreaded)]
    [InlineData(TargetCatalog.RpycForking)]
    public void ServerHost_DotnetTarget_RunsTheHostProgramNotTheCli(string target)
    {
        using ServerHost host = ServerHost.Start(target);
        string cmdline = File.ReadAllText($"/proc/{host.ProcessId}/cmdline");
        output.WriteLine(cmdline.Replace('\0', ' '));
        Assert.Contains("rpycbench-host.dll\0serve\0" + target + "\0", cmdline, StringComparison.Ordinal);
        Assert.DoesNotContain("rpycbench.dll", cmdline, StringComparison.Ordinal);
        // The RPyC servers' hosts run without dynamic PGO (ServerHost.TieredPgoVariable), unless this
        // test's own environment sets it; every other host keeps the runtime's default.
        string[] environment = File.ReadAllText($"/proc/{host.ProcessId}/environ").Split('\0');
        string pgo = ServerHost.TieredPgoVariable + "=0";
        if (Environment.GetEnvironmentVariable(ServerHost.TieredPgoVariable) is null)
        {
            Assert.Equal(target is TargetCatalog.RpycForking or TargetCatalog.RpycThreaded, environment.Contains(pgo));
        }
        using BenchClient client = host.Target.Connect();
        client.Ping();
        if (target == TargetCatalog.RpycForking)
        {
            // The connection is served by a worker (rpyc-worker.dll beside the host), a child of the host.
            Assert.Contains(ProcStat.Descendants(host.ProcessId), p => CommandLine(p.Pid).Contains("rpyc-worker.dll", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData(TargetCatalog.RpycThreaded)]
    [InlineData(TargetCatalog.RpycForking)]
    public void RunsWithoutDynamicPgo_InProcess_IsThisProcesssSetting(string target)
    {
        // --in-process: the server runs in the CLI's process, whose dynamic PGO is the runtime's
        // default here; before, the report said "PGO off" as for a host process.
        TargetInfo info = TargetCatalog.Get(target);
        Assert.Equal(!ServerHost.ThisProcessUsesDynamicPgo(), ServerHost.RunsWithoutDynamicPgo(info, new ServerHostOptions { InProcess = true }));
        Assert.Equal(ServerHost.RunsWithoutDynamicPgo(info), ServerHost.RunsWithoutDynamicPgo(info, ServerHostOptions.Default));
        if (Environment.GetEnvironmentVariable(ServerHost.TieredPgoVariable) is null)
        {
            Assert.True(ServerHost.ThisProcessUsesDynamicPgo());
            Assert.False(ServerHost.RunsWithoutDynamicPgo(info, new ServerHostOptions { InProcess = true }));
            Assert.True(ServerHost.RunsWithoutDynamicPgo(info, ServerHostOptions.Default));
        }
    }

    [Fact]
    public void ServerHost_PinnedDotnetHost_TiersAsUnpinned_UnpinnedKeepsTheDefault()
    {
        string setting = ServerHost.TieringDelayMultiplierVariable + "=1";
        using (ServerHost pinned = ServerHost.Start(TargetCatalog.TcpRaw, options: new ServerHostOptions { ServerCpu = 0 }))
        {
            // Started from a thread pinned to CPU 0: the runtime sees one CPU, and is told not to wait 10x longer to tier.
            Assert.Equal("0", File.ReadAllText($"/proc/{pinned.ProcessId}/status").Split('\n').Single(l => l.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal)).Split(':')[1].Trim());
            if (Environment.GetEnvironmentVariable(ServerHost.TieringDelayMultiplierVariable) is null)
            {
                Assert.Contains(setting, File.ReadAllText($"/proc/{pinned.ProcessId}/environ").Split('\0'));
            }
            using BenchClient client = pinned.Target.Connect();
            client.Ping();
        }
        using ServerHost unpinned = ServerHost.Start(TargetCatalog.TcpRaw);
        Assert.DoesNotContain(setting, File.ReadAllText($"/proc/{unpinned.ProcessId}/environ").Split('\0'));
    }

    // A descendant may exit between the listing and the read (a pool worker retired or replaced).
    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline");
        }
        catch (Exception ex) when (ex is DirectoryNotFoundException or FileNotFoundException)
        {
            return "";
        }
    }

    [Fact]
    public void ServerHost_ConfiguredProgramMissing_SaysWhich()
    {
        var options = new ServerHostOptions { ServerProgram = "/nonexistent/rpycbench-host.dll" };
        var ex = Assert.Throws<ServerStartException>(() => ServerHost.Start(TargetCatalog.TcpRaw, options: options));
        Assert.Contains("/nonexistent/rpycbench-host.dll", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ServerHost_CliProgramConfigured_StillServes()
    {
        // ServerHostOptions.ServerProgram may name the CLI, which takes the same 'serve TARGET' command line.
        var options = new ServerHostOptions { ServerProgram = Path.Combine(AppContext.BaseDirectory, "rpycbench.dll") };
        using ServerHost host = ServerHost.Start(TargetCatalog.TcpRaw, options: options);
        Assert.Contains("rpycbench.dll\0serve\0", File.ReadAllText($"/proc/{host.ProcessId}/cmdline"), StringComparison.Ordinal);
        using BenchClient client = host.Target.Connect();
        client.Ping();
    }

    [Fact]
    public void ServerHost_ServerCpu_EveryServerThreadPinned()
    {
        int cpu = CpuPlacement.AvailableCpus().Last();
        using ServerHost host = ServerHost.Start(TargetCatalog.RpycThreaded, options: new ServerHostOptions { ServerCpu = cpu });
        using (BenchClient client = host.Target.Connect())
        {
            client.Ping();
        }
        IReadOnlyDictionary<int, int[]> threads = CpuPlacement.ThreadAffinities(host.ProcessId);
        output.WriteLine($"{threads.Count} threads, CPU {cpu}");
        Assert.True(threads.Count > 5, "a .NET server has many threads");
        Assert.All(threads, t => Assert.Equal([cpu], t.Value));
        // The thread that started it got its own mask back.
        Assert.Equal(CpuPlacement.AvailableCpus(), CpuPlacement.ThreadAffinities(Environment.ProcessId).Values.SelectMany(c => c).Distinct().Order());
    }

    private static Process StartHost(params string[] args)
    {
        var start = new ProcessStartInfo(ForkingServer.DotnetHostPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(s_host);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return Process.Start(start)!;
    }

    private static string? ReadLine(Process process, TimeSpan timeout)
    {
        Task<string?> line = process.StandardOutput.ReadLineAsync();
        return line.Wait(timeout) ? line.Result : null;
    }

    private static void Kill(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
    }
}
