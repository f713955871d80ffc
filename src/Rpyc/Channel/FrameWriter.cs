using System.Buffers.Binary;
using System.IO.Compression;

namespace Rpyc.Channel;

/// <summary>
/// Builds channel frames (rpyc/core/channel.py): <c>uint32 L | uint8 compressed | body | 0x0A</c>.
/// </summary>
internal static class FrameWriter
{
    public const int HeaderLength = 5;
    public const byte Flusher = 0x0A;

    // channel.py COMPRESSION_THRESHOLD: payloads longer than 3000 bytes are compressed by Python.
    public const int PythonCompressionThreshold = 3000;

    /// <summary>
    /// Seals a payload written into <paramref name="payload"/> (created with <see cref="HeaderLength"/>
    /// reserved bytes) into a complete frame, compressing it when <paramref name="compressionThreshold"/>
    /// is not negative and the payload is longer. Returns the frame, in <paramref name="payload"/> or in
    /// <paramref name="scratch"/>, ready for one send.
    /// </summary>
    public static ReadOnlyMemory<byte> Seal(PooledBufferWriter payload, PooledBufferWriter scratch, int compressionThreshold)
    {
        if (compressionThreshold >= 0 && payload.WrittenCount > compressionThreshold)
        {
            scratch.Reset();
            Compress(payload.WrittenSpan, scratch);
            return Finish(scratch, compressed: true);
        }
        return Finish(payload, compressed: false);
    }

    // channel.py FRAME_HEADER "!LB", then the body, then FLUSHER b"\n"
    private static ReadOnlyMemory<byte> Finish(PooledBufferWriter body, bool compressed)
    {
        int length = body.WrittenCount;
        body.GetSpan(1)[0] = Flusher;
        body.Advance(1);
        Span<byte> frame = body.WithReserved;
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)length);
        frame[4] = compressed ? (byte)1 : (byte)0;
        return body.Buffer.AsMemory(0, body.Length);
    }

    /// <summary>Encodes one frame into a new array (tests and tools; the connection uses <see cref="Seal"/>).</summary>
    public static byte[] Encode(ReadOnlySpan<byte> payload, int compressionThreshold = PythonCompressionThreshold)
    {
        using var body = new PooledBufferWriter(HeaderLength, payload.Length + HeaderLength + 1);
        using var scratch = new PooledBufferWriter(HeaderLength);
        payload.CopyTo(body.GetSpan(payload.Length));
        body.Advance(payload.Length);
        return Seal(body, scratch, compressionThreshold).ToArray();
    }

    // RFC 1950 zlib stream at the fastest level, as Python's zlib.compress(data, 1).
    private static void Compress(ReadOnlySpan<byte> payload, PooledBufferWriter output)
    {
        using var sink = new BufferWriterStream(output);
        using (var zlib = new ZLibStream(sink, CompressionLevel.Fastest, leaveOpen: true))
        {
            zlib.Write(payload);
        }
    }
}
