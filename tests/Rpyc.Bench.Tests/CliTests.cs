using System.Diagnostics;
using System.Text.Json;

namespace Rpyc.Bench.Tests;

// The rpycbench program, run as users run it: a separate process.
[Collection(ServerProcesses.Name)]
public class CliTests(ITestOutputHelper output)
{
    private static readonly string[] s_short =
    [
        "--num-connections", "5", "--num-requests", "20", "--warmup", "5", "--num-concurrent-clients", "2",
        "--requests-per-client", "10", "--payload-sizes", "1K,16K", "--transfers-per-size", "2", "--no-wrk",
        "--min-phase-seconds", "0",
    ];

    internal static ProcessStartInfo Rpycbench(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rpycbench.dll"));
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        return start;
    }

    private (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        using Process process = Process.Start(Rpycbench(args))!;
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

    private static string OneLine(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ");

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--num-requests", "many")]
    [InlineData("--num-requests", "0")]
    [InlineData("--targets", "rpyc_threaded,nope")]
    [InlineData("--payload-sizes", "1X")]
    [InlineData("serve", "no_such_target")]
    [InlineData("--receive-spin-us", "1001")]
    [InlineData("--receive-spin-us", "-1")]
    [InlineData("--receive-spin-us", "NaN")]
    [InlineData("--receive-spin-us", "fast")]
    [InlineData("--runs", "0")]
    [InlineData("--min-phase-seconds", "-1")]
    [InlineData("--wrk-seconds", "0")]
    [InlineData("--endpoint", "rpyc_threaded")]
    [InlineData("--endpoint", "nope=127.0.0.1:1")]
    [InlineData("--endpoint", "rpyc_threaded=127.0.0.1:0")]
    [InlineData("--tcp-port", "18900")]
    [InlineData("--rpyc-port", "18812", "--targets", "tcp_raw")]
    [InlineData("--http-port", "5000", "--targets", "rpyc_threaded,tcp_raw")]
    [InlineData("--rpyc-port", "18812", "--targets", "rpyc_threaded", "--endpoint", "rpyc_threaded=127.0.0.1:1")]
    [InlineData("--rpyc-host", "127.0.0.1", "--endpoint", "rpyc_threaded=127.0.0.1:1")]
    [InlineData("serve", "rpyc_threaded", "--receive-spin-us", "5000")]
    public void Run_BadUsage_MessageAndOneHelpLineAndExitCode2(params string[] args)
    {
        (int code, string stdout, _) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains("Error:", stdout, StringComparison.Ordinal);
        Assert.Matches(@"Run 'rpycbench (serve )?--help' for the options\.\n?$", stdout);
        Assert.DoesNotContain("USAGE", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--rpyc-host", "--skip-rpyc-threaded", "--rpyc-host", "127.0.0.1", "--rpyc-port", "1", "--skip-rpyc-threaded")]
    [InlineData("--http-host", "--skip-http", "--http-host", "127.0.0.1", "--skip-http")]
    [InlineData("--rpyc-host", "--targets", "--rpyc-host", "127.0.0.1", "--targets", "tcp_raw")]
    [InlineData("--http-host", "--targets", "--http-host", "127.0.0.1", "--targets", "tcp_raw")]
    [InlineData("--tcp-host", "--targets", "--tcp-host", "127.0.0.1", "--targets", "rpyc_threaded")]
    [InlineData("--endpoint rpyc_forking=127.0.0.1:1", "--skip-rpyc-forking", "--endpoint", "rpyc_forking=127.0.0.1:1", "--skip-rpyc-forking")]
    [InlineData("--endpoint py_rpyc_threaded=127.0.0.1:1", "--targets", "--endpoint", "py_rpyc_threaded=127.0.0.1:1", "--targets", "tcp_raw")]
    public void Run_EndpointForATargetLeftOut_NamesBothOptionsAndExits2(string option, string conflicting, params string[] args)
    {
        // Before, the endpoint's target ran anyway (with the whole default set under --skip-*).
        (int code, string stdout, _) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains("Error:", stdout, StringComparison.Ordinal);
        Assert.Contains(option, OneLine(stdout), StringComparison.Ordinal);
        Assert.Contains(conflicting, OneLine(stdout), StringComparison.Ordinal);
        Assert.EndsWith("Run 'rpycbench --help' for the options.", stdout.TrimEnd(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rpyc_threaded")]
    [InlineData("rpyc_forking")]
    [InlineData("http_threaded")]
    [InlineData("tcp_raw")]
    [InlineData("rpyc_threaded_tls")]
    [InlineData("py_rpyc_threaded")]
    public void Serve_HostThatDoesNotResolve_CleanErrorAndExit2ForEveryTarget(string target)
    {
        // Before, tcp_raw and http_threaded threw a FormatException with a stack trace (exit 1).
        (int code, string stdout, string stderr) = Run("serve", target, "--host", "not.a.host.invalid");
        Assert.Equal(2, code);
        // Spectre wraps the message at the redirected console's 80 columns.
        Assert.Contains("Error: --host: 'not.a.host.invalid' is neither an IP address nor a host name that resolves", OneLine(stdout), StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stdout + stderr, StringComparison.Ordinal);
        Assert.EndsWith("Run 'rpycbench serve --help' for the options.", stdout.TrimEnd(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--rpyc-port", "--rpyc-port", "18812", "--targets", "rpyc_threaded")]
    [InlineData("--http-port", "--http-port", "5000", "--targets", "http_threaded")]
    public void Run_PortOfALocalServerWithRemoteHost_NamesBothOptionsAndExits2(string option, params string[] args)
    {
        // Without --rpyc-host/--http-host these ports are the ones servers started here bind; with
        // --remote-host none is started here (the remote ones take free ports), so the port was
        // silently ignored (and the run went on to ssh). Port 1: nothing is reached if accepted.
        (int code, string stdout, _) = Run(["--remote-host", "root@127.0.0.1:1", .. args]);
        Assert.Equal(2, code);
        Assert.Contains("Error:", stdout, StringComparison.Ordinal);
        Assert.Contains(option, OneLine(stdout), StringComparison.Ordinal);
        Assert.Contains("--remote-host", OneLine(stdout), StringComparison.Ordinal);
        Assert.EndsWith("Run 'rpycbench --help' for the options.", stdout.TrimEnd(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("py_rpyc_threaded")]
    [InlineData("http_threaded")]
    [InlineData("tcp_raw")]
    [InlineData("rpyc_threaded")]
    public async Task Serve_BeyondLoopback_WarnsOnceForEveryTarget(string target)
    {
        // The .NET RPyC servers warned (RpycServer); rpyc's Python server, Kestrel and the raw TCP
        // server bound every address in silence. 0.0.0.0 for the moment it takes to read the lines.
        using Process server = Process.Start(Rpycbench("serve", target, "--host", "0.0.0.0", "--port", "0", "--watch-stdin"))!;
        try
        {
            Assert.StartsWith("PORT ", await server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)), StringComparison.Ordinal);
            server.StandardInput.Close();
            Assert.True(server.WaitForExit(30_000), $"{target} did not stop when its stdin closed");
            string stderr = await server.StandardError.ReadToEndAsync();
            output.WriteLine(stderr);
            Assert.Single(System.Text.RegularExpressions.Regex.Matches(stderr, "no authentication"));
            Assert.Contains("0.0.0.0", stderr, StringComparison.Ordinal);
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                server.WaitForExit();
            }
        }
    }

    // 'serving ... on ::1:PORT' is no address and port (nor what --rpyc-host/--endpoint take): the
    // announcement brackets an IPv6 address, as the reports do (RemoteEndpoint.HostPort).
    [Fact]
    public async Task Serve_Ipv6Host_AnnouncesTheEndpointBracketed()
    {
        using Process server = Process.Start(Rpycbench("serve", "rpyc_threaded", "--host", "::1", "--port", "0", "--watch-stdin"))!;
        try
        {
            string port = await ServedPort(server);
            server.StandardInput.Close();
            Assert.True(server.WaitForExit(30_000), "rpyc_threaded did not stop when its stdin closed");
            string stderr = await server.StandardError.ReadToEndAsync();
            output.WriteLine(stderr);
            Assert.Contains($" on [::1]:{port}; Ctrl-C stops.", stderr, StringComparison.Ordinal);
        }
        finally
        {
            if (!server.HasExited)
            {
                server.Kill(entireProcessTree: true);
                server.WaitForExit();
            }
        }
    }

    // 127.0.0.1 and 127.0.0.2 are both this machine's loopback, but two hosts to the suite: a remote
    // target is paired with a remote floor only on its own host (its figures include that host's
    // network, the floor's another's). Before, any remote floor was paired with any remote target.
    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.0.0.2", false)]
    public async Task Run_RemoteTargetAndRemoteFloor_PairedOnlyOnTheSameHost(string rpycHost, bool paired)
    {
        using Process floor = Process.Start(Rpycbench("serve", "tcp_raw", "--host", "127.0.0.1", "--port", "0", "--watch-stdin"))!;
        using Process rpyc = Process.Start(Rpycbench("serve", "rpyc_threaded", "--host", rpycHost, "--port", "0", "--watch-stdin"))!;
        string dir = Directory.CreateTempSubdirectory("rpycbench-floor-host").FullName;
        try
        {
            string floorPort = await ServedPort(floor);
            string rpycPort = await ServedPort(rpyc);
            string json = Path.Combine(dir, "run.json");
            (int code, _, _) = Run([.. s_short, "--scenarios", "none", "--targets", "rpyc_threaded,tcp_raw",
                "--rpyc-host", rpycHost, "--rpyc-port", rpycPort, "--tcp-host", "127.0.0.1", "--tcp-port", floorPort, "-o", json]);
            Assert.Equal(0, code);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
            JsonElement target = doc.RootElement.GetProperty("rpyc_threaded");
            Assert.Equal(paired, target.GetProperty("latency").TryGetProperty("floor_pairing", out _));
            Assert.Equal(paired, target.GetProperty("concurrent").TryGetProperty("floor_pairing", out _));
            // Nor any ratio to a floor measured through another host's network.
            Assert.Equal(paired, target.GetProperty("vs_floor").TryGetProperty("ping_p50", out _));
            Assert.Equal(paired, target.GetProperty("vs_floor").TryGetProperty("upload_1024", out _));
        }
        finally
        {
            foreach (Process server in (Process[])[floor, rpyc])
            {
                server.StandardInput.Close();
                if (!server.WaitForExit(30_000))
                {
                    server.Kill(entireProcessTree: true);
                    server.WaitForExit();
                }
            }
            Directory.Delete(dir, recursive: true);
        }
    }

    // `rpycbench serve` prints "PORT n" once it listens.
    private static async Task<string> ServedPort(Process server)
    {
        string? line = await server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.StartsWith("PORT ", line, StringComparison.Ordinal);
        return line!["PORT ".Length..].Trim();
    }

    [Fact]
    public void Run_Quiet_StdoutHoldsErrorsOnly_NotesOnStderr()
    {
        // A remote target (refused at once: port 1) beside a loopback one: the remote-vs-loopback note
        // is always printed. Before, -q printed it, and every other note, on stdout.
        (int code, string stdout, string stderr) = Run([.. s_short, "--scenarios", "none", "--targets", "rpyc_threaded,tcp_raw", "--rpyc-host", "127.0.0.1", "--rpyc-port", "1", "-q"]);
        Assert.Equal(1, code);
        Assert.StartsWith("rpyc_threaded: ", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Note:", stdout, StringComparison.Ordinal);
        Assert.Contains("Note: remote targets' figures include a network, loopback targets' do not;", OneLine(stderr), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("rpycbench --help", "--pin", "bogus")]
    [InlineData("rpycbench machine --help", "machine", "--seconds", "-1")]
    public void Run_BadUsage_NoParameterNameAndTheCommandsOwnHelp(string help, params string[] args)
    {
        // Before, --pin's message ended "(Parameter 'text')" and machine pointed to 'rpycbench --help'.
        (int code, string stdout, _) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains("Error:", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", stdout, StringComparison.Ordinal);
        Assert.EndsWith($"Run '{help}' for the options.", stdout.TrimEnd(), StringComparison.Ordinal);
    }

    [Fact]
    public void Help_Targets_ListsEveryTargetTheCatalogAccepts()
    {
        // Before, --targets named 7 of the 17 targets it accepts.
        (int code, string stdout, _) = Run("--help");
        Assert.Equal(0, code);
        string[] lines = stdout.Split('\n');
        int start = Array.FindIndex(lines, l => l.Trim() == "--targets <LIST>");
        Assert.True(start > 0, "--targets has a line of its own");
        string description = OneLine(string.Join(" ", lines.Skip(start + 1).TakeWhile(l => !l.TrimStart().StartsWith('-'))));
        output.WriteLine(description);
        Assert.All(TargetCatalog.All, t => Assert.Matches($@"(^|[ ,;]){t.Name}([ ,;.]|$)", description));
    }

    [Fact]
    public void Readme_NamesEveryTarget()
    {
        string repo = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repo, "Rpyc.slnx")))
        {
            repo = Path.GetDirectoryName(repo) ?? throw new InvalidOperationException("Rpyc.slnx not found above the test output.");
        }
        string readme = File.ReadAllText(Path.Combine(repo, "README.md"));
        // rpyc_threaded_otel was accepted but not described.
        Assert.All(TargetCatalog.All, t => Assert.Contains($"`{t.Name}`", readme, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("serve", "--help")]
    [InlineData("compare", "--help")]
    public void Help_InAnEightyColumnLog_OptionsStackedWithTheirDescriptionsFullWidth(params string[] args)
    {
        // A redirected console is 80 columns wide, as a CI log or `| less` shows it. Spectre's
        // three-column table left the descriptions 16 characters there: one word per line.
        (int code, string stdout, _) = Run(args);
        Assert.Equal(0, code);
        string[] lines = stdout.Split('\n');
        Assert.All(lines, l => Assert.True(l.TrimEnd().Length <= 80, l));
        int help = Array.FindIndex(lines, l => l.Trim() == "-h, --help");
        Assert.True(help > 0, "-h, --help has a line of its own");
        Assert.Equal("Prints help information", lines[help + 1].Trim());
        // Every option's description starts on the line after its name, indented past it.
        string[] options = [.. lines.Skip(help).TakeWhile(l => !l.StartsWith("COMMANDS", StringComparison.Ordinal)).Where(l => l.TrimStart().StartsWith('-') && l.Length - l.TrimStart().Length < 12)];
        Assert.True(options.Length >= 2);
        Assert.All(options, o => Assert.True(o.TrimEnd().Length < 60 || o.Contains("(default:", StringComparison.Ordinal), o));
        Assert.All(options, o => Assert.StartsWith("            ", lines[Array.IndexOf(lines, o) + 1], StringComparison.Ordinal));
        if (args is ["--help"])
        {
            Assert.Contains(lines, l => l.Contains("Deploy rpycbench to HOST over SSH (system ssh, key or agent login),", StringComparison.Ordinal));
            Assert.Contains(lines, l => l.TrimEnd() == "        --payload-sizes <LIST>  (default: 1K,10K,100K,1M)");
            Assert.InRange(lines.Length, 100, 260);
        }
    }

    [Fact]
    public void Run_ShortSuite_WritesJsonKeyedByTargetAndPlots()
    {
        string dir = Directory.CreateTempSubdirectory("rpycbench-cli").FullName;
        try
        {
            // In folders that do not exist yet, as the README's `-o artifacts/run.json` in a fresh clone.
            string json = Path.Combine(dir, "new", "folder", "run.json");
            (int code, string stdout, _) = Run([.. s_short, "--targets", "tcp_raw,http_threaded", "-o", json, "--plots", Path.Combine(dir, "plots")]);
            Assert.Equal(0, code);
            Assert.Contains("Latency", stdout, StringComparison.Ordinal);
            Assert.Contains("(µs)", stdout, StringComparison.Ordinal);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
            Assert.Equal(["metadata", "tcp_raw", "http_threaded"], doc.RootElement.EnumerateObject().Select(p => p.Name));
            JsonElement tcp = doc.RootElement.GetProperty("tcp_raw");
            foreach (string key in new[] { "connection_time", "latency", "upload_bandwidth", "download_bandwidth", "concurrent", "cpu_usage", "memory_usage", "round_trips_per_request" })
            {
                Assert.True(tcp.TryGetProperty(key, out _), key);
            }
            Assert.Equal(2, tcp.GetProperty("upload_bandwidth").GetProperty("16384").GetProperty("transfers").GetInt32());
            Assert.Equal(5, Directory.GetFiles(Path.Combine(dir, "plots"), "*.png").Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Serve_InSecondProcess_MeasuredThroughRpycHost()
    {
        using Process server = Process.Start(Rpycbench("serve", "rpyc_threaded", "--port", "0"))!;
        try
        {
            string? line = await server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.StartsWith("PORT ", line, StringComparison.Ordinal);
            string port = line![5..];
            string json = Path.GetTempFileName();
            (int code, _, _) = Run([.. s_short, "--targets", "rpyc_threaded", "--rpyc-host", "127.0.0.1", "--rpyc-port", port, "-o", json]);
            Assert.Equal(0, code);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
            JsonElement target = doc.RootElement.GetProperty("rpyc_threaded");
            Assert.Equal($"127.0.0.1:{port}", target.GetProperty("endpoint").GetString());
            Assert.Equal("ok", target.GetProperty("status").GetString());
            Assert.Equal(JsonValueKind.Null, target.GetProperty("cpu_usage").GetProperty("server").ValueKind);
            File.Delete(json);
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            server.WaitForExit();
        }
    }

    [Fact]
    public async Task Run_Ipv6Hosts_HttpAnsweredAndEndpointsBracketed()
    {
        // --http-host ::1 sent 'Host: ::1:PORT', which Kestrel answers 400: every request failed.
        // The JSON's endpoints read '::1:PORT', which is no address and port; the README's own
        // form, as --endpoint takes it, is [::1]:PORT.
        using Process rpyc = Process.Start(Rpycbench("serve", "rpyc_threaded", "--host", "::1", "--port", "0", "--watch-stdin"))!;
        using Process http = Process.Start(Rpycbench("serve", "http_threaded", "--host", "::1", "--port", "0", "--watch-stdin"))!;
        string json = Path.GetTempFileName();
        try
        {
            string rpycPort = (await rpyc.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)))![5..];
            string httpPort = (await http.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60)))![5..];
            (int code, _, _) = Run([.. s_short, "--scenarios", "none", "--targets", "rpyc_threaded,http_threaded",
                "--rpyc-host", "::1", "--rpyc-port", rpycPort, "--http-host", "::1", "--http-port", httpPort, "-q", "-o", json]);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
            foreach ((string name, string port) in new[] { ("rpyc_threaded", rpycPort), ("http_threaded", httpPort) })
            {
                JsonElement target = doc.RootElement.GetProperty(name);
                Assert.True(target.GetProperty("status").GetString() == "ok", $"{name}: {target.GetProperty("error")}");
                Assert.Equal($"[::1]:{port}", target.GetProperty("endpoint").GetString());
                Assert.True(target.GetProperty("remote").GetBoolean());
            }
            Assert.Equal([$"rpyc_threaded=[::1]:{rpycPort}", $"http_threaded=[::1]:{httpPort}"],
                doc.RootElement.GetProperty("metadata").GetProperty("parameters").GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()));
            Assert.Equal(0, code);
        }
        finally
        {
            File.Delete(json);
            foreach (Process server in (Process[])[rpyc, http])
            {
                server.Kill(entireProcessTree: true);
                server.WaitForExit();
            }
        }
    }

    [Fact]
    public void Run_ReceiveSpin_RunsAndReportsTheSpin()
    {
        string json = Path.GetTempFileName();
        try
        {
            (int code, _, _) = Run([.. s_short, "--num-requests", "50", "--targets", "rpyc_threaded", "--receive-spin-us", "50", "-q", "-o", json]);
            Assert.Equal(0, code);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
            Assert.Equal(50, doc.RootElement.GetProperty("metadata").GetProperty("parameters").GetProperty("receive_spin_us").GetDouble());
            JsonElement target = doc.RootElement.GetProperty("rpyc_threaded");
            Assert.Equal("ok", target.GetProperty("status").GetString());
            Assert.Equal(50, target.GetProperty("latency").GetProperty("count").GetInt32());
            Assert.Equal(0, target.GetProperty("latency").GetProperty("failures").GetInt32());
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public async Task Serve_ReceiveSpin_AnswersAClientThatSpinsToo()
    {
        using Process server = Process.Start(Rpycbench("serve", "rpyc_threaded", "--port", "0", "--receive-spin-us", "50"))!;
        try
        {
            string? line = await server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.StartsWith("PORT ", line, StringComparison.Ordinal);
            var target = new RpycBenchTarget("spin", "127.0.0.1", int.Parse(line![5..], System.Globalization.CultureInfo.InvariantCulture), new RpycConnectOptions { ReceiveSpin = TimeSpan.FromMicroseconds(50) });
            using BenchClient client = target.Connect();
            for (int i = 0; i < 100; i++)
            {
                client.Ping();
            }
            client.Echo(Payload.Create(100_000));
        }
        finally
        {
            server.Kill(entireProcessTree: true);
            server.WaitForExit();
        }
    }

    [Theory]
    [InlineData("-o")]
    [InlineData("--html")]
    [InlineData("--csv")]
    public void Run_OutputThatCannotBeWritten_Exit2BeforeMeasuring(string option)
    {
        // A folder where a file is wanted: refused at once, not after the run with a stack trace.
        string dir = Directory.CreateTempSubdirectory("rpycbench-out").FullName;
        try
        {
            (int code, string stdout, string stderr) = Run([.. s_short, "--targets", "tcp_raw", option, dir]);
            Assert.Equal(2, code);
            Assert.Contains($"cannot write {(option == "-o" ? "--output" : option)} {dir}: it is a folder", stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("tcp_raw (target", stdout + stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Run_Quiet_NoTablesButTheReport()
    {
        string json = Path.GetTempFileName();
        try
        {
            (int code, string stdout, _) = Run([.. s_short, "--targets", "tcp_raw", "-q", "-o", json]);
            Assert.Equal(0, code);
            Assert.DoesNotContain("Latency", stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("(µs)", stdout, StringComparison.Ordinal);
            Assert.Contains(json, stdout, StringComparison.Ordinal);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
            Assert.Equal("ok", doc.RootElement.GetProperty("tcp_raw").GetProperty("status").GetString());
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public void Run_RpycPortWithoutHost_TheStartedServerBindsIt()
    {
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        int port = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        string json = Path.GetTempFileName();
        try
        {
            (int code, _, _) = Run([.. s_short, "--targets", "rpyc_threaded", "--rpyc-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-q", "-o", json]);
            Assert.Equal(0, code);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
            JsonElement target = doc.RootElement.GetProperty("rpyc_threaded");
            Assert.Equal($"127.0.0.1:{port}", target.GetProperty("endpoint").GetString());
            Assert.False(target.GetProperty("remote").GetBoolean());
        }
        finally
        {
            File.Delete(json);
        }
    }

    [Fact]
    public async Task Run_Sigterm_PartialReportAndExit143()
    {
        string json = Path.Combine(Path.GetTempPath(), $"rpycbench-term-{Guid.NewGuid():N}.json");
        using Process process = Process.Start(Rpycbench([.. s_short, "--targets", "tcp_raw", "--min-phase-seconds", "30", "--max-phase-seconds", "60", "-o", json]))!;
        try
        {
            process.StandardInput.Close();
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            // The signal goes once the run is measuring (its progress line on stderr says so), not
            // after a fixed delay a slow start could outlast; the connection phase alone lasts 30 s.
            var measuring = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var errors = new System.Text.StringBuilder();
            Task<string> stderr = Task.Run(async () =>
            {
                while (await process.StandardError.ReadLineAsync() is { } line)
                {
                    errors.AppendLine(line);
                    if (line.Contains("tcp_raw (target 1/1): connection", StringComparison.Ordinal))
                    {
                        measuring.TrySetResult();
                    }
                }
                return errors.ToString();
            });
            await measuring.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await Task.Delay(TimeSpan.FromSeconds(1));
            Assert.False(process.HasExited, "rpycbench ended before the signal");
            Assert.Equal(0, Kill(process.Id, 15));
            Assert.True(process.WaitForExit(30_000), "rpycbench did not stop within 30 s of SIGTERM");
            output.WriteLine(await stdout);
            output.WriteLine(await stderr);
            Assert.Equal(143, process.ExitCode);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
            Assert.True(doc.RootElement.GetProperty("metadata").GetProperty("interrupted").GetBoolean());
            Assert.Equal("interrupted", doc.RootElement.GetProperty("tcp_raw").GetProperty("status").GetString());
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            File.Delete(json);
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [Fact]
    public void Run_TargetFails_ExitCode1()
    {
        // Nothing listens on port 1: every connection is refused.
        (int code, string stdout, _) = Run([.. s_short, "--targets", "http_threaded", "--http-host", "127.0.0.1", "--http-port", "1"]);
        Assert.Equal(1, code);
        Assert.Contains("failed", stdout, StringComparison.Ordinal);
    }
}
