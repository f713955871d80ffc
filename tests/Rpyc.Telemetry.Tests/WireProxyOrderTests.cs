using System.Net;
using System.Net.Sockets;
using Rpyc.Profiling.Wire;

namespace Rpyc.Telemetry.Tests;

/// <summary>
/// The profile proxy records every message before it forwards it, so nothing sent in answer to a
/// message can be recorded before it: otherwise a reply, recorded after the next request, left that
/// request's call without the name its getattr gave it ("method()" for "add()").
/// </summary>
public sealed class WireProxyOrderTests
{
    [Fact]
    public async Task Request_RecordedByTheTimeTheServerReceivesIt()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        int serverPort = ((IPEndPoint)listener.LocalEndPoint!).Port;
        await using RpycWireProxy proxy = RpycWireProxy.Start(new IPEndPoint(IPAddress.Loopback, 0), "127.0.0.1", serverPort);
        // Whatever the pump does after forwarding now comes long after the server has the bytes.
        proxy.AfterForwardForTests = () => Task.Delay(TimeSpan.FromMilliseconds(300));

        // The server: at the moment the client's first request reaches it, what has the proxy recorded?
        Task<long> recordedOnArrival = Task.Run(async () =>
        {
            using Socket accepted = await listener.AcceptAsync();
            byte[] buffer = new byte[4096];
            int received = await accepted.ReceiveAsync(buffer, SocketFlags.None);
            Assert.True(received > 0, "the client's request did not arrive");
            return proxy.GetProfile().RequestsByHandler.GetValueOrDefault("getroot");
        });
        // The client: its first request is GETROOT; the server above hangs up instead of answering.
        Task client = Task.Run(() =>
        {
            using RpycConnection connection = RpycConnection.Connect("127.0.0.1", proxy.LocalEndPoint.Port, new RpycConnectOptions { SyncRequestTimeout = TimeSpan.FromSeconds(10) });
            _ = connection.Root;
        });

        Assert.Equal(1, await recordedOnArrival.WaitAsync(TimeSpan.FromSeconds(30)));
        await Assert.ThrowsAnyAsync<RpycException>(() => client.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}
