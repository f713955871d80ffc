using System.Net.Sockets;
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

            MessageKind?[] answers = await Task.WhenAll(clients.Select(FirstAnswerAsync));
            output.WriteLine($"answers: {string.Join(", ", answers)}; {Volatile.Read(ref inside)} got past the check");
            // Every connection stays open until here: those answered with a reply were all served at once.
            Assert.Equal(Max, answers.Count(a => a == MessageKind.Reply));
            // The others were told why (RefusedAtMaxConnections_TheFirstRequestGetsTheReason), then closed.
            Assert.All(answers, a => Assert.True(a is MessageKind.Reply or MessageKind.Exception, $"answered {a}"));
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

    [Theory]
    [InlineData(ServerKind.Threaded, RpycProtocolVersion.V5)]
    [InlineData(ServerKind.Threaded, RpycProtocolVersion.V6)]
    [InlineData(ServerKind.Forking, RpycProtocolVersion.V5)]
    public async Task RefusedAtMaxConnections_TheFirstRequestGetsTheReason_ThenAGracefulClose(ServerKind kind, RpycProtocolVersion version)
    {
        using var log = new LogCapture(output);
        using RpycServer server = TestServers.Start<InteropService>(kind, new RpycServerOptions { Host = "127.0.0.1", Port = 0, MaxConnections = 1 });
        using RpycConnection first = TestServers.Connect(server);
        Assert.Equal("pong", first.RootNetref.CallMethod("ping"));

        using RawConnection refused = await RawConnection.ConnectAsync(server.Port);
        await refused.SendMessageAsync(version, MessageKind.Request, 41, RawConnection.Request(HandlerId.Ping, "over the limit"));
        (Message Message, RpycProtocolVersion Version)? answer = await refused.ReadMessageAsync(version, s_bound);
        Assert.NotNull(answer);
        Assert.Equal(MessageKind.Exception, answer.Value.Message.Kind);
        Assert.Equal(41, answer.Value.Message.Seq);
        Assert.Equal("builtins.ConnectionRefusedError", Boxes.ExceptionType(answer.Value.Message.Args));
        Assert.Contains("connection limit: MaxConnections (1)", (string)Boxes.ExceptionArgs(answer.Value.Message.Args)[0]!, StringComparison.Ordinal);
        // A FIN after the answer, no reset: the request was read.
        Assert.Null(await refused.ReadMessageAsync(version, s_bound));
        Assert.False(refused.SawReset, "The server reset the refused connection.");
        await log.WaitForAsync(l => l.Contains($"port {server.Port}: refused a connection: MaxConnections (1) are being served", StringComparison.Ordinal), s_bound, "about the refusal");

        // The served one is untouched.
        Assert.Equal("pong", first.RootNetref.CallMethod("ping"));
    }

    // A refused client that keeps its end open holds its refusal (which reads until the client
    // closes) for up to 2 s; a stopping server ends it, closing that socket, before Stop returns.
    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public async Task Stop_EndsTheRefusalsInProgress_AndClosesTheirSockets(ServerKind kind)
    {
        using var log = new LogCapture(output);
        RpycServer server = TestServers.Start<InteropService>(kind, new RpycServerOptions { Host = "127.0.0.1", Port = 0, MaxConnections = 1 });
        RawConnection? refused = null;
        try
        {
            using RpycConnection first = TestServers.Connect(server);
            Assert.Equal("pong", first.RootNetref.CallMethod("ping"));
            refused = await RawConnection.ConnectAsync(server.Port);
            await refused.SendMessageAsync(RpycProtocolVersion.V5, MessageKind.Request, 1, RawConnection.Request(HandlerId.Ping, "over the limit"));
            Assert.Equal(MessageKind.Exception, (await refused.ReadMessageAsync(RpycProtocolVersion.V5, s_bound))?.Message.Kind);
            Assert.Null(await refused.ReadMessageAsync(RpycProtocolVersion.V5, s_bound));
            Assert.Equal(1, server.RefusalsInProgress);
        }
        finally
        {
            server.Dispose();
        }
        Assert.Equal(0, server.RefusalsInProgress);
        // The server's end is closed: what the client sends now is answered with a reset, and a
        // send after that fails. Before, the refusal read on for up to 2 s after Stop (from when
        // it began, a few milliseconds before Stop).
        long deadline = Environment.TickCount64 + 500;
        SocketException? failed = null;
        while (failed is null && Environment.TickCount64 < deadline)
        {
            try
            {
                await refused.SendAsync(new byte[] { 0 });
                await Task.Delay(20);
            }
            catch (SocketException ex)
            {
                failed = ex;
            }
        }
        refused.Dispose();
        Assert.True(failed is not null, "The refused connection was still open 0.5 s after Stop.");
        output.WriteLine($"send after Stop: {failed.SocketErrorCode}");
    }

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public async Task PythonClientRefusedAtMaxConnections_RaisesConnectionRefusedErrorWithTheReason(ServerKind kind)
    {
        using RpycServer server = TestServers.Start<InteropService>(kind, new RpycServerOptions { Host = "127.0.0.1", Port = 0, MaxConnections = 1 });
        using RpycConnection first = TestServers.Connect(server);
        Assert.Equal("pong", first.RootNetref.CallMethod("ping"));

        PythonClient.Result result = await PythonClient.RunAsync("client_refused.py", server.Port, output, s_bound, "1");
        Assert.True(result.ExitCode == 0, $"client_refused.py failed (exit code {result.ExitCode}):\n{result.Stderr}\n{result.Stdout}");
        Assert.Contains("connection limit: MaxConnections (1)", result.Json.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("pong", first.RootNetref.CallMethod("ping"));
    }

    private static async Task<MessageKind?> FirstAnswerAsync(RawConnection client)
    {
        (Message Message, RpycProtocolVersion Version)? answer = await client.ReadMessageAsync(RpycProtocolVersion.V5, s_bound);
        return answer?.Message.Kind;
    }
}
