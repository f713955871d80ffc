namespace Rpyc.Telemetry.Tests;

internal static class WireAssert
{
    /// <summary>
    /// The telemetry's round trips, one-way messages, incoming requests and bytes equal what the
    /// proxy saw cross the wire, and so do the connection's own counters. Replies to one-way
    /// messages (the peer answers DEL) reach the telemetry only when the connection reports
    /// unmatched replies; they are accounted separately.
    /// </summary>
    public static void Matches(WireCounts wire, TelemetryStatistics stats, RpycConnection connection, ITestOutputHelper output)
    {
        output.WriteLine($"wire: {wire}");
        output.WriteLine($"telemetry: {stats.RoundTrips} round trips, {stats.OneWayMessages} one-way, {stats.IncomingRequests} incoming, " +
            $"sent {stats.BytesSent} B, received {stats.BytesReceived} B ({stats.UnmatchedReplies} unmatched replies, {stats.UnmatchedReplyBytes} B)");
        Assert.Equal(wire.RoundTrips, stats.RoundTrips);
        Assert.Equal(wire.OneWayMessages, stats.OneWayMessages);
        Assert.Equal(wire.IncomingRequests, stats.IncomingRequests);
        Assert.Equal(wire.BytesSent, stats.BytesSent);
        Assert.Equal(wire.BytesReceived - wire.RepliesToOneWayBytes, stats.BytesReceived - stats.UnmatchedReplyBytes);
        Assert.True(stats.UnmatchedReplies == 0 || stats.UnmatchedReplies == wire.RepliesToOneWay,
            $"{stats.UnmatchedReplies} unmatched replies reported, {wire.RepliesToOneWay} replies to one-way messages on the wire");
        Assert.Equal(wire.RoundTrips + wire.OneWayMessages + wire.IncomingRequests, stats.TotalCalls);

        RpycConnectionCounters counters = connection.Counters;
        Assert.Equal(wire.RoundTrips, counters.SyncRequests);
        Assert.Equal(wire.OneWayMessages, counters.OneWayRequests);
        Assert.Equal(wire.IncomingRequests, counters.IncomingRequests);
        Assert.Equal(wire.FramesSent, counters.FramesSent);
        Assert.Equal(wire.FramesReceived, counters.FramesReceived);
        Assert.Equal(wire.BytesSent, counters.BytesSent);
        Assert.Equal(wire.BytesReceived, counters.BytesReceived);
    }
}
