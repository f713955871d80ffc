using System.Net;
using System.Net.Sockets;
using Rpyc.Profiling.Wire;
using static Rpyc.Telemetry.Tests.RawFrames;

namespace Rpyc.Telemetry.Tests;

/// <summary>
/// A profile proxy left running awaits the reply of every request it relays: requests whose reply
/// never comes (a peer that does not answer, CLOSE, a callback the client drops, replies the relay
/// cannot decode) must not pile up for the connection's life. Raw sockets on both sides write the
/// frames, so nothing answers unless the test does.
/// </summary>
public sealed class WireProxyPendingTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Theory]
    [InlineData(WireDirection.ClientToServer)]
    [InlineData(WireDirection.ServerToClient)]
    public async Task RequestsNeverAnswered_AtMostMaxPendingAwaitedAndTheRestCounted(WireDirection sender)
    {
        using var listener = Listen(out int serverPort);
        await using RpycWireProxy proxy = RpycWireProxy.Start(new IPEndPoint(IPAddress.Loopback, 0), "127.0.0.1", serverPort, new RpycWireProxyOptions { MaxPendingRequests = 10 });
        (Socket client, Socket server) = await ConnectAsync(listener, proxy);
        using (client)
        using (server)
        {
            (Socket from, Socket to) = sender == WireDirection.ClientToServer ? (client, server) : (server, client);
            // The first frame of each side sets its envelope: a 6.x request.
            byte[] requests = [.. Enumerable.Range(1, 1000).SelectMany(seq => GetRootRequest(seq))];
            await SendAndReceiveAsync(from, to, requests);

            WireRecorder.ConnectionState state = Assert.Single(proxy.Recorder.Connections);
            int side = sender == WireDirection.ClientToServer ? 0 : 1;
            Assert.Equal(10, state.Pending[side].Count);
            Assert.Equal(10, state.Open.Count);
            WireProfile profile = proxy.GetProfile();
            Assert.Equal(990, profile.RequestsGivenUp);
            Assert.Equal(10, Assert.Single(profile.Connections).Unanswered);
            Assert.Contains("Requests Given Up:          990 ", WireProfileReport.FormatText(profile), StringComparison.Ordinal);

            // The newest are still matched; a reply to one given up is counted, not kept.
            byte[] replies = [.. Reply(1000), .. Reply(1)];
            await SendAndReceiveAsync(to, from, replies);
            profile = proxy.GetProfile();
            Assert.Equal(9, Assert.Single(profile.Connections).Unanswered);
            Assert.Equal(1, profile.UnmatchedReplies);
            Assert.All(state.EarlyReplies, early => Assert.Empty(early));
        }
        await proxy.Idle.WaitAsync(s_timeout);
        // A closed connection's record keeps the count of what was never answered, not the requests.
        WireRecorder.ConnectionState closed = Assert.Single(proxy.Recorder.Connections);
        Assert.All(closed.Pending, pending => Assert.Empty(pending));
        Assert.Empty(closed.Open);
        Assert.Equal(9, Assert.Single(proxy.GetProfile().Connections).Unanswered);
    }

    [Fact]
    public async Task RepliesNotDecodable_RequestsOfTheOtherSideCountedNotAwaited()
    {
        using var listener = Listen(out int serverPort);
        await using RpycWireProxy proxy = RpycWireProxy.Start(new IPEndPoint(IPAddress.Loopback, 0), "127.0.0.1", serverPort);
        (Socket client, Socket server) = await ConnectAsync(listener, proxy);
        using (client)
        using (server)
        {
            await SendAndReceiveAsync(client, server, [.. GetRootRequest(1), .. GetRootRequest(2)]);
            // The server's first frame is neither envelope: its direction is no longer decoded.
            await SendAndReceiveAsync(server, client, Frame([0xFF, 0x00]));
            await SendAndReceiveAsync(client, server, [.. Enumerable.Range(3, 100).SelectMany(seq => GetRootRequest(seq))]);

            WireRecorder.ConnectionState state = Assert.Single(proxy.Recorder.Connections);
            Assert.NotNull(state.Decoders[1].Error);
            Assert.All(state.Pending, pending => Assert.Empty(pending));
            Assert.Empty(state.Open);
            WireProfile profile = proxy.GetProfile();
            Assert.Equal(102, profile.RequestsGivenUp);
            Assert.Equal(0, profile.Unanswered);
        }
    }

    [Theory]
    [InlineData(WireDirection.ClientToServer)]
    [InlineData(WireDirection.ServerToClient)]
    public async Task RepliesMatchingNoRequest_AtMostMaxPendingKeptAndTheRestCounted(WireDirection requester)
    {
        using var listener = Listen(out int serverPort);
        await using RpycWireProxy proxy = RpycWireProxy.Start(new IPEndPoint(IPAddress.Loopback, 0), "127.0.0.1", serverPort, new RpycWireProxyOptions { MaxPendingRequests = 10 });
        (Socket client, Socket server) = await ConnectAsync(listener, proxy);
        using (client)
        using (server)
        {
            (Socket asker, Socket replier) = requester == WireDirection.ClientToServer ? (client, server) : (server, client);
            // A peer answering requests never made: each reply waits for its request, at most 10.
            await SendAndReceiveAsync(replier, asker, [.. Enumerable.Range(1, 1000).SelectMany(seq => Reply(seq))]);

            WireRecorder.ConnectionState state = Assert.Single(proxy.Recorder.Connections);
            int side = requester == WireDirection.ClientToServer ? 0 : 1;
            Assert.Equal(10, state.EarlyReplies[side].Count);
            Assert.Empty(state.EarlyReplies[1 - side]);
            WireProfile profile = proxy.GetProfile();
            Assert.Equal(1000, profile.UnmatchedReplies);
            Assert.Equal(990, profile.UnmatchedRepliesDropped);
            Assert.Contains("Unmatched Replies Dropped:  990 ", WireProfileReport.FormatText(profile), StringComparison.Ordinal);
            using (var json = new MemoryStream())
            {
                WireProfileReport.WriteJson(profile, json);
                using var doc = System.Text.Json.JsonDocument.Parse(json.ToArray());
                Assert.Equal(990, doc.RootElement.GetProperty("unmatched_replies_dropped").GetInt64());
            }

            // One kept still finds its request.
            await SendAndReceiveAsync(asker, replier, GetRootRequest(5));
            profile = proxy.GetProfile();
            Assert.Equal(999, profile.UnmatchedReplies);
            Assert.Equal(9, state.EarlyReplies[side].Count);
        }
        await proxy.Idle.WaitAsync(s_timeout);
        // A closed connection's record keeps the count of the replies that matched nothing, not the replies.
        WireRecorder.ConnectionState closed = Assert.Single(proxy.Recorder.Connections);
        Assert.All(closed.EarlyReplies, early => Assert.Empty(early));
        Assert.Equal(999, proxy.GetProfile().UnmatchedReplies);
    }

    [Fact]
    public async Task Ipv6Target_TargetAndConnectErrorBracketed()
    {
        // Port 1 on ::1: nothing listens there, the connection is refused.
        await using RpycWireProxy proxy = RpycWireProxy.Start(new IPEndPoint(IPAddress.IPv6Loopback, 0), "::1", 1);
        Assert.Equal("[::1]:1", proxy.Target);
        using (var client = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp))
        {
            await client.ConnectAsync(proxy.LocalEndPoint).WaitAsync(s_timeout);
            await proxy.Idle.WaitAsync(s_timeout);
        }
        WireProfile profile = proxy.GetProfile();
        Assert.Equal("[::1]:1", profile.Target);
        Assert.StartsWith("cannot connect to [::1]:1: ", Assert.Single(profile.Connections).ConnectError, StringComparison.Ordinal);
        Assert.Contains(" -> [::1]:1\n", WireProfileReport.FormatText(profile), StringComparison.Ordinal);
    }

    private static Socket Listen(out int port)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        return listener;
    }

    private static async Task<(Socket Client, Socket Server)> ConnectAsync(Socket listener, RpycWireProxy proxy)
    {
        Task<Socket> accepted = listener.AcceptAsync();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(proxy.LocalEndPoint).WaitAsync(s_timeout);
        return (client, await accepted.WaitAsync(s_timeout));
    }

    // The relay records bytes before it forwards them: once they all arrived, they were all recorded.
    private static async Task SendAndReceiveAsync(Socket from, Socket to, byte[] bytes)
    {
        await from.SendAsync(bytes, SocketFlags.None).WaitAsync(s_timeout);
        var buffer = new byte[bytes.Length];
        for (int received = 0; received < bytes.Length;)
        {
            int n = await to.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None).AsTask().WaitAsync(s_timeout);
            Assert.True(n > 0, "the relay closed the connection");
            received += n;
        }
        Assert.Equal(bytes, buffer);
    }
}
