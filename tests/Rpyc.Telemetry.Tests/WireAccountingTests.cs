using Rpyc.Telemetry;

namespace Rpyc.Telemetry.Tests;

/// <summary>The telemetry against a .NET ThreadedServer, checked frame by frame through a proxy.</summary>
[Collection(DotnetServerCollection.Name)]
public sealed class WireAccountingTests(DotnetServerFixture server, ITestOutputHelper output) : IDisposable
{
    private readonly WireProxy _proxy = new(server.Port);
    private readonly RpycTelemetry _telemetry = new();
    private RpycConnection? _connection;

    private RpycConnection Connection => _connection ??= RpycProfiler.CreateProfiledConnection("127.0.0.1", _proxy.Port, _telemetry);

    public void Dispose()
    {
        _connection?.Dispose();
        _proxy.Dispose();
    }

    // A last round trip: every frame sent before it has been read by the peer, and every frame the
    // peer sent before its reply has been read here.
    private void Settle() => Connection.RootNetref.CallMethod("ping");

    [Fact]
    public void PlainCalls_RoundTripsAndBytes_EqualTheWire()
    {
        Netref root = Connection.RootNetref;
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal("pong", root.CallMethod("ping"));
        }
        Assert.Equal(5L, root.CallMethod("add", 2L, 3L));
        Assert.Equal(new string('x', 5000), root.CallMethod("echo", new string('x', 5000)));
        Settle();

