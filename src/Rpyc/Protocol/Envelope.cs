using System.Buffers;
using Rpyc.Brine;

namespace Rpyc.Protocol;

/// <summary>One decoded message: <c>(msg, seq, args)</c>.</summary>
internal readonly record struct Message(MessageKind Kind, long Seq, object? Args)
{
    /// <summary>Wire length of the frame it came in (header and trailer included).</summary>
    public long FrameLength { get; init; }

    /// <summary>
    /// Whether the connection unboxed the message while reading it: <see cref="Args"/> is then a
    /// reply's value, or a request's unboxed handler arguments (a tuple) for <see cref="Handler"/>.
    /// </summary>
    public bool Unboxed { get; init; }

    /// <summary>The handler of an unboxed request.</summary>
    public HandlerId Handler { get; init; }
}

/// <summary>The message envelope, which differs between rpyc 5.x and 6.x (protocol.py _send / _dispatch).</summary>
internal static class Envelope
{
    // 5.x: brine (msg, seq, args) -> TAG_TUP3 | imm msg | seq | args
    // 6.x: uint8 msg | brine (seq, args) -> raw msg byte | TAG_TUP2 | seq | args
    public static void Write(IBufferWriter<byte> output, RpycProtocolVersion version, MessageKind kind, long seq, object? args)
    {
        var writer = new BrineWriter(output);
        WriteHeader(ref writer, version, kind, seq);
        writer.Write(args);
    }

    /// <summary>Everything before the args, which the caller writes next (the connection boxes them straight into the frame).</summary>
    public static void WriteHeader(ref BrineWriter writer, RpycProtocolVersion version, MessageKind kind, long seq)
    {
        if (version == RpycProtocolVersion.V5)
        {
            writer.WriteTupleHeader(3);
            writer.WriteInt((long)kind);
        }
        else
        {
            writer.WriteTag((byte)kind);
            writer.WriteTupleHeader(2);
        }
        writer.WriteInt(seq);
    }

    public static Message Read(ReadOnlySequence<byte> payload, RpycProtocolVersion version, int maxDepth) =>
        Read(payload, version, maxDepth == BrineLimits.DefaultMaxDepth ? BrineLimits.Default : BrineLimits.Default with { MaxDepth = Math.Max(maxDepth, 0) });

    /// <summary>Decodes one message within <paramref name="limits"/>, which count the envelope's own tuple as one level.</summary>
    /// <param name="payload">The frame's payload.</param>
    /// <param name="version">The connection's envelope.</param>
    /// <param name="limits">The message's limits.</param>
    /// <param name="argsLimits">The same one level shallower (the connection keeps both), or <c>null</c> to derive them.</param>
    /// <param name="lender">Lends large bytes values from a pool instead of allocating them, or <c>null</c>.</param>
    public static Message Read(ReadOnlySequence<byte> payload, RpycProtocolVersion version, BrineLimits limits, BrineLimits? argsLimits = null, BytesLender? lender = null)
    {
        if (payload.IsEmpty)
        {
            throw ProtocolErrors.Message("empty payload");
        }
        // The envelope as every peer writes it is read by hand, so that only the args are objects;
        // anything else, and every error, goes through the general path and its messages.
        if (limits.MaxDepth > 0 && TryReadHeader(payload, version, out MessageKind kind, out long seq, out int consumed))
        {
            try
            {
                // The envelope's own tuple is one level of the depth limit, as in the general path.
                var reader = new BrineReader(payload.Slice(consumed), argsLimits ?? ArgsLimits(limits), lender);
                object? args = reader.Read();
                if (reader.Remaining == 0)
                {
                    return new Message(kind, seq, args);
                }
            }
            catch (RpycProtocolException)
            {
            }
            lender?.ReleaseAll();
        }
        return ReadGeneral(payload, version, limits);
    }

    // The default args' limits are cached: the common case allocates nothing.
    private static readonly BrineLimits s_defaultArgsLimits = BrineLimits.Default with { MaxDepth = BrineLimits.DefaultMaxDepth - 1 };

    /// <summary>The limits of a message's args: those of the message, one level shallower (its envelope tuple).</summary>
    /// <param name="limits">The message's limits, whose depth is at least 1.</param>
    public static BrineLimits ArgsLimits(BrineLimits limits) =>
        ReferenceEquals(limits, BrineLimits.Default) ? s_defaultArgsLimits : limits with { MaxDepth = Math.Max(limits.MaxDepth - 1, 0) };

    // The longest header TryReadHeader reads: two bytes of envelope, TAG_INT_L1, its length, 20 digits.
    private const int MaxHeaderLength = 24;

