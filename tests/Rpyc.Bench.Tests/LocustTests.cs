using System.Diagnostics;
using System.Text.Json;

namespace Rpyc.Bench.Tests;

// rpycbench locust, for real: Debian's Locust (master and two worker processes on 127.0.0.1)
// driving a .NET and a Python server for a few seconds each, bounded, every process stopped.
[Collection(ServerProcesses.Name)]
public class LocustTests(ITestOutputHelper output)
{
    [Fact]
    public void Locust_MasterAndTwoWorkers_MergedCountsAreTheWorkersSumAndEveryReplyValidated()
    {
        string dir = Directory.CreateTempSubdirectory("rpycbench-locust-").FullName;
        try
        {
            string json = Path.Combine(dir, "locust.json");
            (int code, string stdout) = Run("locust", "--targets", "rpyc_threaded,py_rpyc_threaded", "--workers", "2", "--users", "4",
                "--duration", "3", "-o", json);
            Assert.True(code == 0, stdout);
            Assert.Contains("Distributed load", stdout, StringComparison.Ordinal);
            // A Locust-only report has no latency or bandwidth tables to show empty.
            Assert.DoesNotContain("Upload bandwidth", stdout, StringComparison.Ordinal);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
            foreach (string target in (string[])["rpyc_threaded", "py_rpyc_threaded"])
            {
                JsonElement d = doc.RootElement.GetProperty(target).GetProperty("distributed");
                Assert.Equal("locust", d.GetProperty("engine").GetString());
                Assert.Contains("Python", d.GetProperty("clients").GetString(), StringComparison.Ordinal);
                long requests = d.GetProperty("requests").GetInt64();
                Assert.True(requests > 0, $"{target}: no request");
                Assert.Equal(0, d.GetProperty("failures").GetInt64());
                // Every successful reply was checked, and the merged histogram holds each of them.
                Assert.Equal(requests, d.GetProperty("validated").GetInt64());
                Assert.Equal(requests, d.GetProperty("latency").GetProperty("count").GetInt64());
                JsonElement[] workers = d.GetProperty("per_worker").EnumerateArray().ToArray();
                Assert.Equal(2, workers.Length);
                Assert.Equal(2, d.GetProperty("workers").GetInt32());
                Assert.Equal(requests, workers.Sum(w => w.GetProperty("requests").GetInt64()));
                Assert.Equal(requests, workers.Sum(w => w.GetProperty("latency").GetProperty("count").GetInt64()));
                // Microseconds, not Locust's whole milliseconds: a loopback ping is well under 1 s and above 1 us.
                double p50 = d.GetProperty("latency").GetProperty("p50").GetDouble();
                Assert.InRange(p50, 1e-6, 1.0);
                Assert.True(d.GetProperty("latency").GetProperty("p50").GetDouble() <= d.GetProperty("latency").GetProperty("p99").GetDouble());
            }
            // The report reads back, and compare treats the section as figures.
            (int compareCode, string compared) = Run("compare", json, json);
            Assert.Equal(0, compareCode);
            Assert.Contains("distributed", compared, StringComparison.Ordinal);
            AssertNoLocustLeft();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Locust_TargetLocustCannotDrive_UsageError()
    {
        (int code, string stdout) = Run("locust", "--targets", "tcp_raw");
        Assert.Equal(2, code);
        Assert.Contains("tcp_raw", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Locust_HostName_MasterAndServerBindItsAddress()
    {
        // Locust's master binds with zmq, which takes no host name: --host localhost was a
        // FormatException with a stack trace (the free master port looked up on an IP literal),
        // and with --master-port Locust's "Socket bind failure: No such device".
        string dir = Directory.CreateTempSubdirectory("rpycbench-locust-").FullName;
        try
        {
            string json = Path.Combine(dir, "locust.json");
            (int code, string stdout) = Run("locust", "--targets", "rpyc_threaded", "--workers", "1", "--users", "1", "--duration", "1",
                "--host", "localhost", "-o", json);
            Assert.True(code == 0, stdout);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
            JsonElement d = doc.RootElement.GetProperty("rpyc_threaded").GetProperty("distributed");
            Assert.True(d.GetProperty("requests").GetInt64() > 0, stdout);
            Assert.Equal(0, d.GetProperty("failures").GetInt64());
            AssertNoLocustLeft();
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("::1")]
    [InlineData("::")]
    public void Locust_Ipv6Host_UsageErrorNamingIpv4(string host)
    {
        // Locust's master socket (zmq, no IPV6 option) binds IPv4 only: --host ::1 was a failed
        // target with Locust's traceback ("Socket bind failure: No such device"), exit 1.
        (int code, string stdout) = Run("locust", "--targets", "rpyc_threaded", "--host", host);
        Assert.Equal(2, code);
        Assert.Contains("--host", stdout, StringComparison.Ordinal);
        Assert.Contains("IPv4", stdout, StringComparison.Ordinal);
        AssertNoLocustLeft();
    }

    [Fact]
    public void Locust_HostThatDoesNotResolve_UsageError()
    {
        (int code, string stdout) = Run("locust", "--targets", "rpyc_threaded", "--host", "no-such-host.invalid");
        Assert.Equal(2, code);
        Assert.Contains("--host", stdout, StringComparison.Ordinal);
        Assert.Contains("no-such-host.invalid", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.2")]
    [InlineData("localhost")]
    public void Locust_ExternalWorkersWithLoopbackHost_UsageError(string? host)
    {
        // Workers on other hosts cannot reach a master and servers bound to loopback (the default
        // --host): the run was accepted and waited for workers that could never connect.
        string[] args = ["locust", "--targets", "rpyc_threaded", "--workers", "0", "--external-workers", "2", "--duration", "1"];
        (int code, string stdout) = Run(host is null ? args : [.. args, "--host", host]);
        Assert.Equal(2, code);
        Assert.Contains("--external-workers", stdout, StringComparison.Ordinal);
        Assert.Contains("loopback", stdout, StringComparison.Ordinal);
        Assert.Contains("--workers", stdout, StringComparison.Ordinal);
        AssertNoLocustLeft();
    }

    [Fact]
    public void Run_MasterOnEveryAddress_ExternalWorkerCommandNamesNoLoopback()
    {
        // Bound to every address, the servers and the master are reached here on 127.0.0.1, and the
        // command for workers on other hosts said RPYCBENCH_HOST=127.0.0.1: their own loopback.
        // The run is stopped as soon as the command is printed (no external worker ever comes).
        using var stop = new CancellationTokenSource();
        string? command = null;
        var run = new LocustRun(new LocustOptions { LocalWorkers = 0, ExternalWorkers = 1, Users = 1, MasterBindHost = "0.0.0.0", WorkerWait = TimeSpan.FromSeconds(5) });
        Assert.Throws<OperationCanceledException>(() => run.Run("rpyc", "127.0.0.1", 18812, c =>
        {
            command = c;
            stop.Cancel();
        }, stop.Token));
        output.WriteLine(command);
        Assert.NotNull(command);
        Assert.DoesNotContain("127.0.0.1", command, StringComparison.Ordinal);
        Assert.Contains("RPYCBENCH_HOST=<this host's address>", command, StringComparison.Ordinal);
        Assert.Contains("--master-host <this host's address>", command, StringComparison.Ordinal);
        AssertNoLocustLeft();
    }

    [Fact]
    public void Run_MasterOnOneAddress_ExternalWorkerCommandNamesIt()
    {
        // Bound to one address, the command names it where it said <this host's address>.
        using var stop = new CancellationTokenSource();
        string? command = null;
        var run = new LocustRun(new LocustOptions { LocalWorkers = 0, ExternalWorkers = 1, Users = 1, MasterBindHost = "127.0.0.1", WorkerWait = TimeSpan.FromSeconds(5) });
        Assert.Throws<OperationCanceledException>(() => run.Run("rpyc", "127.0.0.1", 18812, c =>
        {
            command = c;
            stop.Cancel();
        }, stop.Token));
        output.WriteLine(command);
        Assert.NotNull(command);
        Assert.Contains("RPYCBENCH_HOST=127.0.0.1 ", command, StringComparison.Ordinal);
        Assert.Contains($"--master-host 127.0.0.1 --master-port {run.MasterPort}", command, StringComparison.Ordinal);
        AssertNoLocustLeft();
    }

    [Fact]
    public void Parse_MasterResult_UnitsAndPerWorkerShares()
    {
        const string json = """
            {"protocol": "rpyc", "operation": "echo", "size": 1024, "seconds": 2.0, "users": 4,
             "workers": {"a": {"count": 30, "failures": 1, "validated": 30, "mean_us": 50, "stdev_us": 5, "min_us": 40, "max_us": 90,
                               "p50_us": 48, "p90_us": 60, "p95_us": 70, "p99_us": 85, "p999_us": 90},
                         "b": {"count": 70, "failures": 0, "validated": 70, "mean_us": 52, "stdev_us": 6, "min_us": 41, "max_us": 95,
                               "p50_us": 50, "p90_us": 62, "p95_us": 72, "p99_us": 88, "p999_us": 95}},
             "merged": {"count": 100, "failures": 1, "validated": 100, "mean_us": 51.4, "stdev_us": 6, "min_us": 40, "max_us": 95,
                        "p50_us": 49, "p90_us": 61, "p95_us": 71, "p99_us": 87, "p999_us": 95},
             "locust": {"requests": 101, "failures": 1, "requests_per_second": 50.5}}
            """;
        DistributedResult r = LocustRun.Parse(json, users: 8);
        Assert.Equal("echo", r.Operation);
        Assert.Equal(1024, r.PayloadBytes);
        Assert.Equal(4, r.Users);
        Assert.Equal(101, r.Requests);
        Assert.Equal(50.5, r.Throughput, 6);
        Assert.Equal(49e-6, r.Latency.P50, 12);
        Assert.Equal(2, r.Workers);
        Assert.Equal(31, r.PerWorker.Single(w => w.Id == "a").Requests);
        Assert.Equal(15.5, r.PerWorker.Single(w => w.Id == "a").Throughput, 6);
    }

    private static void AssertNoLocustLeft()
    {
        // Every master and worker this test started is gone (pgrep exits 1 when none matches).
        using Process pgrep = Process.Start(new ProcessStartInfo("pgrep", ["-f", "locust_rpycbench.py"]) { RedirectStandardOutput = true })!;
        string pids = pgrep.StandardOutput.ReadToEnd();
        pgrep.WaitForExit();
        Assert.True(pgrep.ExitCode == 1, $"Locust processes left: {pids}");
    }

    private (int Code, string Stdout) Run(params string[] args)
    {
        using Process process = Process.Start(CliTests.Rpycbench(args))!;
        process.StandardInput.Close();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(240_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("rpycbench locust did not finish in 240 s");
        }
        output.WriteLine(stdout);
        output.WriteLine(stderr.Result);
        return (process.ExitCode, stdout + stderr.Result);
    }
}
