using System.Numerics;
using Rpyc.Channel;
using Rpyc.Transport;

namespace Rpyc.Tests;

public sealed class ConnectionPairTests
{
    public static TheoryData<RpycProtocolVersion> Versions => new() { RpycProtocolVersion.V5, RpycProtocolVersion.V6 };

    [Theory, MemberData(nameof(Versions))]
    public void CallMethod_ExposedMethod_ReturnsValue(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        dynamic root = pair.Client.Root;
        Assert.Equal("pong", (string)root.ping());
        int sum = root.add(1, 2);
        Assert.Equal(3, sum);
        Assert.Equal(11L, pair.Client.RootNetref.CallMethod("add", 1L));
        Assert.Equal("renamed", (string)root.custom_name());
        Assert.Equal("legacy", (string)root.legacy());
        Assert.Equal("legacy", (string)root.exposed_legacy());
        Assert.Equal(version, pair.Server.ProtocolVersion);
    }

    [Theory, MemberData(nameof(Versions))]
    public void CallMethod_NamedArguments_BecomeKwargs(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        dynamic root = pair.Client.Root;
        Assert.Equal(new PyTuple(1L, 2L, 9L), (PyTuple)root.kw(1, c: 9));
        Assert.Equal(10L, (long)root.sum(1, 2, 3, 4));
    }

    [Theory, MemberData(nameof(Versions))]
    public void CallMethod_WrongArguments_RaisesTypeError(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        var ex = Assert.Throws<RpycRemoteException>(() => pair.Client.RootNetref.CallMethod("add", "x", "y"));
        Assert.Equal("builtins.TypeError", ex.RemoteTypeName);
        Assert.Equal("pong", pair.Client.RootNetref.CallMethod("ping"));
    }

    [Theory, MemberData(nameof(Versions))]
    public void GetAttr_NotExposed_RaisesAttributeError(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        var ex = Assert.Throws<RpycRemoteException>(() => pair.Client.RootNetref.GetAttr("not_exposed"));
        Assert.Equal("builtins.AttributeError", ex.RemoteTypeName);
        Assert.Equal("cannot access 'not_exposed'", ex.RemoteArgs[0]);
        Assert.Throws<RpycRemoteException>(() => pair.Client.RootNetref.GetAttr("NotExposed"));
        Assert.Throws<RpycRemoteException>(() => pair.Client.RootNetref.GetAttr("_private"));
        var set = Assert.Throws<RpycRemoteException>(() => pair.Client.RootNetref.SetAttr("ping", 1L));
        Assert.Equal("access denied", set.RemoteArgs[0]);
    }

    [Theory, MemberData(nameof(Versions))]
    public void Echo_EveryBrineType_RoundTrips(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        Netref root = pair.Client.RootNetref;
        object?[] values =
        [
            null, true, 0L, -49L, long.MaxValue, BigInteger.Pow(2, 100), 1.5, "héllo 😀", new byte[] { 0, 255 },
            new PyTuple(1L, new PyTuple("a", null)), new PyFrozenSet(1L, 2L), new PySlice(1L, null, null), new Complex(1, 2),
            PyEllipsis.Instance,
        ];
        foreach (object? value in values)
        {
            Assert.True(PyValue.Equal(value, root.CallMethod("echo", value)), PyValue.Repr(value));
        }
        Assert.Equal(new PyTuple(1L, new PyTuple("a", 2.5)), root.CallMethod("echo", (1, ("a", 2.5))));
    }

    [Theory, MemberData(nameof(Versions))]
    public void Exception_FromService_ArrivesAsRemoteException(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        var ex = Assert.Throws<RpycRemoteException>(() => pair.Client.RootNetref.CallMethod("fail", "boom"));
        Assert.Equal("builtins.ValueError", ex.RemoteTypeName);
        Assert.Equal("boom", ex.RemoteArgs[0]);
        Assert.Contains("Fail", ex.RemoteTraceback, StringComparison.Ordinal);
        Assert.Equal("pong", pair.Client.RootNetref.CallMethod("ping"));
    }

    [Theory, MemberData(nameof(Versions))]
    public void RemoteList_Iteration_UsesIterAndNext(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        using var list = (Netref)pair.Client.RootNetref.CallMethod("get_list")!;
        Assert.Equal(3, list.Len());
        List<object?> items = [.. list];
        Assert.Equal(1L, items[0]);
        Assert.Equal("two", items[1]);
        Assert.Equal("two", list.GetItem(-2L));
        using var dict = (Netref)pair.Client.RootNetref.CallMethod("get_dict")!;
        Assert.Equal(1L, dict.GetItem("a"));
        var missing = Assert.Throws<RpycRemoteException>(() => dict.GetItem("zz"));
        Assert.Equal("builtins.KeyError", missing.RemoteTypeName);
    }

