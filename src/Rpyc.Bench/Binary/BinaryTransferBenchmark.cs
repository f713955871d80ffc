using System.Security.Cryptography;

namespace Rpyc.Bench;

/// <summary>
/// Binary file transfers against one target: each size sent whole (where the protocol's and the
/// suite's limits allow; otherwise reported as refused, with the reason), in chunks (a loop of
/// calls or requests), and for RPyC through an iterator the receiver pulls; each both ways, each
/// <see cref="BinaryTransferOptions.Iterations"/> times. The receiver checks the content's
/// SHA-256 (the server hashes uploads and returns the digest; the client hashes downloads), and
/// the peak resident memory of the client and of the server's process tree is taken for each way.
/// The content is generated at its offset (<see cref="BinaryContent"/>): chunked and streamed
/// transfers never hold the file.
/// </summary>
/// <param name="info">The target: <c>rpyc</c> (.NET or Python server), <c>http</c> or <c>tcp</c>.</param>
/// <param name="host">Its host.</param>
/// <param name="port">Its port.</param>
/// <param name="options">Sizes, chunk size, iterations.</param>
/// <param name="serverProcessId">The server's process, for its memory; <c>null</c> for a server elsewhere.</param>
public sealed class BinaryTransferBenchmark(TargetInfo info, string host, int port, BinaryTransferOptions options, int? serverProcessId)
{
    /// <summary>Whether the suite measures binary transfers on this target: each server once, through this library's client.</summary>
    /// <param name="info">The target.</param>
    /// <returns><c>true</c> for rpyc_threaded, rpyc_forking, the Python peers, http_threaded and tcp_raw.</returns>
    public static bool Applies(TargetInfo info)
    {
        ArgumentNullException.ThrowIfNull(info);
        return info.Client == TargetClient.Dotnet && info.Server == info.Name && info.Name != TargetCatalog.HttpThreadedHttpClient
            && info.Protocol is "rpyc" or "http" or "tcp";
    }

    /// <summary>Runs every size, mode and way.</summary>
    /// <param name="cancellationToken">Stops between transfers; the result holds what was measured.</param>
    /// <returns>The transfers.</returns>
    /// <exception cref="ArgumentException">Invalid options.</exception>
    public BinaryTransferResult Execute(CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(info);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        BinaryClient client = BinaryClient.Create(info, host, port);
        try
        {
            IReadOnlyList<string> modes = client.HasGenerator ? BinaryTransferModes.All : [BinaryTransferModes.Whole, BinaryTransferModes.Chunked];
            Warm(client, modes, cancellationToken);
            var sizes = new List<BinarySizeResult>();
            foreach (long size in options.Sizes)
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                var results = new List<BinaryModeResult>();
                foreach (string mode in modes)
                {
                    BinaryWayResult up = Way(ref client, mode, size, upload: true, cancellationToken);
                    BinaryWayResult down = Way(ref client, mode, size, upload: false, cancellationToken);
                    results.Add(new BinaryModeResult(mode, up, down));
                }
                sizes.Add(new BinarySizeResult(size, results));
            }
            return new BinaryTransferResult(options.ChunkSize, options.Iterations, sizes);
        }
        finally
        {
            client.Dispose();
        }
    }

    // One small untimed transfer each way and mode, so the first measured one pays no JIT.
    private void Warm(BinaryClient client, IReadOnlyList<string> modes, CancellationToken cancellationToken)
    {
        long size = Math.Min(options.Sizes.Min(), 4L * options.ChunkSize);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (string mode in modes)
        {
            if (mode == BinaryTransferModes.Whole && (client.RefuseWhole(size, upload: true) is not null || client.RefuseWhole(size, upload: false) is not null))
            {
                continue;
            }
            Transfer(client, mode, size, upload: true, client.WholeUploadNeedsBuffer ? BinaryContent.Create(0, (int)size) : null, hash, cancellationToken);
            Transfer(client, mode, size, upload: false, null, hash, cancellationToken);
            hash.GetHashAndReset();
        }
    }

    private BinaryWayResult Way(ref BinaryClient client, string mode, long size, bool upload, CancellationToken cancellationToken)
    {
        if (mode == BinaryTransferModes.Whole && client.RefuseWhole(size, upload) is string reason)
        {
            return new BinaryWayResult { Status = BinaryWayStatus.Refused, Reason = reason, Size = size };
        }
        string expected = BinaryContent.Sha256Hex(size);
        // Memory peaks start from what the transfer needs, not from the previous way's garbage.
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        using PeakRss clientPeak = PeakRss.Start(Environment.ProcessId, descendants: false);
        using PeakRss? serverPeak = serverProcessId is int pid ? PeakRss.Start(pid, descendants: true) : null;
        byte[]? data = upload && mode == BinaryTransferModes.Whole && client.WholeUploadNeedsBuffer ? BinaryContent.Create(0, checked((int)size)) : null;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var times = new List<double>();
        bool allMatched = true;
        string? error = null;
        for (int i = 0; i < options.Iterations && !cancellationToken.IsCancellationRequested; i++)
        {
            long start = Clock.Now;
            try
            {
                (string digest, long bytes) = Transfer(client, mode, size, upload, data, hash, cancellationToken);
                times.Add(Clock.SecondsSince(start));
                if (bytes != size || !string.Equals(digest, expected, StringComparison.OrdinalIgnoreCase))
                {
                    allMatched = false;
                    error ??= $"{(upload ? "the server" : "the client")} received {bytes} bytes with SHA-256 {digest}, expected {size} bytes with {expected}";
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
                {
                    break;
                }
                error = $"{ex.GetType().Name} after {Clock.SecondsSince(start):F1} s: {ex.Message}";
                // The connection may be mid-message: the next way starts on a fresh one.
                client.Dispose();
                client = BinaryClient.Create(info, host, port);
                break;
            }
        }
        data = null;
        long? clientRss = clientPeak.Stop();
        long? serverRss = serverPeak?.Stop();
        return new BinaryWayResult
        {
            Status = error is null && times.Count == options.Iterations ? BinaryWayStatus.Ok : BinaryWayStatus.Failed,
            Reason = error ?? (times.Count < options.Iterations ? "interrupted" : null),
            Iterations = times.Count,
            Size = size,
            Seconds = times.Count > 0 ? times.Average() : 0,
            MinSeconds = times.Count > 0 ? times.Min() : 0,
            Sha256Ok = times.Count > 0 ? allMatched : null,
            ClientRssPeak = clientRss,
            ServerRssPeak = serverRss,
            RssExact = clientPeak.Exact && (serverPeak?.Exact ?? true),
        };
    }

    // One transfer: the digest and length the receiver saw.
    private (string Sha256, long Bytes) Transfer(BinaryClient client, string mode, long size, bool upload, byte[]? data, IncrementalHash hash, CancellationToken cancellationToken)
    {
        if (upload)
        {
            return mode switch
            {
                BinaryTransferModes.Whole => client.UploadWhole(size, data, cancellationToken),
                BinaryTransferModes.Chunked => client.UploadChunked(size, options.ChunkSize, cancellationToken),
                _ => client.UploadGenerator(size, options.ChunkSize, cancellationToken),
            };
        }
        long received = mode switch
        {
            BinaryTransferModes.Whole => client.DownloadWhole(size, hash, cancellationToken),
            BinaryTransferModes.Chunked => client.DownloadChunked(size, options.ChunkSize, hash, cancellationToken),
            _ => client.DownloadGenerator(size, options.ChunkSize, hash, cancellationToken),
        };
        return (Convert.ToHexStringLower(hash.GetHashAndReset()), received);
    }
}
