using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Rpyc.Bench.Tests;

// 'rpycbench profile scenario' and 'rpycbench profile run', run as users run them: a second process
// (which starts its own .NET rpyc_threaded server, a third process, when no --host is given).
[Collection(ServerProcesses.Name)]
public partial class ProfileCommandTests(ITestOutputHelper output)
{
    private (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        using Process process = Process.Start(CliTests.Rpycbench(args))!;
        process.StandardInput.Close();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(180_000))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("rpycbench did not finish in 180 s");
        }
        output.WriteLine(stdout);
        output.WriteLine(stderr.Result);
        return (process.ExitCode, stdout, stderr.Result);
    }

    // The protocol fixes the counts: one GETROOT for conn.root, then per iteration
    //   ping:            root.ping()          → CALLATTR(root, "ping")                       1 round trip
    //   attribute-style: m = root.ping; m()   → GETATTR(root, "ping") + CALL(m), then DEL(m)  2 round trips, 1 one-way
    // The report is made before the connection closes, so its CLOSE is not counted.
    [Theory]
    [InlineData("ping", 20, 21, 0, "BenchService.ping (CALLATTR) [NetRef #1] ×20")]
    [InlineData("attribute-style", 3, 7, 3, "del(method) (DEL, one-way)")]
    public void Scenario_OwnServer_ReportCountsExactRoundTrips(string scenario, int iterations, int roundTrips, int oneWay, string treeLine)
    {
        (int code, string stdout, string stderr) = Run("profile", "scenario", scenario, "--iterations", iterations.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(0, code);
        Assert.Contains("started a .NET rpyc_threaded server on 127.0.0.1:", stderr, StringComparison.Ordinal);
        Assert.Contains($"{roundTrips} round trips, {oneWay} one-way messages, 0 incoming requests", stdout, StringComparison.Ordinal);
        Assert.Contains($"Network Round Trips:      {roundTrips}\n", stdout, StringComparison.Ordinal);
        Assert.Contains($"One-way Messages:         {oneWay}\n", stdout, StringComparison.Ordinal);
        Assert.Contains("├── getroot (GETROOT) → [NetRef]", stdout, StringComparison.Ordinal);
        Assert.Contains(treeLine, stdout, StringComparison.Ordinal);
        // The full report: call tree, timeline, netrefs, advice.
        foreach (string section in new[] { "RPYC CALL TREE", "RPYC CALL TIMELINE", "NETREF REPORT", "ADVICE" })
        {
            Assert.Contains(section, stdout, StringComparison.Ordinal);
        }
    }

    // The relay's own endpoint and its target, printed for the user to point a program at: an
    // IPv6 address in brackets ('::1:PORT' is no address and port).
    [Fact]
    public void Run_Ipv6ListenAndTarget_EndpointsPrintedBracketed()
    {
        (_, _, string stderr) = Run("profile", "run", "--via-proxy", "[::1]:1", "--listen", "[::1]:0", "--", "true");
        Match relaying = Regex.Match(stderr, @"rpycbench: relaying (\S+) -> (\S+);");
        Assert.True(relaying.Success, stderr);
        Assert.Matches(@"^\[::1\]:[1-9][0-9]*$", relaying.Groups[1].Value);
        Assert.Equal("[::1]:1", relaying.Groups[2].Value);
        Assert.Contains($"never connected to {relaying.Groups[1].Value}:", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Scenario_Unknown_UsageErrorListingTheScenarios()
    {
        (int code, string stdout, _) = Run("profile", "scenario", "nope");
        Assert.Equal(2, code);
        string text = Whitespace().Replace(stdout, " ");
        Assert.Contains("Unknown scenario 'nope'. Scenarios: ping, attribute-style, transfer, chunks, mixed.", text, StringComparison.Ordinal);
        Assert.Contains("Run 'rpycbench profile scenario --help' for the options.", stdout, StringComparison.Ordinal);
    }

    // examples/Profiling runs its own ThreadedServer in-process and attaches its own telemetry to its
    // client connection, which replaces the process-wide one there: the report shows the calls as the
    // server side handled them. ContextManagerBasic opens a plain connection: the client side shows.
    [Theory]
    [InlineData("Profiling", "basic", @"DemoService\.echo \(CALLATTR from peer\)", @"DemoService\.ping \(CALLATTR from peer\) ×5")]
    [InlineData("ContextManagerBasic", "--quick", @"getroot \(GETROOT\) → \[NetRef\]", @"BenchService\.ping \(CALLATTR\) \[NetRef #\d+\] ×100")]
    public void Run_Example_PrintsTheReportOfItsCalls(string example, string argument, string expected1, string expected2)
    {
        (int code, string stdout, _) = Run("profile", "run", "--", "dotnet", ExampleDll(example), argument);
        Assert.Equal(0, code);
        Assert.Contains("RPyC profile of dotnet ", stdout, StringComparison.Ordinal);
        Assert.Contains("RPYC TELEMETRY REPORT", stdout, StringComparison.Ordinal);
        Assert.Matches(expected1, stdout);
        Assert.Matches(expected2, stdout);
    }

    // --stacks keeps the program's stacks in-process; with --via-proxy it was accepted and ignored
    // (the program ran, exit 0, a wire report without any stack), as --listen without it is not.
    [Fact]
    public void Run_StacksViaProxy_UsageError()
    {
        (int code, string stdout, string stderr) = Run("profile", "run", "--stacks", "--via-proxy", "127.0.0.1:1", "--", "true");
        Assert.Equal(2, code);
        Assert.Contains("--stacks applies only in-process, without --via-proxy", Whitespace().Replace(stdout + stderr, " "), StringComparison.Ordinal);
        Assert.Contains("rpycbench profile run --help", stdout + stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("relaying", stderr, StringComparison.Ordinal);
    }

    // An empty host in brackets was refused with an empty message ('Error: --via-proxy: ').
    [Theory]
    [InlineData("--via-proxy: '[]:5' has an empty host in brackets", "profile", "run", "--via-proxy", "[]:5", "--", "true")]
    [InlineData("'[]:5' has an empty host in brackets", "profile", "proxy", "--listen", "0", "--target", "[]:5")]
    public void Profile_EmptyBracketedHost_UsageErrorSaysSo(string expected, params string[] args) =>
        AssertUsageError(args, expected, "HOST:PORT, e.g. 127.0.0.1:18861 or [::1]:18861.");

    // '[]:5' was taken for 127.0.0.1:5: the relay listened where nobody asked.
    [Theory]
    [InlineData("--listen: '[]:5' has an empty host in brackets", "profile", "run", "--via-proxy", "127.0.0.1:1", "--listen", "[]:5", "--", "true")]
    [InlineData("'[]:5' has an empty host in brackets", "profile", "proxy", "--listen", "[]:5", "--target", "127.0.0.1:1")]
    [InlineData("'[]:0' has an empty host in brackets", "profile", "proxy", "--listen", "[]:0", "--target", "127.0.0.1:1")]
    public void Profile_EmptyBracketedListenHost_UsageErrorSaysSo(string expected, params string[] args) =>
        AssertUsageError(args, expected, "give [HOST:]PORT, e.g. 18870, 127.0.0.1:18870 or [::1]:18870.");

    // Brackets were trimmed loosely: '[::1:5' and '::1]:5' were taken for [::1]:5.
    [Theory]
    [InlineData("'[::1:5' has unbalanced brackets: give [HOST:]PORT", "profile", "proxy", "--listen", "[::1:5", "--target", "127.0.0.1:1")]
    [InlineData("--listen: '::1]:5' has unbalanced brackets: give [HOST:]PORT", "profile", "run", "--via-proxy", "127.0.0.1:1", "--listen", "::1]:5", "--", "true")]
    [InlineData("'::1:5' needs brackets around its IPv6 host when a port follows, as in [::1]:5: give [HOST:]PORT", "profile", "proxy", "--listen", "::1:5", "--target", "127.0.0.1:1")]
    [InlineData("'[::1:5' has unbalanced brackets: give HOST:PORT", "profile", "proxy", "--listen", "0", "--target", "[::1:5")]
    [InlineData("--via-proxy: '::1]:5' has unbalanced brackets: give HOST:PORT", "profile", "run", "--via-proxy", "::1]:5", "--", "true")]
    public void Profile_UnbalancedBrackets_UsageErrorNamesTheValue(string expected, params string[] args) =>
        AssertUsageError(args, $"Error: {expected}");

    // Exit 2, the message (whitespace folded: the console wraps it), any further text, and the pointer to the command's help.
    private void AssertUsageError(string[] args, params string[] expected)
    {
        (int code, string stdout, string stderr) = Run(args);
        Assert.Equal(2, code);
        string text = Whitespace().Replace(stdout + stderr, " ");
        foreach (string part in expected)
        {
            Assert.Contains(part, text, StringComparison.Ordinal);
        }
        Assert.Contains($"Run 'rpycbench profile {args[1]} --help' for the options.", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ProgramWithoutConnection_SaysSoAndExits1()
    {
        (int code, _, string stderr) = Run("profile", "run", "--", "dotnet", "--version");
        Assert.Equal(1, code);
        Assert.Contains("opened no RPyC connection", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_ProgramFails_ItsExitCodePassesThroughWithoutUsage()
    {
        (int code, string stdout, _) = Run("profile", "run", "--", "sh", "-c", "exit 2");
        Assert.Equal(2, code);
        Assert.DoesNotContain("USAGE", stdout, StringComparison.Ordinal);
    }

    // Numbers a TimeSpan or a timer cannot hold were an OverflowException or ArgumentOutOfRangeException with a stack trace.
    [Theory]
    [InlineData("--slow-ms", "profile", "proxy", "--listen", "0", "--target", "127.0.0.1:1", "--slow-ms", "1e20")]
    [InlineData("--slow-ms", "profile", "proxy", "--listen", "0", "--target", "127.0.0.1:1", "--slow-ms", "Infinity")]
    [InlineData("--duration", "profile", "proxy", "--listen", "0", "--target", "127.0.0.1:1", "--duration", "5000000")]
    [InlineData("--slow-ms", "profile", "scenario", "ping", "--slow-ms", "1e20")]
    [InlineData("--slow-ms", "profile", "run", "--slow-ms", "1e20", "--", "true")]
    [InlineData("--slow-ms", "profile", "run", "--via-proxy", "127.0.0.1:1", "--slow-ms", "1e20", "--", "true")]
    public void Profile_NumberTooLarge_UsageError(string option, params string[] args)
    {
        (int code, string stdout, string stderr) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains($"{option} must be", Whitespace().Replace(stdout + stderr, " "), StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", stdout + stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    public void Proxy_MaxPendingOutOfRange_UsageError(string value)
    {
        (int code, string stdout, string stderr) = Run("profile", "proxy", "--listen", "0", "--target", "127.0.0.1:1", "--max-pending", value);
        Assert.Equal(2, code);
        string text = Whitespace().Replace(stdout + stderr, " ");
        Assert.Contains("--max-pending must be from 1 to 2147483647", text, StringComparison.Ordinal);
        Assert.Contains("Run 'rpycbench profile proxy --help' for the options.", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Proxy_Help_DocumentsMaxPending()
    {
        (int code, string stdout, _) = Run("profile", "proxy", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--max-pending <N>", stdout, StringComparison.Ordinal);
    }

    // A server that never answers: of 100 requests the relay awaits the newest 10, the rest are given up.
    [Fact]
    public async Task Proxy_MaxPending_OlderRequestsGivenUpInTheReport()
    {
        TimeSpan timeout = TimeSpan.FromSeconds(60);
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        int serverPort = ((IPEndPoint)listener.LocalEndPoint!).Port;
        string json = Path.Combine(Path.GetTempPath(), $"rpycbench-proxy-{Guid.NewGuid():N}.json");
        using Process process = Process.Start(CliTests.Rpycbench("profile", "proxy", "--listen", "0", "--target", $"127.0.0.1:{serverPort}", "--max-pending", "10", "--exit-when-idle", "-o", json))!;
        try
        {
            process.StandardInput.Close();
            Task<string> stdout = process.StandardOutput.ReadToEndAsync();
            int proxyPort = 0;
            while (proxyPort == 0 && await process.StandardError.ReadLineAsync().WaitAsync(timeout) is string line)
            {
                output.WriteLine(line);
                Match port = Regex.Match(line, @"point the client at port (\d+)\.");
                proxyPort = port.Success ? int.Parse(port.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
            }
            Assert.NotEqual(0, proxyPort);
            Task<string> stderr = process.StandardError.ReadToEndAsync();

            using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            {
                Task<Socket> accepted = listener.AcceptAsync();
                await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, proxyPort)).WaitAsync(timeout);
                using Socket server = await accepted.WaitAsync(timeout);
                // 6.x MSG_REQUEST frames: uint32 length | 0 | 0x01 TAG_TUP2 seq (HANDLE_GETROOT, (LABEL_TUPLE, ())) | 0.
                byte[] requests = [.. Enumerable.Range(1, 100).SelectMany(seq => (byte[])[0, 0, 0, 8, 0, 0x01, 0x11, (byte)(0x50 + seq), 0x11, 0x53, 0x11, 0x52, 0x02, 0])];
                await client.SendAsync(requests, SocketFlags.None).WaitAsync(timeout);
                var received = new byte[requests.Length];
                for (int n = 0; n < received.Length;)
                {
                    int read = await server.ReceiveAsync(received.AsMemory(n), SocketFlags.None).AsTask().WaitAsync(timeout);
                    Assert.True(read > 0, "the relay closed the connection");
                    n += read;
                }
                Assert.Equal(requests, received);
            }
            await process.WaitForExitAsync().WaitAsync(timeout);
            output.WriteLine(await stdout);
            output.WriteLine(await stderr);
            Assert.Equal(0, process.ExitCode);
            Assert.Matches(@"Requests Given Up: +90 ", await stdout);
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
            Assert.Equal(90, doc.RootElement.GetProperty("requests_given_up").GetInt64());
            Assert.Equal(10, doc.RootElement.GetProperty("unanswered_requests").GetInt64());
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(10_000);
            }
            File.Delete(json);
        }
    }

    // RPYC_PROFILE_SLOW_MS set by hand to a number no TimeSpan holds: the hook threw, and the
    // unmodified program died before its Main.
    [Fact]
    public async Task StartupHook_SlowMsTooLarge_ProgramRunsAndReports()
    {
        string report = Path.Combine(Path.GetTempPath(), $"rpycbench-hook-{Guid.NewGuid():N}.txt");
        try
        {
            (int exitCode, string stderr) = await RunExampleUnderHookAsync(report, slowMs: "1e20");
            Assert.Equal(0, exitCode);
            Assert.Contains("RPYC_PROFILE_SLOW_MS=1e20", stderr, StringComparison.Ordinal);
            Assert.Contains("RPYC TELEMETRY REPORT", File.ReadAllText(report), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(report);
        }
    }

    // RPYC_PROFILE_REPORT naming a path the program may not write (here a folder: permission
    // denied, as for a file in a folder of another user) threw from the ProcessExit handler: the
    // program, which had finished its work, died with exit code 134 and a stack trace.
    [Fact]
    public async Task StartupHook_ReportPathNotWritable_ProgramExitsNormallyWithAWarning()
    {
        string folder = Directory.CreateTempSubdirectory("rpycbench-hook-").FullName;
        try
        {
            (int exitCode, string stderr) = await RunExampleUnderHookAsync(folder);
            Assert.Equal(0, exitCode);
            Assert.Contains($"rpyc: could not write the profile report to {folder}: ", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled exception", stderr, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // bin/<Configuration>/net10.0 of this project maps onto the example's own output folder.
    // The unmodified ContextManagerBasic example (--quick) profiled by the startup hook, as
    // 'profile run' starts a program, with RPYC_PROFILE_REPORT (and RPYC_PROFILE_SLOW_MS) as given.
    private async Task<(int ExitCode, string Stderr)> RunExampleUnderHookAsync(string report, string? slowMs = null)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(ExampleDll("ContextManagerBasic"));
        start.ArgumentList.Add("--quick");
        start.Environment["DOTNET_STARTUP_HOOKS"] = Path.Combine(AppContext.BaseDirectory, "Rpyc.Profiling.dll");
        start.Environment["RPYC_PROFILE_REPORT"] = report;
        if (slowMs is not null)
        {
            start.Environment["RPYC_PROFILE_SLOW_MS"] = slowMs;
        }
        using Process process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(180));
        output.WriteLine(stdout);
        output.WriteLine(await stderr);
        return (process.ExitCode, await stderr);
    }

    private static string ExampleDll(string example)
    {
        string testBin = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        string configuration = Path.GetFileName(Path.GetDirectoryName(testBin)!);
        string repo = testBin;
        while (!File.Exists(Path.Combine(repo, "Rpyc.slnx")))
        {
            repo = Path.GetDirectoryName(repo) ?? throw new InvalidOperationException("Rpyc.slnx not found above the test output.");
        }
        string dll = Path.Combine(repo, "examples", example, "bin", configuration, "net10.0", example + ".dll");
        Assert.True(File.Exists(dll), $"{dll} was not built");
        return dll;
    }

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();
}
