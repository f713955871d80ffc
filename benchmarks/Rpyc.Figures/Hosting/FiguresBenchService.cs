using System.Collections.Concurrent;
using Rpyc.Benchmarks;

namespace Rpyc.Figures.Hosting;

/// <summary>
/// The benchmark service the server figures call, with the demo server's semantics: <c>ping</c>,
/// <c>echo</c>, <c>upload</c>, <c>download</c> (of a cached random buffer) and <c>add</c>.
/// Public with a parameterless constructor: the ForkingServer's workers load it from this assembly.
/// </summary>
public sealed class FiguresBenchService : RpycService
{
    // download(n) hands out one cached array per size: the figure measures the transfer, not a copy.
    private static readonly ConcurrentDictionary<int, byte[]> s_downloads = new();

    // The last upload of this connection, so a client can check its content once the clock stopped.
    private byte[]? _lastUpload;

    /// <summary><c>ping() -> "pong"</c>.</summary>
    [Exposed]
    public static string Ping() => "pong";

    /// <summary><c>echo(data) -> data</c>.</summary>
    [Exposed]
    public static object? Echo(object? data) => data;

    /// <summary><c>upload(data) -> len(data)</c>.</summary>
    [Exposed]
    public long Upload(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        _lastUpload = data;
        return data.Length;
    }

    /// <summary><c>last_upload_equals(length, seed)</c>: whether the last upload was <see cref="BenchmarkData.RandomBytes"/> of that length and seed.</summary>
    [Exposed]
    public bool LastUploadEquals(int length, int seed) =>
        _lastUpload is { } last && last.AsSpan().SequenceEqual(BenchmarkData.RandomBytes(length, seed));

    /// <summary><c>download(n) -> bytes</c>: the first n bytes of <see cref="BenchmarkData.RandomBytes"/> (seed 42).</summary>
    [Exposed]
    public static byte[] Download(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        return s_downloads.GetOrAdd(n, size => BenchmarkData.RandomBytes(size));
    }

    /// <summary><c>add(a, b) -> a + b</c>.</summary>
    [Exposed]
    public static long Add(long a, long b) => a + b;
}
