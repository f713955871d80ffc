using System.Net;
using System.Net.Sockets;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// A client that speaks at once is served by the thread that accepted it, while the other accepting
/// threads take the next connections; one that waits before speaking goes through the pending
/// connections and is served all the same.
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

    [Fact]
    public async Task ThreadedServer_LongCallOnTheAcceptingThread_NextConnectionsServedMeanwhile()
    {
        using var server = new ThreadedServer(() => new InteropService(), Polling());
        server.Start();
        for (int i = 0; i < 5; i++)
        {
            using RpycConnection warm = RpycConnection.Connect("127.0.0.1", server.Port);
            warm.RootNetref.CallMethod("ping");
        }

        // Holds its thread (an accepting thread, when its first bytes came within the spin) for 5 s.
        using RpycConnection busy = RpycConnection.Connect("127.0.0.1", server.Port, new RpycConnectOptions { SyncRequestTimeout = s_bound });
        Netref busyRoot = busy.RootNetref;
        Task<object?> sleeping = Task.Run(() => busyRoot.CallMethod("sleep", 5.0));
        await Task.Delay(200);
        Assert.False(sleeping.IsCompleted);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 3; i++)
        {
            using RpycConnection next = RpycConnection.Connect("127.0.0.1", server.Port, new RpycConnectOptions { SyncRequestTimeout = s_bound });
            Assert.Equal("pong", next.RootNetref.CallMethod("ping"));
        }

        // Served while the sleep goes on, not after it.
        Assert.InRange(clock.Elapsed.TotalSeconds, 0, 4);
        Assert.False(sleeping.IsCompleted);
        Assert.Equal(5.0, await sleeping.WaitAsync(s_bound));
    }

    [Fact]
    public async Task ThreadedServer_BurstOfConnections_IdleAcceptingThreadsCappedAndAllEndOnStop()
    {
        var server = new ThreadedServer(() => new InteropService(), Polling());
        server.Start();
        int clients = RpycServer.MaxIdleAcceptors + 8;
        var open = new List<RpycConnection>();
        try
        {
            // All open at once: each served on a thread of its own.
            for (int i = 0; i < clients; i++)
            {
                RpycConnection c = RpycConnection.Connect("127.0.0.1", server.Port, new RpycConnectOptions { SyncRequestTimeout = s_bound });
                open.Add(c);
                Assert.Equal("pong", c.RootNetref.CallMethod("ping"));
            }
        }
        finally
        {
            open.ForEach(c => c.Dispose());
        }

        // Their threads go back to accepting, and those past the cap end.
        Assert.True(await Eventually.TrueAsync(() => server.AcceptorCount <= RpycServer.MaxIdleAcceptors, s_bound),
            $"{server.AcceptorCount} accepting threads after the burst, more than {RpycServer.MaxIdleAcceptors}");
        Assert.True(server.AcceptorCount >= 1);
        // Still serving after the burst.
        using (RpycConnection after = RpycConnection.Connect("127.0.0.1", server.Port, new RpycConnectOptions { SyncRequestTimeout = s_bound }))
        {
            Assert.Equal("pong", after.RootNetref.CallMethod("ping"));
        }

        server.Dispose();
        Assert.True(await Eventually.TrueAsync(() => server.AcceptorCount == 0, s_bound), $"{server.AcceptorCount} accepting threads outlived Stop");
    }
}
