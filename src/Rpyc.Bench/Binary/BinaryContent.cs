using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Rpyc.Bench;

/// <summary>
/// The content of a binary transfer, which every server and client generates alike so that no
/// side has to hold a whole file: the byte at offset <c>o</c> is <c>payload(Period)[o % Period]</c>
/// (see <see cref="Payload"/>). The period is a prime, so a chunk's bytes depend on its offset and a
/// chunk sent at the wrong place fails the SHA-256 check. Python computes the same bytes
/// (<c>python/bench_payload.py</c>, <c>binary_chunk</c>).
/// </summary>
public static class BinaryContent
{
    /// <summary>The length of the repeating block: 1,000,003 bytes, a prime.</summary>
    public const int Period = 1_000_003;

    private static readonly ConcurrentDictionary<long, byte[]> s_digests = new();

    /// <summary>Fills <paramref name="destination"/> with the content from <paramref name="offset"/> on.</summary>
    /// <param name="offset">The offset of the first byte in the file.</param>
    /// <param name="destination">Where to write; its length is how many bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="offset"/> is negative.</exception>
    public static void Fill(long offset, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ReadOnlySpan<byte> block = Payload.Get(Period).Span;
        int start = (int)(offset % Period);
        while (!destination.IsEmpty)
        {
            int n = Math.Min(destination.Length, Period - start);
            block.Slice(start, n).CopyTo(destination);
            destination = destination[n..];
            start = 0;
        }
    }

    /// <summary>A new array of <paramref name="length"/> content bytes from <paramref name="offset"/> on.</summary>
    /// <param name="offset">The offset of the first byte.</param>
    /// <param name="length">How many bytes.</param>
    /// <returns>The bytes.</returns>
    public static byte[] Create(long offset, int length)
    {
        var data = GC.AllocateUninitializedArray<byte>(length);
        Fill(offset, data);
        return data;
    }

    /// <summary>The chunks of a file of <paramref name="size"/> bytes, generated one at a time into one reused buffer.</summary>
    /// <param name="size">The file's size.</param>
    /// <param name="chunkSize">Bytes per chunk (the last may be shorter).</param>
    /// <returns>Each chunk; a chunk is valid until the next is produced.</returns>
    public static IEnumerable<ReadOnlyMemory<byte>> Chunks(long size, int chunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        var buffer = new byte[(int)Math.Min(chunkSize, Math.Max(1, size))];
        for (long offset = 0; offset < size; offset += chunkSize)
        {
            int n = (int)Math.Min(chunkSize, size - offset);
            Fill(offset, buffer.AsSpan(0, n));
            yield return buffer.AsMemory(0, n);
        }
    }

    /// <summary>The SHA-256 of a whole file of <paramref name="size"/> bytes, computed once per size without holding the file.</summary>
    /// <param name="size">The file's size.</param>
    /// <returns>The 32-byte digest.</returns>
    public static byte[] Sha256(long size)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        return s_digests.GetOrAdd(size, static s =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            foreach (ReadOnlyMemory<byte> chunk in Chunks(s, 1 << 20))
            {
                hash.AppendData(chunk.Span);
            }
            return hash.GetHashAndReset();
        });
    }

    /// <summary>The SHA-256 of a file as lower-case hex, as the servers return it.</summary>
    /// <param name="size">The file's size.</param>
    /// <returns>64 hex digits.</returns>
    public static string Sha256Hex(long size) => Convert.ToHexStringLower(Sha256(size));
}
