using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Rpyc.Bench;

// Binary transfers (rpycbench --test-binary-transfer), the same as python/rpyc_server.py's: every
// upload is answered with the SHA-256 the server computed of what it received, and downloads are
// BinaryContent generated at their offset, so no side holds more than the message in flight.
public sealed partial class BenchService
{
    /// <summary><c>binary_upload(data) → (sha256 hex, len)</c>: a whole file in one call.</summary>
    /// <param name="data">The file.</param>
    /// <returns>The SHA-256 (lower-case hex) and length of what arrived.</returns>
    [Exposed]
    public static PyTuple BinaryUpload(byte[] data)
    {
        data ??= [];
        return PyTuple.From([Convert.ToHexStringLower(SHA256.HashData(data)), (long)data.Length]);
    }

    /// <summary><c>binary_download(offset, n) → bytes</c>: <paramref name="n"/> content bytes from <paramref name="offset"/> on.</summary>
    /// <param name="offset">The offset in the file.</param>
    /// <param name="n">How many bytes.</param>
    /// <returns>The bytes.</returns>
    [Exposed]
    public static byte[] BinaryDownload(long offset, int n) => BinaryContent.Create(offset, n);

    /// <summary><c>binary_append(upload_id, data) → bytes so far</c>: one chunk of a chunked upload.</summary>
    /// <param name="uploadId">The upload, chosen by the client.</param>
    /// <param name="data">The chunk.</param>
    /// <returns>The upload's length so far.</returns>
    [Exposed]
    public static long BinaryAppend(string uploadId, byte[] data) => BinarySink.Shared.Append(uploadId, data ?? []);

    /// <summary><c>binary_finish(upload_id) → (sha256 hex, len)</c>: ends a chunked upload.</summary>
    /// <param name="uploadId">The upload.</param>
    /// <returns>The SHA-256 and length of every chunk received, in order.</returns>
    [Exposed]
    public static PyTuple BinaryFinish(string uploadId) => BinarySink.Shared.Finish(uploadId);

    /// <summary><c>binary_upload_iter(chunks) → (sha256 hex, len)</c>: the server iterates the client's iterator (one round trip per chunk).</summary>
    /// <param name="chunks">The client's iterable of bytes, by reference.</param>
    /// <returns>The SHA-256 and length of every chunk received.</returns>
    /// <exception cref="ArgumentException"><paramref name="chunks"/> is not iterable or yields something other than bytes.</exception>
    [Exposed]
    public static PyTuple BinaryUploadIter(object? chunks)
    {
        if (chunks is not System.Collections.IEnumerable items)
        {
            throw new ArgumentException($"binary_upload_iter takes an iterable of bytes, not {chunks?.GetType().Name ?? "None"}.", nameof(chunks));
        }
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long total = 0;
        foreach (object? item in items)
        {
            byte[] chunk = item as byte[] ?? throw new ArgumentException($"binary_upload_iter: a chunk is {item?.GetType().Name ?? "None"}, not bytes.", nameof(chunks));
            hash.AppendData(chunk);
            total += chunk.Length;
        }
        return PyTuple.From([Convert.ToHexStringLower(hash.GetHashAndReset()), total]);
    }

    /// <summary><c>binary_download_iter(size, chunk_size) → iterator of bytes</c>, by reference: the client pulls each chunk with <c>__next__</c>.</summary>
    /// <param name="size">The file's size.</param>
    /// <param name="chunkSize">Bytes per chunk.</param>
    /// <returns>A lazy sequence of chunks.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative size or a chunk size below 1.</exception>
    [Exposed]
    public static IEnumerable<byte[]> BinaryDownloadIter(long size, int chunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        return Chunks(size, chunkSize);

        static IEnumerable<byte[]> Chunks(long size, int chunkSize)
        {
            for (long offset = 0; offset < size; offset += chunkSize)
            {
                yield return BinaryContent.Create(offset, (int)Math.Min(chunkSize, size - offset));
            }
        }
    }
}

/// <summary>The server side of chunked uploads: a running SHA-256 per upload id, for every server in this process.</summary>
internal sealed class BinarySink
{
    private readonly ConcurrentDictionary<string, Entry> _uploads = new(StringComparer.Ordinal);

    public static BinarySink Shared { get; } = new();

    public long Append(string uploadId, ReadOnlySpan<byte> data)
    {
        ArgumentException.ThrowIfNullOrEmpty(uploadId);
        Entry entry = _uploads.GetOrAdd(uploadId, static _ => new Entry());
        lock (entry)
        {
            entry.Hash.AppendData(data);
            entry.Bytes += data.Length;
            return entry.Bytes;
        }
    }

    public PyTuple Finish(string uploadId)
    {
        (string hex, long bytes) = FinishRaw(uploadId);
        return PyTuple.From([hex, bytes]);
    }

    public (string Sha256, long Bytes) FinishRaw(string uploadId)
    {
        ArgumentException.ThrowIfNullOrEmpty(uploadId);
        if (!_uploads.TryRemove(uploadId, out Entry? entry))
        {
            return (Convert.ToHexStringLower(SHA256.HashData([])), 0);
        }
        lock (entry)
        {
            string hex = Convert.ToHexStringLower(entry.Hash.GetHashAndReset());
            entry.Hash.Dispose();
            return (hex, entry.Bytes);
        }
    }

    private sealed class Entry
    {
        public IncrementalHash Hash { get; } = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public long Bytes { get; set; }
    }
}
