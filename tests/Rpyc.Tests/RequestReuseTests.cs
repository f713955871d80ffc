namespace Rpyc.Tests;

/// <summary>
/// A connection reuses a finished request's bookkeeping for its next request, and a proxy the
/// args of its last call without arguments: a ping's client allocates nothing. Reuse must never
/// hand one request another's reply, whatever came before it: a timeout and its late reply, an
/// exception, calls of other names, several threads at once.
/// </summary>
public sealed class RequestReuseTests
{
    private sealed class NapService : RpycService
    {
        [Exposed] public string Ping() => "pong";

        [Exposed] public string Name() => "nap service";

        [Exposed] public string Nap(double seconds)
        {
            Thread.Sleep(TimeSpan.FromSeconds(seconds));
            return "rested";
        }

        [Exposed] public void Fail() => throw new InvalidOperationException("failed on purpose");
    }

    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void AfterATimeoutTheLateReplyIsDroppedAndTheNextCallGetsItsOwn(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new NapService(), version, clientTimeout: TimeSpan.FromSeconds(1));
        Netref root = pair.Client.RootNetref;
        Assert.Equal("pong", root.CallMethod("ping"));
        // The server, one thread, answers the nap 0.5 s after the client gave up, then the ping.
        Assert.Throws<RpycTimeoutException>(() => root.CallMethod("nap", 1.5));
        Assert.Equal("pong", root.CallMethod("ping"));
        Assert.Equal("nap service", root.CallMethod("name"));
        Assert.Equal("pong", root.CallMethod("ping"));
    }

    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void AfterAnExceptionTheNextCallsGetTheirOwnReplies(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new NapService(), version);
        Netref root = pair.Client.RootNetref;
        for (int i = 0; i < 50; i++)
        {
            Assert.Equal("pong", root.CallMethod("ping"));
            RpycRemoteException error = Assert.Throws<RpycRemoteException>(() => root.CallMethod("fail"));
            Assert.Contains("failed on purpose", error.Message, StringComparison.Ordinal);
            Assert.Equal("nap service", root.CallMethod("name"));
        }
    }

    [Fact]
    public void CallsWithoutArgumentsOfSeveralNamesFromSeveralThreadsEachGetTheirOwnResult()
    {
        using var pair = new ConnectionPair(new NapService(), RpycProtocolVersion.V5);
        Netref root = pair.Client.RootNetref;
        var wrong = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, t =>
        {
            for (int i = 0; i < 500; i++)
            {
                // Each thread alternates names, so the proxy's one-slot args memo keeps changing.
                bool ping = (i + t) % 2 == 0;
                object? got = root.CallMethod(ping ? "ping" : "name");
                if (!Equals(got, ping ? "pong" : "nap service"))
                {
                    wrong.Add($"thread {t} call {i}: {(ping ? "ping" : "name")} returned {got}");
                }
            }
        });
        Assert.Empty(wrong);
    }

    [Fact]
    public void APingOverTcpAllocatesNothingOnTheCallingThread()
    {
        // Real sockets: the in-memory transport copies every frame it carries.
        using var server = new ThreadedServer(() => new NapService(), new RpycServerOptions { Host = "127.0.0.1", Port = 0 });
        server.Start();
        using RpycConnection client = RpycConnection.Connect("127.0.0.1", server.Port);
        Netref root = client.RootNetref;
        for (int i = 0; i < 1000; i++)
        {
            Assert.Equal("pong", root.CallMethod("ping"));
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            root.CallMethod("ping");
        }
        long total = GC.GetAllocatedBytesForCurrentThread() - before;
        // 136 bytes a call before (a PendingReply and the args tuple); the reply "pong" is a
        // string the reader keeps, the frames go through the connection's pooled buffers.
        Assert.True(total < 1000, $"1,000 pings allocated {total} bytes on the calling thread");
    }
}
