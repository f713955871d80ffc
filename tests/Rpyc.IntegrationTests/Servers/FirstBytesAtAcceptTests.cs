using System.Net;
using System.Net.Sockets;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// A client that speaks at once is handed to its thread by the accept loop itself; one that waits
/// before speaking goes through the pending connections and is served all the same.
/// </summary>
[Collection(DotNetServersCollection.Name)]
public sealed class FirstBytesAtAcceptTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    // The longest spin the options take: the accept loop polls the new socket for up to 1 ms.
    private static RpycServerOptions Polling() => new()
    {
        Port = 0,
        ConnectionOptions = new RpycConnectOptions { ReceiveSpin = RpycConnectOptions.MaxReceiveSpin },
    };

    [Fact]
    public void ThreadedServer_ClientSpeaksAtOnce_HandedOnAtAcceptAndServed()
    {
        using var server = new ThreadedServer(() => new InteropService(), Polling());
        server.Start();

        // The root is asked for microseconds after the connect, well within the server's 1 ms poll,
        // once the client's code is compiled (the first connection pays for the JIT).
        for (int i = 0; i < 10; i++)
        {
            using RpycConnection client = RpycConnection.Connect("127.0.0.1", server.Port, new RpycConnectOptions { SyncRequestTimeout = s_bound });
            Assert.Equal("pong", client.RootNetref.CallMethod("ping"));
        }

        // At least one: under load from other tests a root request may come later than 1 ms.
        Assert.InRange(server.HandedOnAtAccept, 1, 10);
    }

    [Fact]
    public async Task ThreadedServer_ClientSilentPastTheSpin_GoesThroughPendingAndIsServed()
    {
        using var server = new ThreadedServer(() => new InteropService(), Polling());
        server.Start();
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Connect(new IPEndPoint(IPAddress.Loopback, server.Port));

        Assert.True(await Eventually.TrueAsync(() => server.PendingConnections == 1, s_bound), "The silent connection is not pending.");
        // Speaks now: a frame header announcing 5 body bytes, then a hang-up. Handed on by the pending
        // connections, not by the accept loop.
        silent.Send([0, 0, 0, 5, 0]);
        Assert.True(await Eventually.TrueAsync(() => server.PendingConnections == 0, s_bound), "The connection stayed pending after its first bytes.");
        Assert.Equal(0, server.HandedOnAtAccept);
    }
}
