using System.Net;
using Rpyc.Profiling.Wire;

namespace Rpyc.Telemetry.Tests;

/// <summary>
/// A profile proxy left running keeps a record of every connection: what it keeps must not include
/// the frame buffers, which grow to the largest frame relayed.
/// </summary>
[Collection(DotnetServerCollection.Name)]
public sealed class WireProxyMemoryTests(DotnetServerFixture server)
{
    [Fact]
    public async Task LargeFrames_DecoderBuffersShrinkAfterThemAndGoWithTheConnection()
    {
        await using RpycWireProxy proxy = RpycWireProxy.Start(new IPEndPoint(IPAddress.Loopback, 0), "127.0.0.1", server.Port);
        var payload = new byte[8 * 1024 * 1024];
        using (RpycConnection connection = RpycConnection.Connect("127.0.0.1", proxy.LocalEndPoint.Port))
        {
            // 8 MiB each way, then a small call: the frame is long gone.
            Assert.Equal(payload.Length, ((byte[])connection.RootNetref.CallMethod("echo", payload)!).Length);
            Assert.Equal("pong", connection.RootNetref.CallMethod("ping"));
            WireFrameDecoder[] open = Assert.Single(proxy.Recorder.Connections).Decoders;
            Assert.All(open, d => Assert.True(d.Capacity <= WireFrameDecoder.RetainedCapacity, $"{d.Capacity} bytes kept while open"));
        }
        await proxy.Idle.WaitAsync(TimeSpan.FromSeconds(30));
        WireProfile profile = proxy.GetProfile();
        Assert.Equal(3, profile.RoundTrips);
        Assert.All(Assert.Single(proxy.Recorder.Connections).Decoders, d => Assert.Equal(0, d.Capacity));
    }

    [Fact]
    public async Task MethodsFetchedCalledAndReleased_NothingKeptPerCall()
    {
        await using RpycWireProxy proxy = RpycWireProxy.Start(new IPEndPoint(IPAddress.Loopback, 0), "127.0.0.1", server.Port);
        using RpycConnection connection = RpycConnection.Connect("127.0.0.1", proxy.LocalEndPoint.Port);
        Netref root = connection.RootNetref;
        // Python-style m = root.ping; m(): GETATTR, CALL, then the DEL of the method's proxy.
        for (int i = 0; i < 50; i++)
        {
            using var ping = (Netref)root.GetAttr("ping")!;
            Assert.Equal("pong", ping.Call());
        }
        // Sent after the DELs, so its reply comes after they were recorded.
        root.CallMethod("ping");
        WireProfile profile = proxy.GetProfile();
        Assert.Equal(50, profile.NetrefsHeldByClient.Released);
        Assert.Equal(50, profile.Calls.Count(c => c.Handler == "call" && c.DisplayName == "TelemetryTestService.ping()"));
        WireRecorder.ConnectionState state = Assert.Single(proxy.Recorder.Connections);
        Assert.Empty(state.AttributeNames[0]);
    }

    [Fact]
    public async Task EveryCallSlow_KeepsTheSlowestUpToMaxRecordsAndCountsThemAll()
    {
        var options = new RpycWireProxyOptions { SlowCallThreshold = TimeSpan.Zero, MaxRecords = 5 };
        await using RpycWireProxy proxy = RpycWireProxy.Start(new IPEndPoint(IPAddress.Loopback, 0), "127.0.0.1", server.Port, options);
        using (RpycConnection connection = RpycConnection.Connect("127.0.0.1", proxy.LocalEndPoint.Port))
        {
            for (int i = 0; i < 20; i++)
            {
                connection.RootNetref.CallMethod("ping");
            }
        }
        await proxy.Idle.WaitAsync(TimeSpan.FromSeconds(30));
        WireProfile profile = proxy.GetProfile();
        // getroot and 20 pings, every one of them at least 0 s long.
        Assert.Equal(21, profile.RoundTrips);
        Assert.Equal(5, profile.SlowCalls.Count);
        Assert.Equal(21, profile.SlowCallCount);
        Assert.All(profile.SlowCalls.Zip(profile.SlowCalls.Skip(1)), p => Assert.True(p.First.Duration >= p.Second.Duration));
        string text = WireProfileReport.FormatText(profile);
        Assert.Contains("  ... 16 more\n", text, StringComparison.Ordinal);
        using var json = new MemoryStream();
        WireProfileReport.WriteJson(profile, json);
        using var document = System.Text.Json.JsonDocument.Parse(json.ToArray());
        Assert.Equal(21, document.RootElement.GetProperty("slow_call_count").GetInt64());
    }
}
