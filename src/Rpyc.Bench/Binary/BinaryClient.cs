using System.Security.Cryptography;

namespace Rpyc.Bench;

// One connection that moves binary files to and from a benchmark server. Uploads return what the
// server says it received (its SHA-256 and length); downloads feed the received bytes to the
// caller's hash as they arrive and return how many came.
internal abstract class BinaryClient : IDisposable
{
    // Whether an upload in one piece needs the file in memory (a message of one value), so the
    // benchmark generates it before the clock starts; streaming protocols generate as they send.
    public abstract bool WholeUploadNeedsBuffer { get; }

    public virtual bool HasGenerator => false;

    // The reason a whole transfer of this size cannot be made, or null.
    public abstract string? RefuseWhole(long size, bool upload);

    public abstract (string Sha256, long Bytes) UploadWhole(long size, byte[]? data, CancellationToken cancellationToken);

    public abstract long DownloadWhole(long size, IncrementalHash hash, CancellationToken cancellationToken);

    public abstract (string Sha256, long Bytes) UploadChunked(long size, int chunkSize, CancellationToken cancellationToken);

    public abstract long DownloadChunked(long size, int chunkSize, IncrementalHash hash, CancellationToken cancellationToken);

    public virtual (string Sha256, long Bytes) UploadGenerator(long size, int chunkSize, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Only RPyC has generator transfers.");

    public virtual long DownloadGenerator(long size, int chunkSize, IncrementalHash hash, CancellationToken cancellationToken) =>
        throw new NotSupportedException("Only RPyC has generator transfers.");

    public abstract void Dispose();

    // Long enough for the slowest peer to move the size (Python rpyc's whole sends copy the
    // remainder of the message on every 64,000-byte send: quadratic), never unbounded.
    public static TimeSpan TimeoutFor(long size) => TimeSpan.FromSeconds(30 + (size / (512.0 * 1024)));

    public static BinaryClient Create(TargetInfo info, string host, int port) => info.Protocol switch
    {
        "rpyc" => new RpycBinaryClient(host, port, pythonServer: info.IsPython, info.Name),
        "http" => new HttpBinaryClient(host, port),
        "tcp" => new TcpBinaryClient(host, port),
        _ => throw new ArgumentException($"{info.Name}: no binary transfers over {info.Protocol}.", nameof(info)),
    };

    protected static string NewUploadId() => Guid.NewGuid().ToString("N");
}
