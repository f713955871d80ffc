using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;

namespace Rpyc.Channel;

/// <summary>
/// Inflates a compressed frame body (zlib, RFC 1950) into a <see cref="SegmentedBuffer"/> that grows
/// with the output, so a zlib bomb costs at most the limit (and the budget), never a reservation of it.
/// </summary>
internal static class Inflater
{
    // Read granularity: small enough that output past the limit is caught within one step.
    private const int Step = 64 * 1024;

    /// <exception cref="RpycProtocolException">Not a valid zlib stream, truncated, past <paramref name="maxLength"/>, or over the budget.</exception>
    public static void Inflate(ReadOnlySequence<byte> body, int maxLength, SegmentedBuffer output)
    {
        if (body.Length < 6)
        {
            throw ProtocolErrors.Frame($"the compressed body is {body.Length} bytes, too short for a zlib stream");
        }
        var adler = new Adler32();
        long written = 0;
        using var input = new SequenceStream(body);
        using var zlib = new ZLibStream(input, CompressionMode.Decompress);
        try
        {
            while (true)
            {
                // One byte past the limit is enough to know the body inflates past it.
                long allowed = maxLength + 1L - written;
                Span<byte> span = output.GetSpan(Math.Min(allowed, Step));
                if (span.Length > allowed)
                {
                    span = span[..(int)allowed];
                }
                int read = zlib.Read(span);
                if (read == 0)
                {
                    break;
                }
                adler.Update(span[..read]);
                output.Commit(read);
                written += read;
                if (written > maxLength)
                {
                    throw ProtocolErrors.Frame($"the compressed body inflates past the limit of {maxLength} bytes (MaxDecompressedLength)");
                }
            }
        }
        // zlib reports some corrupt streams as ZLibException (an IOException), not InvalidDataException (found by fuzzing).
        catch (Exception ex) when (ex is InvalidDataException or IOException)
        {
            throw new RpycProtocolException($"Malformed frame: the compressed body is not a valid zlib stream: {ex.Message}", ex);
        }
        // ZLibStream stops quietly at the end of a truncated stream and does not always check the
        // trailer; Python's zlib raises "incomplete or truncated stream". Verify the Adler-32 here.
        Span<byte> trailer = stackalloc byte[4];
        body.Slice(body.Length - 4).CopyTo(trailer);
        if (BinaryPrimitives.ReadUInt32BigEndian(trailer) != adler.Value)
        {
            throw ProtocolErrors.Frame("the compressed body is truncated or corrupt (Adler-32 mismatch)");
        }
    }

    // RFC 1950 section 8.2, with the modulo deferred over 5552-byte blocks as zlib does.
    private struct Adler32()
    {
        private const uint Mod = 65521;
        private uint _a = 1;
        private uint _b;

        public readonly uint Value => (_b << 16) | _a;

        public void Update(ReadOnlySpan<byte> data)
        {
            uint a = _a, b = _b;
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
            _a = a;
            _b = b;
        }
    }
}
