using System.Diagnostics;
using System.Text.Json;

namespace Rpyc.Bench.Tests;

// --remote-host against a real OpenSSH server on 127.0.0.1 (SshServer): the deployment, the remote
// servers, the report's labels and metadata, and that nothing is left there afterwards.
[Collection(ServerProcesses.Name)]
public sealed class RemoteDeploymentTests(ITestOutputHelper output, RemoteDeploymentTests.Sshd sshd) : IClassFixture<RemoteDeploymentTests.Sshd>
{
    public sealed class Sshd : IDisposable
    {
        public SshServer Server { get; } = new();

        public void Dispose() => Server.Dispose();
    }

    private static readonly string[] s_short =
    [
        "--num-connections", "5", "--num-requests", "20", "--warmup", "5", "--num-concurrent-clients", "2",
        "--requests-per-client", "10", "--payload-sizes", "1K", "--transfers-per-size", "2", "--no-wrk",
        "--min-phase-seconds", "0", "--scenarios", "none",
    ];

    private SshServer Ssh => sshd.Server;

    [Fact]
    public void Run_RemoteHost_EveryTargetRemoteWithMachineAndNothingLeft()
    {
        string remoteDir = NewRemoteDir();
        string json = Path.GetTempFileName();
        try
        {
            (int code, _, string stderr) = Run([.. Ssh.CliArgs, "--remote-dir", remoteDir, .. s_short, "--targets", "tcp_raw,rpyc_threaded,rpyc_forking,http_threaded", "--python", "-q", "-o", json]);
            Assert.Equal(0, code);
            Assert.Contains("framework-dependent", stderr, StringComparison.Ordinal);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
            string[] targets = ["tcp_raw", "rpyc_threaded", "rpyc_forking", "http_threaded", "py_rpyc_threaded", "py_rpyc_forking", "py_flask_threaded"];
            Assert.Equal(["metadata", .. targets], doc.RootElement.EnumerateObject().Select(p => p.Name).OrderBy(n => n == "metadata" ? -1 : Array.IndexOf(targets, n)));
            foreach (string name in targets)
            {
                JsonElement target = doc.RootElement.GetProperty(name);
                Assert.True(target.GetProperty("remote").GetBoolean(), name);
                Assert.Equal("ok", target.GetProperty("status").GetString());
                Assert.StartsWith("127.0.0.1:", target.GetProperty("endpoint").GetString(), StringComparison.Ordinal);
                Assert.True(target.GetProperty("latency").GetProperty("count").GetInt64() > 0, name);
            }
            JsonElement remote = doc.RootElement.GetProperty("metadata").GetProperty("remote_machine");
            Assert.Equal(Environment.MachineName, remote.GetProperty("hostname").GetString());
            Assert.Equal(Environment.ProcessorCount, remote.GetProperty("processor_count").GetInt32());
            Assert.Equal(Ssh.Destination, remote.GetProperty("ssh_destination").GetString());
            Assert.Equal(remoteDir, remote.GetProperty("remote_dir").GetString());
            Assert.Equal("127.0.0.1", remote.GetProperty("address").GetString());
            Assert.StartsWith("framework-dependent", remote.GetProperty("deployment").GetString(), StringComparison.Ordinal);
            AssertNothingLeft(remoteDir);
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public void Run_RemoteServerCannotStart_FailsAndCleansUp()
    {
        // 192.0.2.1 (TEST-NET-1) is on no interface here: the deployment is copied, then the first
        // server cannot bind, and everything there must still go.
        string remoteDir = NewRemoteDir();
        (int code, string stdout, _) = Run([.. Ssh.CliArgs, "--remote-dir", remoteDir, "--remote-bind", "192.0.2.1", .. s_short, "--targets", "tcp_raw,rpyc_threaded", "-q"]);
        Assert.Equal(1, code);
        Assert.Contains("tcp_raw did not start", stdout, StringComparison.Ordinal);
        // Why, from the remote server's standard error: its last line, read to the end (ErrorLines).
        // (The console wraps the message: compared with every run of white space as one space.)
        Assert.Contains("tcp_raw: Cannot assign requested address", string.Join(' ', stdout.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)), StringComparison.Ordinal);
        AssertNothingLeft(remoteDir);
    }

    [Fact]
    public void Run_RemoteDirExists_RefusedAndLeftAlone()
    {
        string remoteDir = NewRemoteDir();
        Directory.CreateDirectory(remoteDir);
        File.WriteAllText(Path.Combine(remoteDir, "mine.txt"), "keep me");
        try
        {
            (int code, string stdout, _) = Run([.. Ssh.CliArgs, "--remote-dir", remoteDir, .. s_short, "--targets", "tcp_raw", "-q"]);
            Assert.Equal(1, code);
            Assert.Contains("exists already", stdout, StringComparison.Ordinal);
            Assert.Equal("keep me", File.ReadAllText(Path.Combine(remoteDir, "mine.txt")));
        }
        finally
        {
            Directory.Delete(remoteDir, recursive: true);
        }
    }

    [Fact]
    public async Task Run_SigtermDuringRemoteRun_StopsRemoteServersAndRemovesFolder()
    {
        string remoteDir = NewRemoteDir();
        // Long enough that SIGTERM lands while the suite measures: the latency phase lasts 60 s.
        using Process process = Process.Start(CliTests.Rpycbench([.. Ssh.CliArgs, "--remote-dir", remoteDir, "--targets", "tcp_raw,rpyc_threaded",
            "--num-requests", "10000000", "--min-phase-seconds", "60", "--max-phase-seconds", "60", "--no-wrk", "--scenarios", "none"]))!;
        process.StandardInput.Close();
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        var measuring = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        Task stderr = Task.Run(async () =>
        {
            while (await process.StandardError.ReadLineAsync() is string line)
            {
                log.Enqueue(line);
                if (line.Contains(": latency", StringComparison.Ordinal))
                {
                    measuring.TrySetResult();
                }
            }
        });
        try
        {
            await measuring.Task.WaitAsync(TimeSpan.FromSeconds(240));
            Assert.True(Directory.Exists(remoteDir));
            Assert.NotEmpty(ProcessesMentioning(remoteDir));
            using (Process kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
            await stderr;
            output.WriteLine(await stdout);
            output.WriteLine(string.Join("\n", log));
            Assert.Equal(143, process.ExitCode);
            Assert.Contains(log, l => l.Contains("removed " + remoteDir, StringComparison.Ordinal));
            AssertNothingLeft(remoteDir);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public void Sweep_RemoteHost_ServersKeptAcrossPointsAndRemoved()
    {
        string remoteDir = NewRemoteDir();
        string json = Path.GetTempFileName();
        try
        {
            (int code, _, _) = Run(["sweep", .. Ssh.CliArgs, "--remote-dir", remoteDir, "--clients", "1,2", "--targets", "tcp_raw,rpyc_threaded",
                "--num-connections", "5", "--num-requests", "20", "--warmup", "5", "--requests-per-client", "10", "--payload-sizes", "1K",
                "--transfers-per-size", "2", "--no-wrk", "--min-phase-seconds", "0", "--description", "remote sweep", "-q", "-o", json]);
            Assert.Equal(0, code);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
            JsonElement metadata = doc.RootElement.GetProperty("metadata");
            Assert.Equal("remote sweep", metadata.GetProperty("description").GetString());
            Assert.Equal(remoteDir, metadata.GetProperty("remote_machine").GetProperty("remote_dir").GetString());
            JsonElement[] points = doc.RootElement.GetProperty("points").EnumerateArray().ToArray();
            Assert.Equal(2, points.Length);
            foreach (string name in new[] { "tcp_raw", "rpyc_threaded" })
            {
                string[] endpoints = points.Select(p => p.GetProperty("report").GetProperty(name).GetProperty("endpoint").GetString()!).ToArray();
                Assert.All(points, p => Assert.True(p.GetProperty("report").GetProperty(name).GetProperty("remote").GetBoolean()));
                // One server per target for the whole sweep.
                Assert.Single(endpoints.Distinct());
            }
            AssertNothingLeft(remoteDir);
        }
        finally
        {
            File.Delete(json);
        }
    }

    private static string NewRemoteDir() => Path.Combine(Path.GetTempPath(), $"rpycbench-remote-test-{Guid.NewGuid():N}");

    // The deployed folder is gone and no process (server, worker, Python peer) runs from it.
    private static void AssertNothingLeft(string remoteDir)
    {
        Assert.False(Directory.Exists(remoteDir), $"{remoteDir} was left on the remote host");
        Assert.Empty(ProcessesMentioning(remoteDir));
    }

    private static List<string> ProcessesMentioning(string text)
    {
        var found = new List<string>();
        foreach (string dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || pid == Environment.ProcessId)
            {
                continue;
            }
            try
            {
                string cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                // The ssh client's own command line names the folder too: only processes run from it count.
                if (cmdline.Contains(text, StringComparison.Ordinal) && !cmdline.StartsWith("ssh ", StringComparison.Ordinal))
                {
                    found.Add($"{pid}: {cmdline}");
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
        return found;
    }

    private (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        using Process process = Process.Start(CliTests.Rpycbench(args))!;
        process.StandardInput.Close();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(600_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("rpycbench did not finish in 600 s");
        }
        output.WriteLine(stdout);
        output.WriteLine(stderr.Result);
        return (process.ExitCode, stdout, stderr.Result);
    }
}
