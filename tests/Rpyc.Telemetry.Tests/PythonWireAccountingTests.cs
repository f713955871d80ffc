using Rpyc.Telemetry;

namespace Rpyc.Telemetry.Tests;

/// <summary>The telemetry against a stock Python rpyc server (demo_server.py), checked through a proxy.</summary>
[Collection(PythonServerCollection.Name)]
public sealed class PythonWireAccountingTests(PythonServerFixture server, ITestOutputHelper output) : IDisposable
{
    private readonly WireProxy _proxy = new(server.Port);
    private readonly RpycTelemetry _telemetry = new();
    private RpycConnection? _connection;

    private RpycConnection Connection => _connection ??= RpycProfiler.CreateProfiledConnection("127.0.0.1", _proxy.Port, _telemetry, server.Options);

    public void Dispose()
    {
        _connection?.Dispose();
        _proxy.Dispose();
    }

    // gc.collect() on the server sends the DELs of its dead proxies before the reply: nothing is
    // left in flight when the counts are compared.
    private void Settle() => Assert.Equal(true, Connection.RootNetref.CallMethod("collect"));

    [Fact]
    public void PlainCallsAndException_EqualTheWire()
    {
        Netref root = Connection.RootNetref;
        Assert.Equal("pong", root.CallMethod("ping"));
        Assert.Equal(7L, root.CallMethod("add", 3L, 4L));
        Assert.Equal(2000, ((byte[])root.CallMethod("download", 2000L)!).Length);
        var error = Assert.Throws<RpycRemoteException>(() => root.CallMethod("fail", "boom"));
        Assert.Equal("builtins.ValueError", error.RemoteTypeName);
        Settle();

        WireAssert.Matches(_proxy.Counts(), _telemetry.GetStatistics(), Connection, output);
        CallRecord failed = _telemetry.Records.Single(r => r.Name == "fail");
        Assert.Equal("builtins.ValueError: boom", failed.Error);
        Assert.True(failed.ReplyBytes > 0);
        Assert.Equal(1, _telemetry.GetStatistics().Errors);
    }

    [Fact]
    public void LoopOverGetList_OneRoundTripPerItem_EqualsTheWire()
    {
        Netref root = Connection.RootNetref;
        var items = new List<object?>();
        using (var list = (Netref)root.CallMethod("get_list")!)
        {
            Assert.Equal("builtins.list", list.RemoteTypeName);
            foreach (object? item in list)
            {
                items.Add(item);
            }
        }
        Settle();

        Assert.Equal(3, items.Count);
        WireAssert.Matches(_proxy.Counts(), _telemetry.GetStatistics(), Connection, output);
        IReadOnlyList<CallRecord> records = _telemetry.Records;
        Assert.Equal(4, records.Count(r => r.Name == "__next__" && r.Target == "builtins.list_iterator"));
        Assert.Single(records, r => r.Name == "__next__" && r.Error == "builtins.StopIteration");
        // getroot, get_list, __iter__, 4 x __next__, collect.
        Assert.Equal(8, _telemetry.GetStatistics().RoundTrips);
        Assert.Equal(2, _telemetry.GetStatistics().OneWayMessages);
        Advice loop = Assert.Single(_telemetry.GetAdvice(), a => a.Kind == AdviceKind.RemoteSequenceLoop);
        Assert.Equal(4, loop.Occurrences);
        Assert.Contains("builtins.list_iterator", loop.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Callback_PythonCallsDotnetFunction_NestedAtDepthTwo()
    {
        Netref root = Connection.RootNetref;
        Func<long, long> times3 = x => x * 3;
        Assert.Equal(21L, root.CallMethod("call_me", times3, 7L));
        Settle();

        WireCounts wire = _proxy.Counts();
        WireAssert.Matches(wire, _telemetry.GetStatistics(), Connection, output);
        IReadOnlyList<CallRecord> records = _telemetry.Records;
        CallRecord waiting = records.Single(r => r.Name == "call_me");
        CallRecord callback = records.Single(r => r.Handler == "call" && r.Direction == CallDirection.Incoming);
        Assert.Equal(2, callback.Depth);
        Assert.Equal(waiting.Id, callback.ParentId);
        // Python inspects a proxy of a non-builtin type before using it: also nested under the call.
        Assert.All(records.Where(r => r.Handler == "inspect"), r => Assert.Equal(waiting.Id, r.ParentId));
        // Python released its proxy for the function (gc): the export is gone on both sides.
        TelemetryStatistics stats = _telemetry.GetStatistics();
        Assert.Equal(1, stats.ObjectsExported);
        Assert.Equal(1, stats.ObjectsReleased);
        Assert.Equal(2, stats.MaxStackDepth);
    }

    [Fact]
    public void Netrefs_CustomObjectCreatedAndReleased_ServerTableEmptyAgain()
    {
        Netref root = Connection.RootNetref;
        long before = (long)root.CallMethod("local_object_count")!;
        var thing = (Netref)root.CallMethod("get_object", "a")!;
        Assert.Equal("a:4", thing.CallMethod("method", 2L));
        Assert.Equal("a", thing.CallMethod("get_name"));
        Assert.Equal(before + 1, root.CallMethod("local_object_count"));
        thing.Dispose();
        Assert.Equal(before, root.CallMethod("local_object_count"));
        Settle();

        WireAssert.Matches(_proxy.Counts(), _telemetry.GetStatistics(), Connection, output);
        TelemetryStatistics stats = _telemetry.GetStatistics();
        Assert.Equal(2, stats.NetrefsCreated);
        Assert.Equal(1, stats.NetrefsReleased);
        NetrefInfo info = _telemetry.Netrefs.Single(n => n.TypeName == "__main__.Thing");
        Assert.Equal((2L, 2L, false), (info.Accesses, info.MethodCalls, info.IsAlive));
        Assert.Equal("del", _telemetry.Records.Single(r => r.IsOneWay).Handler);
    }
}
