using System.Security.Cryptography;

namespace Rpyc.Bench;

// Binary transfers over RPyC: whole files are one bytes argument or return value (one frame);
// chunks are one call each; the generator modes iterate an iterator on the sending side, one
// __next__ round trip per chunk. This client raises its own frame limit and memory budget to the
// suite's whole-transfer limit, since Python rpyc has no message limit; a .NET server keeps its
// default MaxFrameLength, which bounds whole uploads to it.
internal sealed class RpycBinaryClient : BinaryClient
{
    // Brine and frame headers around one bytes value.
    private const int MessageOverhead = 4096;
    private readonly RpycConnection _conn;
    private readonly Netref _root;
    private readonly bool _pythonServer;
    private readonly string _name;

    public RpycBinaryClient(string host, int port, bool pythonServer, string name)
    {
        _pythonServer = pythonServer;
        _name = name;
        _conn = RpycConnection.Connect(host, port, new RpycConnectOptions
        {
            MaxFrameLength = MaxWholeMessage,
            MaxDecompressedLength = MaxWholeMessage,
            MemoryBudget = new RpycMemoryBudget(MaxWholeMessage + (64L << 20)),
            SyncRequestTimeout = TimeoutFor(MaxWholeBytes),
        });
        _root = _conn.RootNetref;
    }

    // The suite's limit on a whole RPyC message: the file is held in memory on both sides (and
    // Python's socket read keeps a second copy while it joins the pieces).
    public const long MaxWholeBytes = 256L << 20;

    private const int MaxWholeMessage = (int)MaxWholeBytes + MessageOverhead;

    public override bool WholeUploadNeedsBuffer => true;

    public override bool HasGenerator => true;

    public override string? RefuseWhole(long size, bool upload)
    {
        if (size > MaxWholeBytes)
        {
            return $"a whole RPyC message of {SummaryTables.SizeLabel(size)} exceeds rpycbench's whole-message limit of {SummaryTables.SizeLabel(MaxWholeBytes)} (the file is held in memory on both sides); chunked and generator transfers have no limit";
        }
        if (upload && !_pythonServer && size + MessageOverhead > RpycConnectOptions.DefaultMaxFrameLength)
        {
            return $"a whole upload of {SummaryTables.SizeLabel(size)} exceeds {_name}'s MaxFrameLength of {SummaryTables.SizeLabel(RpycConnectOptions.DefaultMaxFrameLength)} (RpycConnectOptions' default, which a .NET server enforces on every frame it receives)";
        }
        return null;
    }

    public override (string Sha256, long Bytes) UploadWhole(long size, byte[]? data, CancellationToken cancellationToken) =>
        Digest(_root.CallMethod("binary_upload", data ?? BinaryContent.Create(0, checked((int)size))));

    public override long DownloadWhole(long size, IncrementalHash hash, CancellationToken cancellationToken)
    {
        byte[] data = _root.CallMethod("binary_download", 0L, checked((int)size)) as byte[]
            ?? throw new InvalidReplyException("binary_download returned something other than bytes.");
        hash.AppendData(data);
        return data.Length;
    }

    public override (string Sha256, long Bytes) UploadChunked(long size, int chunkSize, CancellationToken cancellationToken)
    {
        string id = NewUploadId();
        foreach (ReadOnlyMemory<byte> chunk in BinaryContent.Chunks(size, chunkSize))
        {
            cancellationToken.ThrowIfCancellationRequested();
            _root.CallMethod("binary_append", id, chunk);
        }
        return Digest(_root.CallMethod("binary_finish", id));
    }

    public override long DownloadChunked(long size, int chunkSize, IncrementalHash hash, CancellationToken cancellationToken)
    {
        long received = 0;
        for (long offset = 0; offset < size; offset += chunkSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(chunkSize, size - offset);
            byte[] chunk = _root.CallMethod("binary_download", offset, n) as byte[]
                ?? throw new InvalidReplyException("binary_download returned something other than bytes.");
            hash.AppendData(chunk);
            received += chunk.Length;
        }
        return received;
    }

    // The server iterates this side's iterator: each chunk is one __next__ request from the server.
    public override (string Sha256, long Bytes) UploadGenerator(long size, int chunkSize, CancellationToken cancellationToken) =>
        Digest(_root.CallMethod("binary_upload_iter", new ChunkSource(size, chunkSize, cancellationToken)));

    public override long DownloadGenerator(long size, int chunkSize, IncrementalHash hash, CancellationToken cancellationToken)
    {
        using Netref iterator = _root.CallMethod("binary_download_iter", size, chunkSize) as Netref
            ?? throw new InvalidReplyException("binary_download_iter did not return an iterator by reference.");
        long received = 0;
        foreach (object? item in iterator)
        {
            cancellationToken.ThrowIfCancellationRequested();
            byte[] chunk = item as byte[] ?? throw new InvalidReplyException($"binary_download_iter yielded {item?.GetType().Name ?? "None"}, not bytes.");
            hash.AppendData(chunk);
            received += chunk.Length;
        }
        return received;
    }

    public override void Dispose() => _conn.Dispose();

    private static (string, long) Digest(object? reply) =>
        reply is PyTuple { Count: 2 } t && t[0] is string hex && t[1] is long or int
            ? (hex, Convert.ToInt64(t[1], System.Globalization.CultureInfo.InvariantCulture))
            : throw new InvalidReplyException($"Expected (sha256, length), got {reply ?? "None"}.");

    // An iterable the server pulls by reference (__iter__, then __next__ per chunk). Each chunk is a
    // reused buffer: the reply carrying it is written before the next __next__ can arrive.
    private sealed class ChunkSource(long size, int chunkSize, CancellationToken cancellationToken) : System.Collections.IEnumerable
    {
        public System.Collections.IEnumerator GetEnumerator()
        {
            var buffer = new byte[(int)Math.Min(chunkSize, Math.Max(1, size))];
            for (long offset = 0; offset < size; offset += chunkSize)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int n = (int)Math.Min(chunkSize, size - offset);
                byte[] chunk = n == buffer.Length ? buffer : new byte[n];
                BinaryContent.Fill(offset, chunk);
                yield return chunk;
            }
        }
    }
}
