using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Rpyc.Profiling.Wire;

namespace Rpyc.Telemetry.Tests;

/// <summary>
/// The wire profiler (what 'rpycbench profile proxy' runs) between a real rpyc client and the stock
/// Python server: its counts equal an independent frame count (the test's WireProxy, chained behind
/// it), and, for the .NET client, the in-process telemetry of the same connection.
/// </summary>
[Collection(PythonServerCollection.Name)]
public sealed class WireProfilerTests(PythonServerFixture server, ITestOutputHelper output)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(60);

    // rpyc/core/consts.py HANDLE_*, in rpyc's lower-case names.
    private static readonly string[] s_handlerNames =
    [
        "handler_0", "ping", "close", "getroot", "getattr", "delattr", "setattr", "call", "callattr", "repr",
        "str", "cmp", "hash", "dir", "pickle", "del", "inspect", "buffiter", "oldslicing", "ctxexit", "instancecheck",
    ];

    [Fact]
    public async Task PythonClient_ThroughProfileProxy_CountsEqualTheFrames()
    {
        using var frames = new WireProxy(server.Port);
        await using RpycWireProxy proxy = RpycWireProxy.Start(new IPEndPoint(IPAddress.Loopback, 0), "127.0.0.1", frames.Port);

        (int exitCode, string stdout) = await RunPythonClientAsync(proxy.LocalEndPoint.Port);
        Assert.True(exitCode == 0, $"the Python client exited with {exitCode}:\n{stdout}");
        Assert.Contains("DONE True", stdout, StringComparison.Ordinal);
        await proxy.Idle.WaitAsync(s_timeout);

        WireProfile profile = proxy.GetProfile();
        output.WriteLine(WireProfileReport.FormatText(profile));
        WireCounts wire = frames.Counts();
        output.WriteLine($"wire: {wire}");

        // Exactly what crossed the wire.
        Assert.Equal(wire.RoundTrips, profile.RoundTrips);
        Assert.Equal(wire.OneWayMessages, profile.OneWayMessages);
        Assert.Equal(wire.IncomingRequests, profile.Callbacks);
        Assert.Equal(wire.BytesSent, profile.BytesSent);
        Assert.Equal(wire.BytesReceived, profile.BytesReceived);
        Assert.Equal(ByName(wire.ClientHandlers), profile.RequestsByHandler.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(ByName(wire.ServerHandlers), profile.CallbacksByHandler.OrderBy(kv => kv.Key, StringComparer.Ordinal));
        Assert.Equal(0, profile.UnmatchedReplies);
        Assert.Equal(0, profile.Unanswered);

        // The script's known operations: 13 attribute reads (10 methods fetched by a Python netref
        // before each call, 3 reads of label), 10 calls, __iter__ and 4 x __next__ (the last one
        // raising StopIteration), one getroot, one close.
        Assert.Equal(13, profile.RequestsByHandler["getattr"]);
        Assert.Equal(10, profile.RequestsByHandler["call"]);
        Assert.Equal(5, profile.RequestsByHandler["callattr"]);
        Assert.Equal(1, profile.RequestsByHandler["getroot"]);
        Assert.Equal(1, profile.RequestsByHandler["close"]);
        Assert.Equal(3, profile.Calls.Count(c => c.Handler == "getattr" && c.Name == "label" && c.Target == "__main__.Thing"));
        Assert.Equal(4, profile.Calls.Count(c => c.Name == "__next__" && c.Target == "builtins.list_iterator"));
        Assert.Equal("builtins.StopIteration", profile.Calls.Last(c => c.Name == "__next__").Error);
        Assert.Equal("builtins.ValueError: boom", profile.Calls.Single(c => c.Handler == "call" && c.Name == "fail").Error);
        Assert.Equal(5000, profile.Calls.Single(c => c.Handler == "call" && c.Name == "download").PayloadBytes);

        // The callback of call_me runs while call_me is pending: its child, at depth 2.
        WireCall callMe = profile.Calls.Single(c => c.Handler == "call" && c.Name == "call_me");
        WireCall callback = profile.Calls.Single(c => c.Direction == WireDirection.ServerToClient && c.Handler == "call");
        Assert.Equal(callMe.Id, callback.ParentId);
        Assert.Equal(2, callback.Depth);
        Assert.Equal(2, profile.MaxDepth);

        // Every proxy of a method was released; the root and 'kept' were alive when the client closed.
        WireNetrefCounts held = profile.NetrefsHeldByClient;
        Assert.Equal(held.Created - held.Released, held.Alive);
        Assert.Equal(wire.ClientHandlers[15], held.Released);
        Assert.Equal(0, profile.NetrefTypes.Single(t => t.TypeName == "builtins.method" && t.HeldByClient).Alive);
        Assert.Equal(1, profile.NetrefTypes.Single(t => t.TypeName == "__main__.DemoService").Alive);
        Assert.Equal(1, profile.NetrefTypes.Single(t => t.TypeName == "__main__.Thing").Alive);
        Assert.Contains(profile.Advice, a => a.Kind == AdviceKind.RemoteSequenceLoop && a.Occurrences == 4);
        Assert.Contains(profile.Advice, a => a.Kind == AdviceKind.RepeatedGetAttr && a.Occurrences == 3);

        WireConnectionProfile connection = Assert.Single(profile.Connections);
        Assert.False(connection.IsOpen);
        Assert.Equal(5, connection.ProtocolVersion);
        Assert.Null(connection.DecodeError);
        AssertJson(profile);
    }

    [Fact]
    public async Task DotnetClient_SameScenario_ProxyEqualsInProcessTelemetry()
    {
        await using RpycWireProxy proxy = RpycWireProxy.Start(new IPEndPoint(IPAddress.Loopback, 0), "127.0.0.1", server.Port);
        var telemetry = new RpycTelemetry();
        RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", proxy.LocalEndPoint.Port, telemetry, server.Options);
        TelemetryStatistics stats;
        List<CallRecord> records;
        try
        {
            Netref root = connection.RootNetref;
            Assert.Equal("pong", root.CallMethod("ping"));
            Assert.Equal(7L, root.CallMethod("add", 3L, 4L));
            Assert.Equal(5000, ((byte[])root.CallMethod("download", 5000L)!).Length);
            using (var list = (Netref)root.CallMethod("get_list")!)
            {
                Assert.Equal(3, list.Count());
            }
            using (var thing = (Netref)root.CallMethod("get_object", "x")!)
            {
                for (int i = 0; i < 3; i++)
                {
                    Assert.Equal("thing-x", thing.GetAttr("label"));
                }
                Assert.Equal("x:4", thing.CallMethod("method", 2L));
            }
            Assert.Throws<RpycRemoteException>(() => root.CallMethod("fail", "boom"));
            Func<long, long> times3 = x => x * 3;
            Assert.Equal(21L, root.CallMethod("call_me", times3, 7L));
            var kept = (Netref)root.CallMethod("get_object", "kept")!;
            Assert.Equal(true, root.CallMethod("collect"));
            Assert.NotNull(kept);
            stats = telemetry.GetStatistics();
            records = [.. telemetry.Records];
        }
        finally
        {
            connection.Dispose();
        }
        await proxy.Idle.WaitAsync(s_timeout);
        WireProfile profile = proxy.GetProfile();
        output.WriteLine(WireProfileReport.FormatText(profile));

        // The close after the snapshot is the one request the telemetry did not see yet.
        long close = profile.RequestsByHandler.GetValueOrDefault("close");
        Assert.Equal(stats.RoundTrips, profile.RoundTrips);
        Assert.Equal(stats.OneWayMessages, profile.OneWayMessages - close);
        Assert.Equal(stats.IncomingRequests, profile.Callbacks);
        long closeBytes = profile.Calls.Where(c => c.Handler == "close").Sum(c => c.RequestBytes);
        long closeReplyBytes = profile.Calls.Where(c => c.Handler == "close").Sum(c => c.ReplyBytes);
        Assert.Equal(stats.BytesSent, profile.BytesSent - closeBytes);
        long oneWayReplyBytes = profile.Calls.Where(c => c.IsOneWay && c.Direction == WireDirection.ClientToServer).Sum(c => c.ReplyBytes);
        Assert.Equal(stats.BytesReceived - stats.UnmatchedReplyBytes, profile.BytesReceived - oneWayReplyBytes);
        Assert.True(closeReplyBytes >= 0);
        Assert.Equal(stats.NetrefsCreated, profile.NetrefsHeldByClient.Created);
        Assert.Equal(stats.NetrefsReleased, profile.NetrefsHeldByClient.Released);
        Assert.Equal(stats.ObjectsExported, profile.NetrefsHeldByServer.Created);
        Assert.Equal(stats.ObjectsReleased, profile.NetrefsHeldByServer.Released);
        Assert.Equal(stats.MaxStackDepth, profile.MaxDepth);
        var inProcess = records.Where(r => r.Direction == CallDirection.Outgoing).GroupBy(r => r.Handler)
            .Select(g => new KeyValuePair<string, long>(g.Key, g.Count())).OrderBy(kv => kv.Key, StringComparer.Ordinal);
        Assert.Equal(inProcess, profile.RequestsByHandler.Where(kv => kv.Key != "close").OrderBy(kv => kv.Key, StringComparer.Ordinal));
        // Names come from the frames: the .NET client calls methods with CALLATTR.
        Assert.Equal(3, profile.Calls.Count(c => c.Handler == "getattr" && c.Name == "label" && c.Target == "__main__.Thing"));
        Assert.Single(profile.Calls, c => c.Handler == "callattr" && c.Name == "call_me" && c.Target == "__main__.DemoService");
    }

    [Fact]
    public async Task NotRpyc_DecodeStops_BytesStillRelayedUnchanged()
    {
        using var echo = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        echo.Start();
        int echoPort = ((IPEndPoint)echo.LocalEndpoint).Port;
        Task serverSide = Task.Run(async () =>
        {
            using System.Net.Sockets.TcpClient accepted = await echo.AcceptTcpClientAsync();
            await using System.Net.Sockets.NetworkStream stream = accepted.GetStream();
            byte[] buffer = new byte[64];
            int n = await stream.ReadAsync(buffer);
            await stream.WriteAsync(buffer.AsMemory(0, n));
        });
        await using RpycWireProxy proxy = RpycWireProxy.Start(new IPEndPoint(IPAddress.Loopback, 0), "127.0.0.1", echoPort);
        using (var client = new System.Net.Sockets.TcpClient())
        {
            await client.ConnectAsync(IPAddress.Loopback, proxy.LocalEndPoint.Port);
            await using System.Net.Sockets.NetworkStream stream = client.GetStream();
            // A frame header announcing 3 bytes whose payload starts with 0x7f: no rpyc envelope.
            byte[] frame = [0, 0, 0, 3, 0, 0x7f, 0x01, 0x02, 0x0a];
            await stream.WriteAsync(frame);
            byte[] back = new byte[frame.Length];
            await stream.ReadExactlyAsync(back).AsTask().WaitAsync(s_timeout);
            Assert.Equal(frame, back);
        }
        await serverSide.WaitAsync(s_timeout);
        await proxy.Idle.WaitAsync(s_timeout);
        WireConnectionProfile connection = Assert.Single(proxy.GetProfile().Connections);
        Assert.Contains("0x7f", connection.DecodeError, StringComparison.Ordinal);
        Assert.Equal(0, proxy.GetProfile().RoundTrips);
    }

    private static void AssertJson(WireProfile profile)
    {
        using var stream = new MemoryStream();
        WireProfileReport.WriteJson(profile, stream);
        using JsonDocument json = JsonDocument.Parse(stream.ToArray());
        JsonElement root = json.RootElement;
        Assert.Equal(profile.RoundTrips, root.GetProperty("round_trips").GetInt64());
        Assert.Equal(profile.OneWayMessages, root.GetProperty("one_way_messages").GetInt64());
        Assert.Equal(profile.RequestsByHandler["getattr"], root.GetProperty("requests_by_handler").GetProperty("getattr").GetInt64());
        Assert.Equal(profile.BytesSent, root.GetProperty("bytes_sent").GetInt64());
        Assert.Equal(profile.BytesReceived, root.GetProperty("bytes_received").GetInt64());
        JsonElement netrefs = root.GetProperty("netrefs");
        Assert.Equal(profile.Netrefs, new WireNetrefCounts(netrefs.GetProperty("created").GetInt64(), netrefs.GetProperty("released").GetInt64(), netrefs.GetProperty("alive").GetInt64()));
        Assert.Equal(profile.SlowCalls.Count, root.GetProperty("slow_calls").GetArrayLength());
        Assert.Equal(profile.Connections.Count, root.GetProperty("connections").GetArrayLength());
    }

    private static IEnumerable<KeyValuePair<string, long>> ByName(Dictionary<long, int> byCode) =>
        byCode.Select(kv => new KeyValuePair<string, long>(s_handlerNames[kv.Key], kv.Value))
            .OrderBy(kv => kv.Key, StringComparer.Ordinal);

    private async Task<(int ExitCode, string Stdout)> RunPythonClientAsync(int port)
    {
        var start = new ProcessStartInfo(PythonServerFixture.Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "-u", Path.Combine(AppContext.BaseDirectory, "python", "profile_client.py"), port.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }
        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(s_timeout);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        string all = await stdout + await stderr;
        output.WriteLine(all);
        return (process.ExitCode, all);
    }
    // A direction the relay cannot decode (here a request nested deeper than brine's limit) hides
    // every later request: the server's replies then match nothing, for as long as the client runs.
    [Fact]
    public async Task ClientDirectionUndecodable_LaterRepliesCountedNotKept()
    {
        await using RpycWireProxy proxy = RpycWireProxy.Start(new IPEndPoint(IPAddress.Loopback, 0), "127.0.0.1", server.Port);
        string script = Path.Combine(Path.GetTempPath(), $"rpyc-deep-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, """
            import sys, rpyc
            sys.setrecursionlimit(20000)
            conn = rpyc.connect("127.0.0.1", int(sys.argv[1]))
            deep = ()
            for _ in range(400):
                deep = (deep,)
            assert conn.root.upload(deep) == 1
            for _ in range(50):
                assert conn.root.download(1000) is not None
            print("DONE")
            """);
        try
        {
            var start = new ProcessStartInfo(PythonServerFixture.Interpreter) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(script);
            start.ArgumentList.Add(proxy.LocalEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using Process python = Process.Start(start)!;
            Task<string> stderr = python.StandardError.ReadToEndAsync();
            string stdout = await python.StandardOutput.ReadToEndAsync();
            await python.WaitForExitAsync().WaitAsync(s_timeout);
            Assert.True(stdout.Contains("DONE", StringComparison.Ordinal), stdout + await stderr);
        }
        finally
        {
            File.Delete(script);
        }
        await proxy.Idle.WaitAsync(s_timeout);
        WireProfile profile = proxy.GetProfile();
        WireConnectionProfile connection = Assert.Single(profile.Connections);
        Assert.NotNull(connection.DecodeError);
        // The upload's reply and the 50 downloads' (getattr and call each for a Python netref).
        Assert.True(profile.UnmatchedReplies >= 101, $"{profile.UnmatchedReplies} unmatched replies");
        Assert.All(Assert.Single(proxy.Recorder.Connections).EarlyReplies, replies => Assert.Empty(replies));
    }
}
