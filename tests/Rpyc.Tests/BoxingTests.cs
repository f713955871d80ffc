using System.Buffers;
using Rpyc.Channel;
using Rpyc.Protocol;

namespace Rpyc.Tests;

/// <summary>
/// Requests and replies are boxed while they are written; the bytes must be exactly the brine of
/// protocol.py's boxed tuples, and the envelope read by hand must give what the general path gives.
/// </summary>
public class BoxingTests
{
    /// <summary>Records every frame sent and answers GETROOT with a remote reference, anything else with None.</summary>
    private sealed class RecordingTransport(RpycProtocolVersion version) : Transport.Transport
    {
        private ReadOnlyMemory<byte> _pending;

        public List<byte[]> Sent { get; } = [];

        public override string PeerName => "recording";

        public override int Receive(Span<byte> buffer, TimeSpan timeout)
        {
            if (_pending.IsEmpty)
            {
                return -1;
            }
            int n = Math.Min(buffer.Length, _pending.Length);
            _pending.Span[..n].CopyTo(buffer);
            _pending = _pending[n..];
            return n;
        }

        public override void Send(ReadOnlySpan<byte> data)
        {
            Sent.Add(data.ToArray());
            var frame = new ReadOnlySequence<byte>(Sent[^1]);
            Assert.True(FrameReader.TryReadFrame(ref frame, ChannelLimits.Default, out ReadOnlySequence<byte> payload));
            Message request = Envelope.Read(payload, version, 256);
            var handler = (HandlerId)(long)((PyTuple)request.Args!)[0]!;
            object reply = handler == HandlerId.GetRoot
                ? new PyTuple(BoxLabel.RemoteRef, new PyTuple("peer.Root", 7L, 9L))
                : new PyTuple(BoxLabel.Value, null);
            var output = new ArrayBufferWriter<byte>();
            Envelope.Write(output, version, MessageKind.Reply, request.Seq, reply);
            _pending = FrameWriter.Encode(output.WrittenSpan, compressionThreshold: -1);
        }

        public override void Dispose()
        {
        }
    }

    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void CallMethod_ValuesNestedTupleAndNetref_FrameIsBrineOfTheBoxedTuples(RpycProtocolVersion version)
    {
        var transport = new RecordingTransport(version);
        using var client = new RpycConnection(transport, new RpycConnectOptions { ProtocolVersion = version }, null, version);
        Netref root = client.RootNetref;
        byte[] bytes = [1, 2, 3];

        root.CallMethod("f", 1L, "x", bytes, new PyTuple(2L, root), PyTuple.Empty);

        var rootRef = new PyTuple(BoxLabel.LocalRef, new PyTuple("peer.Root", 7L, 9L));
        var expectedArgs = new PyTuple(
            (long)HandlerId.CallAttr,
            new PyTuple(BoxLabel.Tuple, new PyTuple(
                rootRef,
                new PyTuple(BoxLabel.Value, "f"),
                new PyTuple(BoxLabel.Tuple, new PyTuple(
                    new PyTuple(BoxLabel.Value, 1L),
                    new PyTuple(BoxLabel.Value, "x"),
                    new PyTuple(BoxLabel.Value, bytes),
                    new PyTuple(BoxLabel.Tuple, new PyTuple(new PyTuple(BoxLabel.Value, 2L), rootRef)),
                    new PyTuple(BoxLabel.Value, PyTuple.Empty))),
                new PyTuple(BoxLabel.Value, PyTuple.Empty))));
        var output = new ArrayBufferWriter<byte>();
        Envelope.Write(output, version, MessageKind.Request, 1, expectedArgs);
        Assert.Equal(FrameWriter.Encode(output.WrittenSpan, compressionThreshold: -1), transport.Sent[^1]);
    }

    public static TheoryData<RpycProtocolVersion, long> Seqs => new()
    {
        { RpycProtocolVersion.V5, 0 },
        { RpycProtocolVersion.V5, 159 },
        { RpycProtocolVersion.V5, 160 },
        { RpycProtocolVersion.V5, long.MaxValue },
        { RpycProtocolVersion.V6, 0 },
        { RpycProtocolVersion.V6, 123_456_789_012 },
    };

    [Theory]
    [MemberData(nameof(Seqs))]
    public void Read_EnvelopeBySeq_SameAsGeneralPath(RpycProtocolVersion version, long seq)
    {
        var output = new ArrayBufferWriter<byte>();
        var args = new PyTuple(BoxLabel.Value, new PyTuple("a", 1L, new byte[] { 9 }));
        Envelope.Write(output, version, MessageKind.Reply, seq, args);

        Message message = Envelope.Read(new ReadOnlySequence<byte>(output.WrittenMemory), version, 256);

        Assert.Equal(MessageKind.Reply, message.Kind);
        Assert.Equal(seq, message.Seq);
        Assert.Equal(args, message.Args);
    }

