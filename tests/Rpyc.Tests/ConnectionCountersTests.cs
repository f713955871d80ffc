namespace Rpyc.Tests;

/// <summary>
/// The traffic counters are plain increments made by one writer at a time (the send lock's holder,
/// the reader role's holder), not interlocked ones: calls from several threads at once must still
/// count every request and frame exactly, on both ends.
/// </summary>
public sealed class ConnectionCountersTests
{
    private const int Threads = 4;
    private const int CallsPerThread = 1000;

    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void CallsFromSeveralThreadsAreEachCountedOnceOnBothEnds(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        Netref root = pair.Client.RootNetref;
        RpycConnectionCounters client = pair.Client.Counters;
        RpycConnectionCounters server = pair.Server.Counters;
        long syncBefore = client.SyncRequests;
        long oneWayBefore = client.OneWayRequests;
        long framesBefore = client.FramesSent;

        Parallel.For(0, Threads, new ParallelOptions { MaxDegreeOfParallelism = Threads }, t =>
        {
            for (long i = 0; i < CallsPerThread; i++)
            {
                Assert.Equal(t + i, root.CallMethod("add", t, i));
            }
        });

        const long calls = Threads * CallsPerThread;
        Assert.Equal(calls, client.SyncRequests - syncBefore);
        // A proxy collected meanwhile (by a GC that other tests' garbage brings) is released with
        // the next request, in a DEL frame of its own: a one-way request.
        Assert.Equal(calls + (client.OneWayRequests - oneWayBefore), client.FramesSent - framesBefore);
        // Every frame went before the last call's request: the server has read them all.
        Assert.Equal(client.SyncRequests + client.OneWayRequests, server.IncomingRequests);
        Assert.Equal(client.FramesSent, server.FramesReceived);
        Assert.Equal(client.BytesSent, server.BytesReceived);
        // A frame is counted sent once its send has returned, which may be after the peer has
        // read it: the server's count of the last reply may lag the client's return by a moment.
        var bound = System.Diagnostics.Stopwatch.StartNew();
        while (server.FramesSent != client.FramesReceived && bound.Elapsed < TimeSpan.FromSeconds(5))
        {
            Thread.Sleep(1);
        }
        Assert.Equal(server.FramesSent, client.FramesReceived);
        Assert.Equal(server.BytesSent, client.BytesReceived);
        Assert.Equal(0, client.IncomingRequests);
    }
}
