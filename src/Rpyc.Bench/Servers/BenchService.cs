using System.Numerics;

namespace Rpyc.Bench;

/// <summary>
/// The benchmark service with the same operations on every server: <c>ping</c>, <c>echo</c>,
/// <c>upload</c>, <c>download</c>, <c>compute</c>, <c>sleep</c>, <c>upload_chunks</c>,
/// <c>download_chunks</c>. Python's equivalent is <c>python/rpyc_server.py</c>.
/// </summary>
public sealed class BenchService : RpycService
{
    /// <summary><c>ping() → "pong"</c>.</summary>
    /// <returns><c>"pong"</c>.</returns>
    [Exposed]
    public static string Ping() => "pong";

    /// <summary><c>echo(data) → data</c>.</summary>
    /// <param name="data">Any value.</param>
    /// <returns>The same value.</returns>
    [Exposed]
    public static object? Echo(object? data) => data;

    /// <summary><c>upload(data) → len(data)</c>.</summary>
    /// <param name="data">The uploaded bytes.</param>
    /// <returns>Their length.</returns>
    [Exposed]
    public static long Upload(byte[] data) => data?.Length ?? 0;

    /// <summary><c>download(n) → payload(n)</c>.</summary>
    /// <param name="n">Bytes to return.</param>
    /// <returns>The first <paramref name="n"/> payload bytes.</returns>
    [Exposed]
    public static byte[] Download(int n) => BenchOperations.Download(n);

    /// <summary><c>compute(n) → sum(i*i for i &lt; n)</c>, computed with the loop (CPU work on purpose).</summary>
    /// <param name="n">The loop bound.</param>
    /// <returns>The sum, as a long when it fits.</returns>
    [Exposed]
    public static object Compute(long n) => BenchOperations.Compute(n);

    /// <summary><c>sleep(seconds) → seconds</c>.</summary>
    /// <param name="seconds">How long to block this connection's thread.</param>
    /// <returns><paramref name="seconds"/>.</returns>
    [Exposed]
    public static double Sleep(double seconds)
    {
        Thread.Sleep(TimeSpan.FromSeconds(Math.Max(0, seconds)));
        return seconds;
    }

    /// <summary><c>upload_chunks(chunks) → total length</c>.</summary>
    /// <param name="chunks">A tuple of bytes objects.</param>
    /// <returns>The summed length.</returns>
    [Exposed]
    public static long UploadChunks(PyTuple chunks) => chunks?.Sum(c => (long)((c as byte[])?.Length ?? 0)) ?? 0;

    /// <summary><c>download_chunks(n, chunk_size) → tuple of bytes</c> that concatenate to payload(n).</summary>
    /// <param name="n">Total bytes.</param>
    /// <param name="chunkSize">Bytes per chunk (the last may be shorter).</param>
    /// <returns>The chunks.</returns>
    [Exposed]
    public static PyTuple DownloadChunks(int n, int chunkSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        ReadOnlyMemory<byte> payload = Payload.Get(n);
        var chunks = new List<object?>((n / chunkSize) + 1);
        for (int offset = 0; offset < n; offset += chunkSize)
        {
            chunks.Add(payload.Slice(offset, Math.Min(chunkSize, n - offset)).ToArray());
        }
        return PyTuple.From(chunks);
    }
}

/// <summary>The operations shared by the .NET servers (RPyC, Kestrel, raw TCP).</summary>
internal static class BenchOperations
{
    /// <summary>The most bytes of replies kept for reuse; the least recently used go first.</summary>
    internal const long DownloadCacheBytes = 256L * 1024 * 1024;

    // What an entry costs beyond its bytes (node, dictionary slot, array header): counted so that
    // many tiny sizes cannot grow the cache without bound either.
    private const long EntryOverhead = 128;

    private const int MaxDownload = 64 * 1024 * 1024;

    // Replies are cached per size: servers hand out the same read-only array, as Python's bytes
    // slicing of one cached payload costs one copy per call at most. Bounded in bytes, so clients
    // asking for many sizes (or never reading the replies) cannot make the server keep gigabytes.
    private static readonly Lock s_gate = new();
    private static readonly Dictionary<int, LinkedListNode<byte[]>> s_downloads = [];
    private static readonly LinkedList<byte[]> s_recent = new();
    private static long s_cachedBytes;

    /// <summary>Bytes the download cache holds now, overhead included (tests).</summary>
    internal static long DownloadCacheSize
    {
        get
        {
            lock (s_gate)
            {
                return s_cachedBytes;
            }
        }
    }

    public static byte[] Download(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        if (n > MaxDownload)
        {
            throw new ArgumentOutOfRangeException(nameof(n), "download is limited to 64 MiB.");
        }
        lock (s_gate)
        {
            if (TakeCachedLocked(n) is byte[] cached)
            {
                return cached;
            }
        }
        // Created outside the lock: a 64 MiB copy must not hold up the other sizes.
        byte[] created = Payload.Create(n);
        lock (s_gate)
        {
            if (TakeCachedLocked(n) is byte[] raced)
            {
                return raced;
            }
            s_downloads[n] = s_recent.AddFirst(created);
            s_cachedBytes += n + EntryOverhead;
            while (s_cachedBytes > DownloadCacheBytes && s_recent.Last is { } oldest)
            {
                s_recent.RemoveLast();
                s_downloads.Remove(oldest.Value.Length);
                s_cachedBytes -= oldest.Value.Length + EntryOverhead;
            }
        }
        return created;
    }

    private static byte[]? TakeCachedLocked(int n)
    {
        if (!s_downloads.TryGetValue(n, out LinkedListNode<byte[]>? node))
        {
            return null;
        }
        s_recent.Remove(node);
        s_recent.AddFirst(node);
        return node.Value;
    }

    public static object Compute(long n)
    {
        Int128 sum = 0;
        for (long i = 0; i < n; i++)
        {
            sum += (Int128)i * i;
        }
        return sum <= long.MaxValue ? (long)sum : (BigInteger)sum;
    }
}
