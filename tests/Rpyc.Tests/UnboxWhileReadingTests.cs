using System.Buffers;
using Rpyc.Netrefs;
using Rpyc.Protocol;

namespace Rpyc.Tests;

/// <summary>
/// A server unboxes plain requests while it reads them (RpycConnection.TryReadUnboxed) and leaves
/// everything else to the general path: both must give the same answers, the same errors and the
/// same limits.
/// </summary>
public class UnboxWhileReadingTests
{
    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void CallOnAnObjectTheServerDoesNotHave_AnsweredWithAnErrorAndTheConnectionServesOn(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        Netref root = pair.Client.RootNetref;
        IdPack real = root.IdPack;
        var wrongName = new Netref(pair.Client, real with { NamePack = "builtins.other" });
        var wrongInstance = new Netref(pair.Client, real with { InstanceId = real.InstanceId + 1000 });

        Assert.Throws<RpycRemoteException>(() => wrongName.CallMethod("ping"));
        Assert.Throws<RpycRemoteException>(() => wrongInstance.CallMethod("ping"));
        Assert.Equal("pong", root.CallMethod("ping"));
        GC.SuppressFinalize(wrongName);
        GC.SuppressFinalize(wrongInstance);
    }

    // The server keeps the last local object a request named with its id pack's bytes
    // (RpycConnection.TryReadLocalRef): calls that alternate objects must each reach their own.
    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void CallsAlternatingBetweenObjects_EachReachesItsOwn(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        Netref root = pair.Client.RootNetref;
        using var list = (Netref)root.CallMethod("get_list")!;
        using var dict = (Netref)root.CallMethod("get_dict")!;

        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(3, list.Len());
            Assert.Equal(3, list.Len());
            Assert.Equal(1, dict.Len());
            Assert.Equal("pong", root.CallMethod("ping"));
            Assert.Equal("two", list.GetItem(1L));
        }
    }

    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void ObjectReleasedAfterCalls_NamedAgain_AnsweredWithAnError(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        Netref root = pair.Client.RootNetref;
        var list = (Netref)root.CallMethod("get_list")!;
        IdPack id = list.IdPack;
        Assert.Equal(3, list.Len());
        Assert.Equal(3, list.Len());

        list.Dispose();
        // The same id pack, named right after its release: the object is gone from the table.
        var stale = new Netref(pair.Client, id);
        var error = Assert.Throws<RpycRemoteException>(() => stale.Len());
        GC.SuppressFinalize(stale);

        Assert.Equal("builtins.KeyError", error.RemoteTypeName);
        Assert.Equal("pong", root.CallMethod("ping"));
    }

    // A message whose bytes after the seq repeat the last one's is not decoded again
    // (RpycConnection.TryRepeatLast): the values it gives back must be ones later calls can share.
    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void RepeatedCalls_SameAnswersAndDifferentArgumentsReadAfresh(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        Netref root = pair.Client.RootNetref;
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(5L, root.CallMethod("add", 2L, 3L));
        }
        Assert.Equal(6L, root.CallMethod("add", 2L, 4L));
        Assert.Equal(5L, root.CallMethod("add", 2L, 3L));
        Assert.Equal(new PyTuple(1L, "x", PyTuple.Empty), root.CallMethod("echo", new PyTuple(1L, "x", PyTuple.Empty)));
        Assert.Equal(new PyTuple(1L, "x", PyTuple.Empty), root.CallMethod("echo", new PyTuple(1L, "x", PyTuple.Empty)));
        Assert.Equal(new PyTuple(1L, "y", PyTuple.Empty), root.CallMethod("echo", new PyTuple(1L, "y", PyTuple.Empty)));
    }

    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void RepeatedCallWithBytes_TheServiceWritingIntoItsArgument_NextCallGetsTheBytesSent(RpycProtocolVersion version)
    {
        var service = new ScribblingService();
        using var pair = new ConnectionPair(service, version);
        Netref root = pair.Client.RootNetref;
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(new byte[] { 1, 2, 3 }, root.CallMethod("scribble", new byte[] { 1, 2, 3 }));
        }
        Assert.Equal(3, service.Calls);
    }

    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void RepeatedReplyWithBytes_TheCallerWritingIntoIt_NextReplyIsItsOwnArray(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        Netref root = pair.Client.RootNetref;
        var first = (byte[])root.CallMethod("echo", new byte[] { 7, 8 })!;
        first[0] = 0xFF;
        var second = (byte[])root.CallMethod("echo", new byte[] { 7, 8 })!;
        Assert.NotSame(first, second);
        Assert.Equal(new byte[] { 7, 8 }, second);
    }

    private sealed class ScribblingService : RpycService
    {
        public int Calls { get; private set; }

        // Answers what it was sent, then overwrites its argument, as a service may with a buffer it owns.
        [Exposed]
        public byte[] Scribble(byte[] data)
        {
            Calls++;
            byte[] received = (byte[])data.Clone();
            data.AsSpan().Fill(0xFF);
            return received;
        }
    }

    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void NestedArgsWithTheServersOwnObject_ServedUpToTheSameDepthAsTheGeneralPathReads(RpycProtocolVersion version)
    {
        const int MaxDepth = 16;
        var limits = new RpycConnectOptions { MaxBrineDepth = MaxDepth };
        int servedDeepest = -1;
        int readDeepest = -1;
        for (int levels = 0; levels <= MaxDepth; levels++)
        {
            using var pair = new ConnectionPair(new PairService(), version, limits);
            Netref root = pair.Client.RootNetref;
            // The server's own root at the bottom makes every level a LABEL_TUPLE box.
            object nested = Nest(root, levels);
            bool served;
            try
            {
                served = ValueAssert.AreIdentical(nested, root.CallMethod("echo", nested));
            }
            catch (RpycConnectionException)
            {
                served = false;
            }
            if (served)
            {
                servedDeepest = levels;
            }
            if (GeneralPathReads(version, root.IdPack, levels, limits))
            {
                readDeepest = levels;
            }
        }
        Assert.InRange(readDeepest, 1, MaxDepth - 1);
        Assert.Equal(readDeepest, servedDeepest);
    }

    private static object Nest(object bottom, int levels)
    {
        object value = bottom;
        for (int i = 0; i < levels; i++)
        {
            value = new PyTuple(value);
        }
        return value;
    }

    // The request as protocol.py boxes it, read by Envelope (the general path) within the server's limits.
    private static bool GeneralPathReads(RpycProtocolVersion version, IdPack root, int levels, RpycConnectOptions limits)
    {
        var rootRef = new PyTuple(BoxLabel.LocalRef, root.ToTuple());
        object boxed = rootRef;
        for (int i = 0; i < levels; i++)
        {
            boxed = new PyTuple(BoxLabel.Tuple, new PyTuple(boxed));
        }
        var args = new PyTuple((long)HandlerId.CallAttr, new PyTuple(BoxLabel.Tuple, new PyTuple(
            rootRef,
            new PyTuple(BoxLabel.Value, "echo"),
            new PyTuple(BoxLabel.Tuple, new PyTuple(boxed)),
            new PyTuple(BoxLabel.Value, PyTuple.Empty))));
        var output = new ArrayBufferWriter<byte>();
        Envelope.Write(output, version, MessageKind.Request, 7, args);
        try
        {
            Envelope.Read(new ReadOnlySequence<byte>(output.WrittenMemory), version, limits.BrineLimits);
            return true;
        }
        catch (RpycProtocolException)
        {
            return false;
        }
    }
}
