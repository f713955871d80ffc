using Rpyc.Protocol;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// <see cref="RpycServerOptions.MaxConnections"/> with connections whose first bytes arrive together
/// on different server threads: one on an accepting thread, the others on the pending connections'
/// thread. Each server thread is held between the check and the hand-off (the <c>first-bytes</c>
/// stage) until another gets there too, so a check that is not one step with the count lets two in.
/// </summary>
[Collection(DotNetServersCollection.Name)]
public sealed class MaxConnectionsTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);
    // How long a held thread waits for a second one beside it: long beside a hand-off between threads.
    private static readonly TimeSpan s_hold = TimeSpan.FromSeconds(2);

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public async Task FirstBytesTogetherOnTwoThreads_NeverMoreThanMaxConnectionsServed(ServerKind kind)
    {
        using var log = new LogCapture(output);
        const int Max = 1;
        const int Silent = 3;
        using var acceptedFresh = new ManualResetEventSlim();
        using var freshSent = new ManualResetEventSlim();
        using var secondInside = new ManualResetEventSlim();
        int inside = 0;
        using RpycServer server = TestServers.Start<InteropService>(kind, new RpycServerOptions { Host = "127.0.0.1", Port = 0, MaxConnections = Max });
        if (server is ForkingServer forking)
        {
            Assert.True(await Eventually.TrueAsync(() => forking.ReadyWorkers == 2, s_bound), $"{forking.ReadyWorkers} of 2 workers ready.");
        }
        var clients = new List<RawConnection>();
        try
        {
            for (int i = 0; i < Silent; i++)
            {
                clients.Add(await RawConnection.ConnectAsync(server.Port));
            }
            Assert.True(await Eventually.TrueAsync(() => server.PendingConnections == Silent, s_bound), $"{server.PendingConnections} of {Silent} silent connections pending.");
            server.FaultInjection = stage =>
            {
                if (stage == "accept")
                {
                    // The fresh client's request is sent before the accepting thread looks for it,
                    // so that thread hands it on itself.
                    acceptedFresh.Set();
                    freshSent.Wait(s_bound);
                }
                else if (stage == "first-bytes")
                {
                    if (Interlocked.Increment(ref inside) > Max)
                    {
                        secondInside.Set();
                    }
                    secondInside.Wait(s_hold);
                }
            };

            Task<RawConnection> connecting = RawConnection.ConnectAsync(server.Port);
            Assert.True(acceptedFresh.Wait(s_bound), "The fresh connection was not accepted.");
            RawConnection fresh = await connecting;
            clients.Add(fresh);
            await fresh.SendMessageAsync(RpycProtocolVersion.V5, MessageKind.Request, 1, RawConnection.Request(HandlerId.Ping, "fresh"));
            freshSent.Set();
            // The silent ones speak now, through the pending connections' thread.
            await Task.WhenAll(clients.Take(Silent).Select((c, i) => c.SendMessageAsync(RpycProtocolVersion.V5, MessageKind.Request, 1, RawConnection.Request(HandlerId.Ping, $"silent {i}"))));

            bool[] served = await Task.WhenAll(clients.Select(IsServedAsync));
            output.WriteLine($"served: {string.Join(", ", served)}; {Volatile.Read(ref inside)} got past the check");
            // Every connection stays open until here: those answered were all served at once.
            Assert.Equal(Max, served.Count(s => s));
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }

        // The slot is given back when the served connection ends.
        Assert.True(await Eventually.TrueAsync(() => server.ActiveConnections == 0, s_bound), $"{server.ActiveConnections} connections still counted.");
        using RpycConnection next = TestServers.Connect(server);
        Assert.Equal("pong", next.RootNetref.CallMethod("ping"));
    }

    // Answered means served; refused connections are closed without an answer.
    private static async Task<bool> IsServedAsync(RawConnection client)
    {
        (Message Message, RpycProtocolVersion Version)? reply = await client.ReadMessageAsync(RpycProtocolVersion.V5, s_bound);
        return reply?.Message.Kind == MessageKind.Reply;
    }
}
