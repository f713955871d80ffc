using System.Buffers.Text;
using Rpyc.Brine;
using Rpyc.Channel;
using Rpyc.Protocol;

namespace Rpyc.MicroBenchmarks;

/// <summary>
/// A peer played by the transport itself, on the caller's thread, so that the allocation column
/// counts one side of the connection only: every request frame sent gets a reply frame to the same
/// seq, built into a reused buffer (the transport allocates nothing per message).
/// </summary>
internal sealed class ReplyingTransport : Transport.Transport
{
    private readonly PooledBufferWriter _reply = new(FrameWriter.HeaderLength, 4096);
    private readonly PooledBufferWriter _scratch = new(FrameWriter.HeaderLength, 256);
    private readonly Func<HandlerId, object?> _answer;
    private readonly int _compressionThreshold;
    private ReadOnlyMemory<byte> _pending;

    /// <param name="answer">The boxed reply args for a request to this handler, or <c>null</c> for no reply (DEL).</param>
    /// <param name="compressionThreshold">Compress replies longer than this, as Python does at 3000 (−1: never).</param>
    public ReplyingTransport(Func<HandlerId, object?> answer, int compressionThreshold = -1)
    {
        _answer = answer;
        _compressionThreshold = compressionThreshold;
    }

    public override string PeerName => "replying";

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
        (long seq, HandlerId handler) = RequestHeader.Parse(data);
        object? args = _answer(handler);
        if (args is null)
        {
            return;
        }
        _reply.Reset();
        Envelope.Write(_reply, RpycProtocolVersion.V5, MessageKind.Reply, seq, args);
        _pending = FrameWriter.Seal(_reply, _scratch, _compressionThreshold);
    }

    public override void Dispose()
    {
    }
}

/// <summary>A server's peer that sends the same request frame again and again and discards the replies.</summary>
internal sealed class ReplayTransport : Transport.Transport
{
    private ReadOnlyMemory<byte> _pending;

    public byte[] Request { get; set; } = [];

    /// <summary>The last frame the server sent.</summary>
    public byte[]? LastSent { get; private set; }

    /// <summary>Keep a copy of what is sent (setup only: it allocates).</summary>
    public bool Capture { get; set; }

    public long BytesSent { get; private set; }

    public override string PeerName => "replay";

    public void Arm() => _pending = Request;

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
        BytesSent += data.Length;
        if (Capture)
        {
            LastSent = data.ToArray();
        }
    }

    public override void Dispose()
    {
    }
}

/// <summary>Reads the seq and handler of an uncompressed 5.x request frame without allocating.</summary>
internal static class RequestHeader
{
    // header(5) | TAG_TUP3 | imm msg | seq | TAG_TUP2 | imm handler | boxed args | 0x0A
    public static (long Seq, HandlerId Handler) Parse(ReadOnlySpan<byte> frame)
    {
        ReadOnlySpan<byte> body = frame[FrameWriter.HeaderLength..];
        if (frame[4] != 0 || body[0] != BrineTag.Tup3)
        {
            throw new InvalidOperationException("Expected an uncompressed 5.x request.");
        }
        int offset = 2;
        long seq = ReadInt(body, ref offset);
        if (body[offset++] != BrineTag.Tup2)
        {
            throw new InvalidOperationException("Expected (handler, args).");
        }
        var handler = (HandlerId)ReadInt(body, ref offset);
        return (seq, handler);
    }

    private static long ReadInt(ReadOnlySpan<byte> body, ref int offset)
    {
        byte tag = body[offset++];
        if (tag is >= BrineTag.ImmIntFirst and <= BrineTag.ImmIntLast)
        {
            return tag - BrineTag.ImmIntBias;
        }
        if (tag != BrineTag.IntL1)
        {
            throw new InvalidOperationException($"Unexpected int tag 0x{tag:x2}.");
        }
        int length = body[offset++];
        if (!Utf8Parser.TryParse(body.Slice(offset, length), out long value, out _))
        {
            throw new InvalidOperationException("Bad int.");
        }
        offset += length;
        return value;
    }
}

/// <summary>The service the benchmarks call: the shapes of the rpycbench service.</summary>
public sealed class MicroService : RpycService
{
    private readonly Dictionary<int, byte[]> _downloads = [];

    /// <summary><c>ping() → 'pong'</c>.</summary>
    [Exposed]
    public static string Ping() => "pong";

    /// <summary><c>upload(data) → len(data)</c>.</summary>
    [Exposed]
    public static long Upload(byte[] data) => data.Length;

    /// <summary><c>upload_memory(data) → len(data)</c>: a large argument borrowed from the pool (<see cref="PooledBytes"/>).</summary>
    [Exposed]
    public static long UploadMemory(ReadOnlyMemory<byte> data) => data.Length;

    /// <summary><c>download(n) → n bytes</c>, the same array each time.</summary>
    [Exposed]
    public byte[] Download(int n)
    {
        if (!_downloads.TryGetValue(n, out byte[]? data))
        {
            data = Benchmarks.BenchmarkData.RepeatingBytes(n);
            _downloads[n] = data;
        }
        return data;
    }
}
