using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// What a server leaves behind when it ends, and how it refuses a port it cannot have: the
/// ForkingServer's hand-off socket lives in the abstract namespace (no file, whatever the exit
/// path), stale files of older versions are removed, and <c>rpycbench serve</c> on a busy port
/// says so and exits 1. The CLI runs as a real child process (the repository's build of rpycbench).
/// </summary>
[Collection(DotNetServersCollection.Name)]
public sealed class ServerExitTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ForkingServer_Dispose_NoControlSocketLeft()
    {
        string[] filesBefore = ControlFilesOf(Environment.ProcessId);
        var server = (ForkingServer)TestServers.Start<InteropService>(ServerKind.Forking, prestartedWorkers: 1);
        string control;
        try
        {
            control = server.ControlPath;
            Assert.StartsWith("@rpyc-fork-", control, StringComparison.Ordinal);
            Assert.Contains(control, AbstractSockets());
            using RpycConnection client = TestServers.Connect(server);
            Assert.Equal("pong", client.RootNetref.CallMethod("ping"));
        }
        finally
        {
            server.Dispose();
        }
        Assert.True(await Eventually.TrueAsync(() => !AbstractSockets().Contains(control), s_bound), $"{control} is still bound after Dispose.");
        Assert.Equal(filesBefore, ControlFilesOf(Environment.ProcessId));
        Assert.True(await Eventually.TrueAsync(() => Processes.LiveWorkersOf(control).Count == 0, s_bound), "Workers outlived the server.");
    }

    [Fact]
    public void ForkingServer_Create_RemovesStaleFilesOfDeadProcessesOnly()
    {
        int dead = DeadPid();
        string stale = Path.Combine(Path.GetTempPath(), $"rpyc-fork-{dead.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid():N}.sock");
        string live = Path.Combine(Path.GetTempPath(), $"rpyc-fork-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}-{Guid.NewGuid():N}.sock");
        File.WriteAllBytes(stale, []);
        File.WriteAllBytes(live, []);
        try
        {
            using ForkingServer server = ForkingServer.Create<InteropService>(new RpycServerOptions { Port = 0 },
                new ForkingServerOptions { WorkerPath = WorkerLocator.Path, PrestartedWorkers = 0 });
            Assert.False(File.Exists(stale), $"{stale} (pid {dead} is not running) was not removed.");
            Assert.True(File.Exists(live), $"{live} belongs to a live process and was removed.");
        }
        finally
        {
            File.Delete(stale);
            File.Delete(live);
        }
    }

    [Theory]
    [InlineData("TERM")]
    [InlineData("INT")]
    [InlineData("KILL")]
    public async Task ServeRpycForking_Signal_NoControlSocketLeftAndWorkersExit(string signal)
    {
        using Process serve = StartRpycbench(s_defaultInterrupt, "serve", "rpyc_forking", "--port", "0");
        try
        {
            int port = await ReadPortAsync(serve);
            using (RpycConnection client = RpycConnection.Connect("127.0.0.1", port, new RpycConnectOptions { SyncRequestTimeout = s_bound }))
            {
                Assert.Equal("pong", client.RootNetref.CallMethod("ping"));
            }
            string prefix = $"@rpyc-fork-{serve.Id.ToString(CultureInfo.InvariantCulture)}-";
            string control = Assert.Single(AbstractSockets(), s => s.StartsWith(prefix, StringComparison.Ordinal));
            Assert.Empty(ControlFilesOf(serve.Id));
            IReadOnlyList<int> workers = Processes.LiveWorkersOf(control);
            output.WriteLine($"rpycbench {serve.Id} serves on {port} with control {control} and workers {string.Join(", ", workers)}");
            Assert.NotEmpty(workers);

            await SignalAsync(serve.Id, signal);
            using (var cts = new CancellationTokenSource(s_bound))
            {
                await serve.WaitForExitAsync(cts.Token);
            }
            output.WriteLine($"exit code {serve.ExitCode} after SIG{signal}");
            if (signal != "KILL")
            {
                Assert.Equal(0, serve.ExitCode);
            }
            Assert.True(await Eventually.TrueAsync(() => !AbstractSockets().Contains(control), s_bound), $"{control} is still bound.");
            Assert.Empty(ControlFilesOf(serve.Id));
            Assert.True(await Eventually.TrueAsync(() => workers.All(pid => !Processes.IsLiveWorker(pid)), s_bound),
                $"Workers still running: {string.Join(", ", workers.Where(Processes.IsLiveWorker))}");
        }
        finally
        {
            if (!serve.HasExited)
            {
                serve.Kill(entireProcessTree: true);
                await serve.WaitForExitAsync();
            }
        }
    }

    [Theory]
    [InlineData("rpyc_threaded")]
    [InlineData("rpyc_forking")]
    public async Task Serve_BusyPort_PrintsErrorAndExitsOne(string target)
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen(1);
        int port = ((IPEndPoint)holder.LocalEndPoint!).Port;
        using Process serve = StartRpycbench("serve", target, "--port", port.ToString(CultureInfo.InvariantCulture));
        try
        {
            Task<string> stdout = serve.StandardOutput.ReadToEndAsync();
            Task<string> stderr = serve.StandardError.ReadToEndAsync();
            using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
            {
                await serve.WaitForExitAsync(cts.Token);
            }
            string err = await stderr;
            output.WriteLine($"exit {serve.ExitCode}; stdout: {await stdout}; stderr: {err}");
            Assert.Equal(1, serve.ExitCode);
            Assert.Contains($"127.0.0.1:{port}", err, StringComparison.Ordinal);
            Assert.Contains("already in use", err, StringComparison.Ordinal);
            Assert.DoesNotContain("PORT", await stdout, StringComparison.Ordinal);
        }
        finally
        {
            if (!serve.HasExited)
            {
                serve.Kill(entireProcessTree: true);
                await serve.WaitForExitAsync();
            }
        }
    }

    // Names in the abstract namespace, as /proc/net/unix prints them ("@name").
    private static HashSet<string> AbstractSockets()
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines("/proc/net/unix").Skip(1))
        {
            string[] fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 8 && fields[7].StartsWith('@'))
            {
                names.Add(fields[7]);
            }
        }
        return names;
    }

    private static string[] ControlFilesOf(int pid) =>
        [.. Directory.EnumerateFiles(Path.GetTempPath(), $"rpyc-fork-{pid.ToString(CultureInfo.InvariantCulture)}-*").Order(StringComparer.Ordinal)];

    private static int DeadPid()
    {
        int max = int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim(), CultureInfo.InvariantCulture);
        for (int pid = max - 1; pid > max - 10_000; pid--)
        {
            if (!Directory.Exists($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}"))
            {
                return pid;
            }
        }
        throw new InvalidOperationException("No unused pid found near pid_max.");
    }

    private static async Task SignalAsync(int pid, string signal)
    {
        using Process kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { $"-{signal}", pid.ToString(CultureInfo.InvariantCulture) } })
            ?? throw new InvalidOperationException("Could not start kill.");
        await kill.WaitForExitAsync();
        Assert.Equal(0, kill.ExitCode);
    }

    // A shell without job control starts its background commands with SIGINT ignored, an ignored
    // signal stays ignored across exec, and the runtime leaves it so (a background job should not
    // answer the terminal's Ctrl-C): under a runner started that way rpycbench never saw the signal,
    // and this test failed for the runner, not for the server. env(1) execs the host in place (same
    // pid) with SIGINT at its default, as a foreground Ctrl-C finds it.
    private static readonly string[] s_defaultInterrupt = ["/usr/bin/env", "--default-signal=INT"];

    private static Process StartRpycbench(params string[] args) => StartRpycbench([], args);

    private static Process StartRpycbench(string[] launcher, params string[] args)
    {
        var start = new ProcessStartInfo(launcher.Length > 0 ? launcher[0] : ForkingServer.DotnetHostPath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        if (launcher.Length > 0)
        {
            foreach (string arg in launcher.AsSpan(1))
            {
                start.ArgumentList.Add(arg);
            }
            start.ArgumentList.Add(ForkingServer.DotnetHostPath);
        }
        start.ArgumentList.Add(RpycbenchLocator.Path);
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return Process.Start(start) ?? throw new InvalidOperationException("Could not start rpycbench.");
    }

    private static async Task<int> ReadPortAsync(Process serve)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (await serve.StandardOutput.ReadLineAsync(cts.Token) is string line)
        {
            if (line.StartsWith("PORT ", StringComparison.Ordinal))
            {
                return int.Parse(line.AsSpan(5), CultureInfo.InvariantCulture);
            }
        }
        throw new InvalidOperationException($"rpycbench serve ended without printing PORT: {await serve.StandardError.ReadToEndAsync(cts.Token)}");
    }
}

/// <summary>The repository's build of <c>rpycbench.dll</c> (src/Rpyc.Bench.Cli/bin/&lt;config&gt;/net10.0).</summary>
internal static class RpycbenchLocator
{
    public static string Path
    {
        get
        {
            string configuration = AppContext.BaseDirectory.Contains($"{System.IO.Path.DirectorySeparatorChar}Release{System.IO.Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
            string[] candidates =
            [
                System.IO.Path.Combine(RepoPaths.Root, "src", "Rpyc.Bench.Cli", "bin", configuration, "net10.0", "rpycbench.dll"),
                System.IO.Path.Combine(RepoPaths.Root, "src", "Rpyc.Bench.Cli", "bin", configuration == "Debug" ? "Release" : "Debug", "net10.0", "rpycbench.dll"),
            ];
            return candidates.FirstOrDefault(File.Exists) ?? throw new FileNotFoundException(
                $"rpycbench.dll is not built ({string.Join(", ", candidates)}): run `dotnet build src/Rpyc.Bench.Cli -c Release` (scripts/test.sh builds the whole solution first).");
        }
    }
}
