using System.Numerics;

namespace Rpyc.Bench;

/// <summary>
/// The benchmark service with the same operations on every server: <c>ping</c>, <c>echo</c>,
/// <c>upload</c>, <c>download</c>, <c>compute</c>, <c>sleep</c>, <c>upload_chunks</c>,
/// <c>download_chunks</c>, and the decision scenarios' members (see <see cref="ScenarioData"/>).
/// Python's equivalent is <c>python/rpyc_server.py</c>.
/// </summary>
public sealed partial class BenchService : RpycService
{
    /// <summary><c>get_record() → record</c> by reference: ten attributes <c>a</c> … <c>j</c>, one round trip each.</summary>
    /// <returns>A new record.</returns>
    [Exposed]
    public static ScenarioRecord GetRecord() => new();

    /// <summary><c>get_record_tuple() → (a, …, j)</c>: the same record by value, in one round trip.</summary>
    /// <returns>The ten values.</returns>
    [Exposed]
    public static PyTuple GetRecordTuple() => PyTuple.From(ScenarioData.RecordValues.Cast<object?>());

    /// <summary><c>get_list(n) → [0, …, n-1]</c> by reference: iterating it costs a round trip per item.</summary>
    /// <param name="n">Items.</param>
    /// <returns>The list.</returns>
    [Exposed]
    public static List<long> GetList(int n) => ScenarioData.ListValues(n).ToList();

    /// <summary><c>get_list_tuple(n) → (0, …, n-1)</c>: the same items by value.</summary>
    /// <param name="n">Items.</param>
    /// <returns>The items.</returns>
    [Exposed]
    public static PyTuple GetListTuple(int n) => PyTuple.From(ScenarioData.ListValues(n).Cast<object?>());

    /// <summary><c>service</c>: the head of <c>root.service.child.method(x)</c>, an attribute chain as Python users write it.</summary>
    [Exposed]
    public static ScenarioChain Service { get; } = new();

    /// <summary><c>chain_method(x)</c>: what <c>root.service.child.method(x)</c> computes, in one exposed call.</summary>
    /// <param name="x">The argument.</param>
    /// <returns><see cref="ScenarioData.Chain"/>(x).</returns>
    [Exposed]
    public static long ChainMethod(long x) => ScenarioData.Chain(x);

    /// <summary><c>map_callback(fn, n) → (fn(0), …, fn(n-1))</c>: the server calls the client's callable once per item.</summary>
    /// <param name="fn">The client's callable.</param>
    /// <param name="n">Items.</param>
    /// <returns>The results.</returns>
    [Exposed]
    public static PyTuple MapCallback(Func<long, object?> fn, int n)
    {
        ArgumentNullException.ThrowIfNull(fn);
        var results = new object?[Math.Max(0, n)];
        for (int i = 0; i < results.Length; i++)
        {
            results[i] = fn(i);
        }
        return PyTuple.From(results);
    }

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
    /// <param name="data">The uploaded bytes, borrowed for the call: a large upload is lent from the
    /// connection's pool (<see cref="PooledBytes"/>), never a new array on the large object heap.</param>
    /// <returns>Their length.</returns>
    [Exposed]
    public static long Upload(ReadOnlyMemory<byte> data) => data.Length;

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

/// <summary>
/// The data of the decision scenarios, the same on every server (.NET and Python RPyC, Kestrel,
/// Flask), so each protocol does the same work the way it is used: a record of ten fields
/// <c>a</c> … <c>j</c> holding 0 … 9, a list <c>0 … n-1</c>, <c>chain(x) = 2x + 1</c>, and a
/// callback per item that the client computes as <c>3i</c> (REST: the server computes it).
/// </summary>
public static class ScenarioData
{
    /// <summary>The record's field names, in order.</summary>
    public static IReadOnlyList<string> RecordFields { get; } = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];

    /// <summary>The record's values, in field order.</summary>
    public static IReadOnlyList<long> RecordValues { get; } = Enumerable.Range(0, 10).Select(i => (long)i).ToArray();

    /// <summary>The list of <paramref name="n"/> items.</summary>
    /// <param name="n">Items.</param>
    /// <returns><c>0 … n-1</c>.</returns>
    public static IEnumerable<long> ListValues(int n) => Enumerable.Range(0, Math.Max(0, n)).Select(i => (long)i);

    /// <summary>What the chain's method computes.</summary>
    /// <param name="x">The argument.</param>
    /// <returns><c>2x + 1</c>.</returns>
    public static long Chain(long x) => (2 * x) + 1;

    /// <summary>What the client's callback computes for item <paramref name="i"/>.</summary>
    /// <param name="i">The item.</param>
    /// <returns><c>3i</c>.</returns>
    public static long Callback(long i) => 3 * i;
}

/// <summary>A record passed by reference: each field read is a <c>getattr</c> round trip.</summary>
public sealed class ScenarioRecord
{
#pragma warning disable CA1822 // The members are the wire surface; instance members keep them on the netref.
    /// <summary>Field <c>a</c>.</summary>
    [Exposed("a")] public long A => 0;

    /// <summary>Field <c>b</c>.</summary>
    [Exposed("b")] public long B => 1;

    /// <summary>Field <c>c</c>.</summary>
    [Exposed("c")] public long C => 2;

    /// <summary>Field <c>d</c>.</summary>
    [Exposed("d")] public long D => 3;

    /// <summary>Field <c>e</c>.</summary>
    [Exposed("e")] public long E => 4;

    /// <summary>Field <c>f</c>.</summary>
    [Exposed("f")] public long F => 5;

    /// <summary>Field <c>g</c>.</summary>
    [Exposed("g")] public long G => 6;

    /// <summary>Field <c>h</c>.</summary>
    [Exposed("h")] public long H => 7;

    /// <summary>Field <c>i</c>.</summary>
    [Exposed("i")] public long I => 8;

    /// <summary>Field <c>j</c>.</summary>
    [Exposed("j")] public long J => 9;
#pragma warning restore CA1822
}

/// <summary>The head of the attribute chain <c>service.child.method(x)</c>.</summary>
public sealed class ScenarioChain
{
    /// <summary><c>child</c>.</summary>
    [Exposed("child")]
    public ScenarioChainChild Child { get; } = new();
}

/// <summary>The end of the attribute chain.</summary>
public sealed class ScenarioChainChild
{
    /// <summary><c>method(x) → 2x + 1</c>.</summary>
    /// <param name="x">The argument.</param>
    /// <returns><see cref="ScenarioData.Chain"/>(x).</returns>
    [Exposed("method")]
#pragma warning disable CA1822
    public long Method(long x) => ScenarioData.Chain(x);
#pragma warning restore CA1822
}