    // The header is read where it lies when the first segment holds it, else gathered: the same
    // kind, seq and length either way, and a header cut short is never read.
    [Theory]
    [MemberData(nameof(Seqs))]
    public void TryReadHeader_WholeSplitAnywhereOrOneBytePerSegment_SameHeader(RpycProtocolVersion version, long seq)
    {
        var output = new ArrayBufferWriter<byte>();
        Envelope.Write(output, version, MessageKind.Request, seq, new PyTuple(BoxLabel.Value, "x"));
        byte[] bytes = output.WrittenSpan.ToArray();
        Assert.True(Envelope.TryReadHeader(new ReadOnlySequence<byte>(bytes), version, out MessageKind kind, out long read, out int consumed));
        Assert.Equal((MessageKind.Request, seq), (kind, read));

        var layouts = new List<ReadOnlySequence<byte>> { SequenceBuilder.OneBytePerSegment(bytes) };
        for (int at = 1; at < bytes.Length; at++)
        {
            layouts.Add(SequenceBuilder.Split(bytes, at));
        }
        foreach (ReadOnlySequence<byte> layout in layouts)
        {
            Assert.True(Envelope.TryReadHeader(layout, version, out kind, out read, out int consumedHere));
            Assert.Equal((MessageKind.Request, seq, consumed), (kind, read, consumedHere));
        }
        for (int cut = 0; cut < consumed; cut++)
        {
            Assert.False(Envelope.TryReadHeader(new ReadOnlySequence<byte>(bytes, 0, cut), version, out _, out _, out _), $"a header cut to {cut} bytes was read");
            Assert.False(Envelope.TryReadHeader(SequenceBuilder.OneBytePerSegment(bytes[..cut]), version, out _, out _, out _), $"a header cut to {cut} bytes was read");
        }
    }

    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void Read_ArgsAtTheDepthLimit_SameLimitAsGeneralPath(RpycProtocolVersion version)
    {
        // The envelope is level 1; args nested to level maxDepth pass, one more fails.
        const int MaxDepth = 8;
        object? Nest(int levels) => levels == 0 ? null : new PyTuple(Nest(levels - 1));
        var output = new ArrayBufferWriter<byte>();
        Envelope.Write(output, version, MessageKind.Request, 5, Nest(MaxDepth - 1));
        var deeper = new ArrayBufferWriter<byte>();
        Envelope.Write(deeper, version, MessageKind.Request, 5, Nest(MaxDepth));

        Assert.Equal(5, Envelope.Read(new ReadOnlySequence<byte>(output.WrittenMemory), version, MaxDepth).Seq);
        var ex = Assert.Throws<RpycProtocolException>(() => Envelope.Read(new ReadOnlySequence<byte>(deeper.WrittenMemory), version, MaxDepth));
        Assert.Contains($"nesting deeper than {MaxDepth} levels", ex.Message, StringComparison.Ordinal);
    }

    public enum HugeEnum : ulong
    {
        Max = ulong.MaxValue,
    }

    // A reply whose boxing fails part-way: the peer gets the error instead of the reply.
    private sealed class UnboxableService : RpycService
    {
        [Exposed] public static object LaterItemUnboxable() => (new List<long> { 1 }, "\ud800");

        [Exposed] public static object EnumBeyondLong() => HugeEnum.Max;
    }

    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void Reply_LaterItemFailsToBox_ExportedEarlierItemIsTakenBack(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new UnboxableService(), version);
        Netref root = pair.Client.RootNetref;
        int before = pair.Server.LocalObjectCount;
        var ex = Assert.Throws<RpycRemoteException>(() => root.CallMethod("later_item_unboxable"));
        Assert.Equal("builtins.ValueError", ex.RemoteTypeName);
        // The list was exported for the reply's first item; the peer never saw it, so never releases it.
        Assert.Equal(before, pair.Server.LocalObjectCount);
    }

    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void Reply_NormalizeThrows_PeerGetsErrorConnectionStaysUsable(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new UnboxableService(), version);
        Netref root = pair.Client.RootNetref;
        Assert.Equal("builtins.OverflowError", Assert.Throws<RpycRemoteException>(() => root.CallMethod("enum_beyond_long")).RemoteTypeName);
        Assert.Equal("builtins.OverflowError", Assert.Throws<RpycRemoteException>(() => root.CallMethod("enum_beyond_long")).RemoteTypeName);
    }

    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void Request_LaterArgumentFailsToBox_ExportedEarlierArgumentIsTakenBack(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        Netref root = pair.Client.RootNetref;
        int before = pair.Client.LocalObjectCount;
        Func<long, long> callback = x => x;
        Assert.Throws<ArgumentException>(() => root.CallMethod("echo", new PyTuple(callback, "\ud800")));
        Assert.Equal(before, pair.Client.LocalObjectCount);
        // The same callback boxed again later is exported afresh and released as usual.
        Assert.Equal(41L, root.CallMethod("call_back", callback, 40L));
    }
}
