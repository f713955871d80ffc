using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Rpyc.Bench;

/// <summary>
/// The benchmark payload every server and client agrees on: <c>payload(n)</c> is the first
/// <c>n</c> bytes of <c>SHA256(b"rpycbench" + i.to_bytes(8, "big"))</c> concatenated for
/// <c>i = 0, 1, 2, …</c>. Incompressible (zlib gains nothing) and checkable by the receiver.
/// </summary>
/// <remarks>The Python peers compute the same bytes with <c>hashlib</c> (<c>python/bench_payload.py</c>).</remarks>
public static class Payload
{
    private const int BlockLength = 32;
    private static readonly Lock s_growLock = new();
    private static byte[] s_cache = [];

    /// <summary>The first <paramref name="length"/> payload bytes, shared: do not write to them.</summary>
    /// <param name="length">How many bytes.</param>
    /// <returns>A read-only view of the cached payload.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="length"/> is negative.</exception>
    public static ReadOnlyMemory<byte> Get(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        byte[] cache = Volatile.Read(ref s_cache);
        if (cache.Length < length)
        {
            cache = Grow(length);
        }
        return cache.AsMemory(0, length);
    }

    /// <summary>A new array holding the first <paramref name="length"/> payload bytes.</summary>
    /// <param name="length">How many bytes.</param>
    /// <returns>A fresh copy the caller owns.</returns>
    public static byte[] Create(int length) => Get(length).ToArray();

    /// <summary>Whether <paramref name="data"/> is exactly <c>payload(data.Length)</c>.</summary>
    /// <param name="data">Received bytes.</param>
    /// <returns><c>true</c> when every byte matches.</returns>
    public static bool Matches(ReadOnlySpan<byte> data) => data.SequenceEqual(Get(data.Length).Span);

    private static byte[] Grow(int length)
    {
        lock (s_growLock)
        {
            byte[] cache = s_cache;
            if (cache.Length >= length)
            {
                return cache;
            }
            // Grow geometrically (at least 64 KiB) so repeated sizes never regenerate.
            int size = (int)Math.Min(Array.MaxLength, Math.Max(64 * 1024, Math.Max((long)length, 2L * cache.Length)));
            var grown = new byte[size];
            cache.CopyTo(grown, 0);
            Span<byte> seed = stackalloc byte[9 + 8];
            "rpycbench"u8.CopyTo(seed);
            Span<byte> digest = stackalloc byte[BlockLength];
            for (long block = cache.Length / BlockLength; block * BlockLength < size; block++)
            {
                BinaryPrimitives.WriteInt64BigEndian(seed[9..], block);
                SHA256.HashData(seed, digest);
                int offset = (int)(block * BlockLength);
                digest[..Math.Min(BlockLength, size - offset)].CopyTo(grown.AsSpan(offset));
            }
            Volatile.Write(ref s_cache, grown);
            return grown;
        }
    }
}