    // 5.x TAG_TUP3 | imm msg 1..3 | seq; 6.x msg byte 1..3 | TAG_TUP2 | seq; seq an immediate or TAG_INT_L1 decimal, not negative.
    internal static bool TryReadHeader(ReadOnlySequence<byte> payload, RpycProtocolVersion version, out MessageKind kind, out long seq, out int consumed)
    {
        // Read where it lies when the first segment holds it (nearly always: a SequenceReader over
        // it cost a ping's request and reply a reader each), else gathered on the stack.
        ReadOnlySpan<byte> first = payload.FirstSpan;
        if (first.Length >= MaxHeaderLength || payload.IsSingleSegment)
        {
            return TryReadHeader(first, version, out kind, out seq, out consumed);
        }
        Span<byte> gathered = stackalloc byte[MaxHeaderLength];
        int length = (int)Math.Min(payload.Length, MaxHeaderLength);
        payload.Slice(0, length).CopyTo(gathered);
        return TryReadHeader(gathered[..length], version, out kind, out seq, out consumed);
    }

    private static bool TryReadHeader(ReadOnlySpan<byte> head, RpycProtocolVersion version, out MessageKind kind, out long seq, out int consumed)
    {
        kind = default;
        seq = 0;
        consumed = 0;
        if (head.Length < 3)
        {
            return false;
        }
        int code;
        if (version == RpycProtocolVersion.V5)
        {
            if (head[0] != BrineTag.Tup3)
            {
                return false;
            }
            code = head[1] - BrineTag.ImmIntBias;
        }
        else
        {
            if (head[1] != BrineTag.Tup2)
            {
                return false;
            }
            code = head[0];
        }
        if (code is < 1 or > 3)
        {
            return false;
        }
        byte tag = head[2];
        int end;
        if (tag is >= BrineTag.ImmIntFirst and <= BrineTag.ImmIntLast)
        {
            seq = tag - BrineTag.ImmIntBias;
            end = 3;
        }
        else
        {
            if (tag != BrineTag.IntL1 || head.Length < 4)
            {
                return false;
            }
            int digits = head[3];
            end = 4 + digits;
            if (digits is 0 or > 20 || head.Length < end
                || !System.Buffers.Text.Utf8Parser.TryParse(head[4..end], out seq, out int used) || used != digits)
            {
                return false;
            }
        }
        if (seq < 0)
        {
            return false;
        }
        kind = (MessageKind)code;
        consumed = end;
        return true;
    }

    private static Message ReadGeneral(ReadOnlySequence<byte> payload, RpycProtocolVersion version, BrineLimits limits)
    {
        // The first byte tells a peer of the other version apart before brine reports it as garbage
        // (wire notes 4.1: 0x12 starts every 5.x message, 0x01..0x03 every 6.x one).
        byte first = payload.FirstSpan[0];
        if (version == RpycProtocolVersion.V5)
        {
            if (first != BrineTag.Tup3)
            {
                throw ProtocolErrors.Message(DescribeMismatch(payload, "a 5.x envelope (msg, seq, args)"));
            }
            if (Brine.Brine.Load(payload, limits) is not PyTuple { Count: 3 } t || t[0] is not long kind5)
            {
                throw ProtocolErrors.Message("expected a 5.x envelope (msg, seq, args)");
            }
            return Make(kind5, t[1], t[2]);
        }
        if (first is < 1 or > 3)
        {
            throw ProtocolErrors.Message($"invalid message type: {first}" + (first == BrineTag.Tup3 ? " (the byte 0x12 starts a rpyc 5.x envelope: the peer speaks 5.x, this connection 6.x)" : ""));
        }
        if (Brine.Brine.Load(payload.Slice(1), limits) is not PyTuple { Count: 2 } t6)
        {
            throw ProtocolErrors.Message("expected a 6.x envelope: msg byte + (seq, args)");
        }
        return Make(first, t6[0], t6[1]);
    }

    private static Message Make(long kind, object? seq, object? args)
    {
        if (kind is < 1 or > 3)
        {
            throw ProtocolErrors.Message($"invalid message type: {kind}");
        }
        if (seq is not long s || s < 0)
        {
            throw ProtocolErrors.Message($"invalid sequence number {PyValue.Repr(seq)}");
        }
        return new Message((MessageKind)kind, s, args);
    }

    /// <summary>Section 11 of the wire notes: the first byte tells the envelope; <c>null</c> when it fits neither.</summary>
    public static RpycProtocolVersion? Detect(ReadOnlySequence<byte> payload)
    {
        if (payload.IsEmpty)
        {
            return null;
        }
        return payload.FirstSpan[0] switch
        {
            BrineTag.Tup3 => RpycProtocolVersion.V5,
            >= 1 and <= 3 => RpycProtocolVersion.V6,
            _ => null,
        };
    }

    private static string DescribeMismatch(ReadOnlySequence<byte> payload, string expected)
    {
        RpycProtocolVersion? other = Detect(payload);
        string hint = other is null ? "" : $" (the first byte 0x{payload.FirstSpan[0]:x2} suggests a rpyc {(int)other}.x peer: the envelopes of 5.x and 6.x differ)";
        return $"expected {expected}{hint}";
    }
}
