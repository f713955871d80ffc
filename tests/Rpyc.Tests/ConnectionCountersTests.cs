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
        Assert.Equal(calls, client.FramesSent - framesBefore);
        Assert.Equal(0, client.OneWayRequests);
        // Every reply was read by the call that waited for it: the server's side of the ledger
        // is complete once the last call has returned.
        Assert.Equal(client.SyncRequests, server.IncomingRequests);
        Assert.Equal(client.FramesSent, server.FramesReceived);
        Assert.Equal(client.BytesSent, server.BytesReceived);
        Assert.Equal(server.FramesSent, client.FramesReceived);
        Assert.Equal(server.BytesSent, client.BytesReceived);
        Assert.Equal(0, client.IncomingRequests);
    }
}