    [Theory, MemberData(nameof(Versions))]
    public void Callback_ServerCallsClientDelegate_NestedRequestServed(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        Func<long, long> times10 = x => x * 10;
        Assert.Equal(41L, pair.Client.RootNetref.CallMethod("call_back", times10, 4L));
        Assert.Equal(40L, pair.Client.RootNetref.CallMethod("call_dynamic", times10, 4L));
        // The server released the delegate's reference after the call (DEL is one-way).
        Assert.Equal(84L, pair.Client.RootNetref.CallMethod("slow_double", 42L));
    }

    [Theory, MemberData(nameof(Versions))]
    public void Netref_Dispose_ReleasesServerReference(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        Netref root = pair.Client.RootNetref;
        int baseline = pair.Server.LocalObjectCount;
        var a = (Netref)root.CallMethod("get_list")!;
        var b = (Netref)root.CallMethod("echo", a)!;
        Assert.Same(a, b);
        Assert.Equal(baseline + 1, pair.Server.LocalObjectCount);
        a.Dispose();
        // The DEL is one-way: the next round trip proves the server has read it.
        root.CallMethod("ping");
        Assert.Equal(baseline, pair.Server.LocalObjectCount);
        Assert.Throws<ObjectDisposedException>(() => a.Len());
    }

    [Theory, MemberData(nameof(Versions))]
    public void Concurrency_EightThreads_AllResultsCorrect(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        Netref root = pair.Client.RootNetref;
        var errors = new System.Collections.Concurrent.ConcurrentBag<string>();
        Parallel.For(0, 8, new ParallelOptions { MaxDegreeOfParallelism = 8 }, t =>
        {
            for (long i = 0; i < 200; i++)
            {
                if (root.CallMethod("add", t, i) is not long sum || sum != t + i)
                {
                    errors.Add($"{t}+{i}");
                }
            }
        });
        Assert.Empty(errors);
    }

    [Fact]
    public void UnknownHandler_RepliesKeyError_ConnectionStaysUsable()
    {
        using var pair = new ConnectionPair(new PairService(), RpycProtocolVersion.V5);
        var ex = Assert.Throws<RpycRemoteException>(() => pair.Client.SyncRequest((Protocol.HandlerId)99, PyTuple.Empty));
        Assert.Equal("builtins.KeyError", ex.RemoteTypeName);
        Assert.Equal("pong", pair.Client.RootNetref.CallMethod("ping"));
    }

    [Fact]
    public void MalformedFrame_ClosesConnection_PendingCallFails()
    {
        (MemoryTransport server, MemoryTransport client) = MemoryTransport.CreatePair();
        using var conn = new RpycConnection(client, new RpycConnectOptions { SyncRequestTimeout = TimeSpan.FromSeconds(10) }, null, RpycProtocolVersion.V5);
        var peer = new Thread(() =>
        {
            byte[] buffer = new byte[1024];
            server.Receive(buffer, TimeSpan.FromSeconds(10));
            // A 5.x envelope (TUP3) whose first item has the unknown tag 0x07.
            server.Send(FrameWriter.Encode([0x12, 0x07, 0x00, 0x00]));
        });
        peer.Start();
        var ex = Assert.ThrowsAny<RpycException>(() => conn.RootNetref);
        Assert.True(ex is RpycProtocolException or RpycConnectionClosedException, ex.ToString());
        Assert.Contains("brine tag 0x07", ex.Message + ex.InnerException?.Message, StringComparison.Ordinal);
        Assert.True(conn.IsClosed);
        peer.Join();
    }

    [Fact]
    public void PeerClose_FailsPendingCall_WithClosedException()
    {
        (MemoryTransport server, MemoryTransport client) = MemoryTransport.CreatePair();
        using var conn = new RpycConnection(client, new RpycConnectOptions { SyncRequestTimeout = TimeSpan.FromSeconds(10) }, null, RpycProtocolVersion.V5);
        var peer = new Thread(() =>
        {
            server.Receive(new byte[1024], TimeSpan.FromSeconds(10));
            server.Dispose();
        });
        peer.Start();
        Assert.Throws<RpycConnectionClosedException>(() => conn.RootNetref);
        peer.Join();
    }

    [Fact]
    public void SyncRequest_NoReply_TimesOut()
    {
        (MemoryTransport server, MemoryTransport client) = MemoryTransport.CreatePair();
        using var conn = new RpycConnection(client, new RpycConnectOptions { SyncRequestTimeout = TimeSpan.FromMilliseconds(200) }, null, RpycProtocolVersion.V5);
        Assert.Throws<RpycTimeoutException>(() => conn.Ping());
        Assert.False(conn.IsClosed);
        server.Dispose();
    }
}
