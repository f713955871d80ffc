namespace Rpyc.Bench;

/// <summary>How a binary transfer is sent.</summary>
public static class BinaryTransferModes
{
    /// <summary>The whole file in one call or request.</summary>
    public const string Whole = "whole";

    /// <summary>A loop of calls or requests of the chunk size.</summary>
    public const string Chunked = "chunked";

    /// <summary>RPyC only: an iterator on the sending side, pulled by the receiver one chunk per round trip.</summary>
    public const string Generator = "generator";

    /// <summary>Every mode, in report order.</summary>
    public static IReadOnlyList<string> All { get; } = [Whole, Chunked, Generator];
}

/// <summary>The outcome of one way (upload or download) of one size and mode.</summary>
public enum BinaryWayStatus
{
    /// <summary>Every iteration arrived and its SHA-256 matched.</summary>
    Ok,

    /// <summary>Not attempted: the size exceeds a protocol or suite limit (see <see cref="BinaryWayResult.Reason"/>).</summary>
    Refused,

    /// <summary>An iteration failed, timed out or arrived with the wrong content.</summary>
    Failed,
}

/// <summary>One way of one size and mode: <see cref="BinaryWayResult.Iterations"/> transfers of the same file.</summary>
public sealed record BinaryWayResult
{
    /// <summary>The outcome.</summary>
    public required BinaryWayStatus Status { get; init; }

    /// <summary>Why it was refused or failed, or <c>null</c>.</summary>
    public string? Reason { get; init; }

    /// <summary>Transfers completed.</summary>
    public int Iterations { get; init; }

    /// <summary>Bytes per transfer.</summary>
    public long Size { get; init; }

    /// <summary>Mean seconds per completed transfer (0 when none completed).</summary>
    public double Seconds { get; init; }

    /// <summary>The fastest transfer's seconds.</summary>
    public double MinSeconds { get; init; }

    /// <summary>Bytes of the completed transfers / their summed time.</summary>
    public double BytesPerSecond => Seconds > 0 ? Size / Seconds : 0;

    /// <summary>Whether the receiver's SHA-256 of every completed transfer matched the file's; <c>null</c> when none completed.</summary>
    public bool? Sha256Ok { get; init; }

    /// <summary>The client process's peak resident memory during this way, in bytes, or <c>null</c>.</summary>
    public long? ClientRssPeak { get; init; }

    /// <summary>The server process tree's peak resident memory during this way, in bytes, or <c>null</c> (a server not started here).</summary>
    public long? ServerRssPeak { get; init; }

    /// <summary>Whether the peaks are the kernel's high-water marks (reset before the way) rather than 10 ms samples.</summary>
    public bool RssExact { get; init; }
}

/// <summary>One mode of one size: both ways.</summary>
/// <param name="Mode">See <see cref="BinaryTransferModes"/>.</param>
/// <param name="Upload">Client to server; the server checks the SHA-256.</param>
/// <param name="Download">Server to client; the client checks the SHA-256.</param>
public sealed record BinaryModeResult(string Mode, BinaryWayResult Upload, BinaryWayResult Download);

/// <summary>Every mode of one file size.</summary>
/// <param name="Size">The file's size in bytes.</param>
/// <param name="Modes">Each mode the target can do, in <see cref="BinaryTransferModes.All"/> order.</param>
public sealed record BinarySizeResult(long Size, IReadOnlyList<BinaryModeResult> Modes);

/// <summary>A target's binary transfers (<c>--test-binary-transfer</c>).</summary>
/// <param name="ChunkSize">Bytes per chunk of the chunked and generator modes.</param>
/// <param name="Iterations">Transfers per size, mode and way.</param>
/// <param name="Sizes">Each file size.</param>
public sealed record BinaryTransferResult(int ChunkSize, int Iterations, IReadOnlyList<BinarySizeResult> Sizes)
{
    /// <summary>Ways that failed (refusals are not failures).</summary>
    public int Failures => Sizes.SelectMany(s => s.Modes).Sum(m => (m.Upload.Status == BinaryWayStatus.Failed ? 1 : 0) + (m.Download.Status == BinaryWayStatus.Failed ? 1 : 0));

    /// <summary>The first failure's reason, or <c>null</c>.</summary>
    public string? FirstError => Sizes.SelectMany(s => s.Modes).SelectMany(m => new[] { m.Upload, m.Download })
        .FirstOrDefault(w => w.Status == BinaryWayStatus.Failed)?.Reason;
}
