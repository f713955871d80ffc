using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;

namespace Rpyc.Channel;

/// <summary>
/// Try-parse of channel frames: returns <c>false</c> when more bytes are needed, throws
/// <see cref="RpycProtocolException"/> only for frames that can never be valid under the limits.
/// </summary>
internal static class FrameReader
{
    /// <summary>
    /// Reads the body length announced by a complete header, checking it against the limit,
    /// or returns <c>false</c> when fewer than 5 bytes are buffered.
    /// </summary>
    public static bool TryReadHeader(ReadOnlySequence<byte> buffer, in ChannelLimits limits, out int bodyLength, out bool compressed)
    {
        bodyLength = 0;
        compressed = false;
        if (buffer.Length < FrameWriter.HeaderLength)
        {
            return false;
        }
        Span<byte> header = stackalloc byte[FrameWriter.HeaderLength];
        buffer.Slice(0, FrameWriter.HeaderLength).CopyTo(header);
        uint length = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length > (uint)limits.MaxFrameLength)
        {
            throw ProtocolErrors.Frame($"the header announces a body of {length} bytes, over the limit of {limits.MaxFrameLength} (MaxFrameLength)");
        }
        bodyLength = (int)length;
        // Python treats any non-zero flag as compressed.
        compressed = header[4] != 0;
        return true;
    }

    /// <summary>
    /// Takes one complete frame off the front of <paramref name="buffer"/>. The payload is a slice of
    /// the input when uncompressed (valid until the caller reuses that memory), or a new array.
    /// </summary>
    public static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, in ChannelLimits limits, out ReadOnlySequence<byte> payload)
    {
        payload = default;
        if (!TryReadHeader(buffer, limits, out int bodyLength, out bool compressed))
        {
            return false;
        }
        long total = FrameWriter.HeaderLength + (long)bodyLength + 1;
        if (buffer.Length < total)
        {
            return false;
        }
        // The trailing byte is dropped unchecked, as Python does.
        ReadOnlySequence<byte> body = buffer.Slice(FrameWriter.HeaderLength, bodyLength);
        payload = compressed ? new ReadOnlySequence<byte>(Decompress(body, limits.MaxDecompressedLength)) : body;
        buffer = buffer.Slice(total);
        return true;
    }

    // RFC 1950 section 8.2, with the modulo deferred over 5552-byte blocks as zlib does.
    private static uint Adler32(ReadOnlySpan<byte> data)
    {
        const uint Mod = 65521;
        uint a = 1, b = 0;
        while (!data.IsEmpty)
        {
            int n = Math.Min(data.Length, 5552);
            foreach (byte x in data[..n])
            {
                a += x;
                b += a;
            }
            a %= Mod;
            b %= Mod;
            data = data[n..];
        }
        return (b << 16) | a;
    }

    /// <summary>Inflates a zlib (RFC 1950) body, refusing output past <paramref name="maxLength"/>.</summary>
    public static byte[] Decompress(ReadOnlySequence<byte> body, int maxLength)
    {
        using var input = new SequenceStream(body);
        using var zlib = new ZLibStream(input, CompressionMode.Decompress);
        using var output = new PooledBufferWriter(0, (int)Math.Min(Math.Max(body.Length * 4, 256), maxLength + 1L));
        try
        {
            while (true)
            {
                int read = zlib.Read(output.GetSpan(16 * 1024));
                if (read == 0)
                {
                    break;
                }
                output.Advance(read);
                if (output.WrittenCount > maxLength)
                {
                    throw ProtocolErrors.Frame($"the compressed body inflates past the limit of {maxLength} bytes (MaxDecompressedLength)");
                }
            }
        }
        // zlib reports some corrupt streams as ZLibException (an IOException), not InvalidDataException.
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            throw new RpycProtocolException($"Malformed frame: the compressed body is not a valid zlib stream: {ex.Message}", ex);
        }
        // ZLibStream stops quietly at the end of a truncated stream and does not always check the
        // trailer; Python's zlib raises "incomplete or truncated stream". Verify the Adler-32 here.
        Span<byte> trailer = stackalloc byte[4];
        if (body.Length < 6)
        {
            throw ProtocolErrors.Frame($"the compressed body is {body.Length} bytes, too short for a zlib stream");
        }
        body.Slice(body.Length - 4).CopyTo(trailer);
        if (BinaryPrimitives.ReadUInt32BigEndian(trailer) != Adler32(output.WrittenSpan))
        {
            throw ProtocolErrors.Frame("the compressed body is truncated or corrupt (Adler-32 mismatch)");
        }
        return output.WrittenSpan.ToArray();
    }
}