        WireAssert.Matches(_proxy.Counts(), _telemetry.GetStatistics(), Connection, output);
        IReadOnlyList<CallRecord> records = _telemetry.Records;
        Assert.Equal(9, records.Count);
        Assert.Equal("getroot", records[0].Handler);
        Assert.All(records.Skip(1), r =>
        {
            Assert.Equal("callattr", r.Handler);
            Assert.True(r.IsRoundTrip);
            Assert.Equal(CallDirection.Outgoing, r.Direction);
            Assert.Equal(1, r.Depth);
            Assert.Equal(0, r.ParentId);
            Assert.True(r.IsCompleted);
            Assert.True(r.RequestBytes > 0 && r.ReplyBytes > 0);
            Assert.True(r.CompletedTimestamp >= r.SentTimestamp && r.SentTimestamp >= r.CreatedTimestamp);
            Assert.Null(r.Error);
        });
        Assert.Equal(["ping", "ping", "ping", "ping", "ping", "add", "echo", "ping"], records.Skip(1).Select(r => r.Name));
        Assert.True(records[7].RequestBytes > 5000 || records[7].ReplyBytes > 100);
        Assert.Equal(_telemetry.GetStatistics().BytesSent, records.Sum(r => r.RequestBytes));
    }

    [Fact]
    public void LoopOverRemoteList_OneRoundTripPerItem_EqualsTheWire()
    {
        Netref root = Connection.RootNetref;
        var items = new List<object?>();
        using (var list = (Netref)root.CallMethod("get_list")!)
        {
            foreach (object? item in list)
            {
                items.Add(item);
            }
        }
        Settle();

        Assert.Equal(5, items.Count);
        WireCounts wire = _proxy.Counts();
        WireAssert.Matches(wire, _telemetry.GetStatistics(), Connection, output);
        IReadOnlyList<CallRecord> records = _telemetry.Records;
        // 5 items, then the __next__ that raises StopIteration.
        Assert.Equal(6, records.Count(r => r.Name == "__next__"));
        Assert.Equal(1, records.Count(r => r.Name == "__iter__"));
        Assert.Single(records, r => r.Name == "__next__" && r.Error is not null && r.Error.Contains("StopIteration", StringComparison.Ordinal));
        // getroot, get_list, __iter__, 6 x __next__, ping; the iterator and the list are released one-way.
        Assert.Equal(10, _telemetry.GetStatistics().RoundTrips);
        Assert.Equal(2, records.Count(r => r.Handler == "del" && r.IsOneWay));
        long iterator = records.First(r => r.Name == "__next__").TargetNetrefId;
        Assert.NotEqual(0, iterator);
        Assert.All(records.Where(r => r.Name == "__next__"), r => Assert.Equal(iterator, r.TargetNetrefId));
        Assert.Contains(_telemetry.GetAdvice(), a => a.Kind == AdviceKind.RemoteSequenceLoop && a.Occurrences == 6);
        // The StopIteration that ends the loop is not an error.
        Assert.Equal(0, _telemetry.GetStatistics().Errors);
    }

    [Fact]
    public void Callback_ServerCallsClient_NestedAtDepthTwoUnderTheWaitingCall()
    {
        Netref root = Connection.RootNetref;
        Func<long, long> times10 = x => x * 10;
        Assert.Equal(41L, root.CallMethod("call_back", times10, 4L));
        Settle();

        WireAssert.Matches(_proxy.Counts(), _telemetry.GetStatistics(), Connection, output);
        IReadOnlyList<CallRecord> records = _telemetry.Records;
        CallRecord waiting = records.Single(r => r.Name == "call_back");
        CallRecord callback = records.Single(r => r.Handler == "call" && r.Direction == CallDirection.Incoming);
        Assert.Equal(1, waiting.Depth);
        Assert.Equal(2, callback.Depth);
        Assert.Equal(waiting.Id, callback.ParentId);
        Assert.Equal(waiting.ThreadId, callback.ThreadId);
        Assert.True(callback.RequestBytes > 0 && callback.ReplyBytes > 0);
        Assert.True(callback.CreatedTimestamp > waiting.SentTimestamp && callback.CompletedTimestamp <= waiting.CompletedTimestamp);
        TelemetryStatistics stats = _telemetry.GetStatistics();
        Assert.Equal(2, stats.MaxStackDepth);
        Assert.Equal(1, stats.ObjectsExported);
    }

    [Fact]
    public void CallbackCallingBack_ThreeLevels_EachNestedUnderTheOneWaiting()
    {
        Netref root = Connection.RootNetref;
        Func<long, long> viaServer = x => (long)root.CallMethod("add", x, 100L)!;
        Assert.Equal(105L, root.CallMethod("call_and_release", viaServer, 4L));
        Settle();

        WireAssert.Matches(_proxy.Counts(), _telemetry.GetStatistics(), Connection, output);
        IReadOnlyList<CallRecord> records = _telemetry.Records;
        CallRecord outer = records.Single(r => r.Name == "call_and_release");
        CallRecord callback = records.Single(r => r.Handler == "call" && r.Direction == CallDirection.Incoming);
        CallRecord inner = records.Single(r => r.Name == "add");
        CallRecord release = records.Single(r => r.Handler == "del" && r.Direction == CallDirection.Incoming);
        Assert.Equal((1, 2, 3, 2), (outer.Depth, callback.Depth, inner.Depth, release.Depth));
        Assert.Equal(outer.Id, callback.ParentId);
        Assert.Equal(callback.Id, inner.ParentId);
        Assert.Equal(outer.Id, release.ParentId);
        TelemetryStatistics stats = _telemetry.GetStatistics();
        Assert.Equal(3, stats.MaxStackDepth);
        Assert.Equal(1, stats.ObjectsExported);
        Assert.Equal(1, stats.ObjectsReleased);
    }

    [Fact]
    public void Exception_RemoteError_RecordedWithItsReplyBytes()
    {
        Netref root = Connection.RootNetref;
        Assert.Throws<RpycRemoteException>(() => root.CallMethod("fail", "boom"));
        Settle();

        WireAssert.Matches(_proxy.Counts(), _telemetry.GetStatistics(), Connection, output);
        CallRecord failed = _telemetry.Records.Single(r => r.Name == "fail");
        Assert.NotNull(failed.Error);
        Assert.Contains("boom", failed.Error, StringComparison.Ordinal);
        Assert.True(failed.ReplyBytes > 0);
        Assert.True(failed.IsCompleted);
        Assert.Equal(1, _telemetry.GetStatistics().Errors);
        Assert.Equal(0, _telemetry.GetStatistics().CurrentStackDepth);
    }

    [Fact]
    public void Netrefs_CreatedAccessedReleased_CountedOnBothSides()
    {
        Netref root = Connection.RootNetref;
        var list = (Netref)root.CallMethod("get_list")!;
        var node = (Netref)root.CallMethod("get_node")!;
        Assert.Equal(5L, list.Len());
        Assert.Equal("node 3", node.CallMethod("describe"));
        Assert.Equal(3L, node.GetAttr("value"));
        list.Dispose();
        node.Dispose();
        Func<long, long> plus = x => x + 1;
        Assert.Equal(6L, root.CallMethod("call_and_release", plus, 4L));
        Settle();

        WireAssert.Matches(_proxy.Counts(), _telemetry.GetStatistics(), Connection, output);
        TelemetryStatistics stats = _telemetry.GetStatistics();
        Assert.Equal(3, stats.NetrefsCreated);
        Assert.Equal(2, stats.NetrefsReleased);
        Assert.Equal(1, stats.ActiveNetrefs);
        Assert.Equal(1, stats.ObjectsExported);
        Assert.Equal(1, stats.ObjectsReleased);
        Assert.Equal(2, stats.OneWayMessages);

        IReadOnlyList<NetrefInfo> netrefs = _telemetry.Netrefs;
        NetrefInfo rootInfo = netrefs.Single(n => n.IsRoot);
        Assert.True(rootInfo.IsAlive);
        // get_list, get_node, call_and_release and the settling ping.
        Assert.Equal(4, rootInfo.Accesses);
        NetrefInfo nodeInfo = netrefs.Single(n => n.Side == NetrefSide.Proxy && n.TypeName.EndsWith("Node", StringComparison.Ordinal));
        Assert.False(nodeInfo.IsAlive);
        Assert.Equal((2, 1, 1), (nodeInfo.Accesses, nodeInfo.MethodCalls, nodeInfo.AttributeAccesses));
        NetrefInfo export = netrefs.Single(n => n.Side == NetrefSide.Exported);
        Assert.False(export.IsAlive);
        Assert.Equal([rootInfo.Id], _telemetry.ActiveNetrefs.Select(n => n.Id));
        Assert.DoesNotContain(_telemetry.GetAdvice(), a => a.Kind == AdviceKind.UnreleasedNetrefs);
    }

    [Fact]
    public void EightThreads_CallingAtOnce_EveryCallCountedOnItsThread()
    {
        Netref root = Connection.RootNetref;
        const int Threads = 8;
        const int Calls = 100;
        using var start = new Barrier(Threads);
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        Thread[] threads = [.. Enumerable.Range(0, Threads).Select(t => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                for (long i = 0; i < Calls; i++)
                {
                    Assert.Equal(t + i, root.CallMethod("add", (long)t, i));
                }
            }
            catch (Exception ex)
            {
                errors.Enqueue(ex);
            }
        }))];
        foreach (Thread thread in threads)
        {
            thread.Start();
        }
        foreach (Thread thread in threads)
        {
            Assert.True(thread.Join(TimeSpan.FromSeconds(60)));
        }
        Assert.Empty(errors);
        Settle();

        WireAssert.Matches(_proxy.Counts(), _telemetry.GetStatistics(), Connection, output);
        List<CallRecord> adds = [.. _telemetry.Records.Where(r => r.Name == "add")];
        Assert.Equal(Threads * Calls, adds.Count);
        Assert.All(adds, r => Assert.Equal((1, 0L, true), (r.Depth, r.ParentId, r.IsCompleted)));
        Assert.Equal(Threads, adds.Select(r => r.ThreadId).Distinct().Count());
        Assert.All(adds.GroupBy(r => r.ThreadId), g => Assert.Equal(Calls, g.Count()));
        Assert.Equal(Threads * Calls + 2, _telemetry.GetStatistics().RoundTrips);
        Assert.Equal(1, _telemetry.GetStatistics().MaxStackDepth);
    }
}
