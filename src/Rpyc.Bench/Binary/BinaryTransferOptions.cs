namespace Rpyc.Bench;

/// <summary>What <c>--test-binary-transfer</c> moves: each size, whole and in chunks, both ways.</summary>
public sealed record BinaryTransferOptions
{
    /// <summary>Default file sizes: 1 MiB and 10 MiB, small enough for a quick run.</summary>
    public static IReadOnlyList<long> DefaultSizes { get; } = [1L << 20, 10L << 20];

    /// <summary>File sizes in bytes. Default <see cref="DefaultSizes"/>.</summary>
    public IReadOnlyList<long> Sizes { get; init; } = DefaultSizes;

    /// <summary>Bytes per chunk of the chunked and generator modes. Default 64 KiB.</summary>
    public int ChunkSize { get; init; } = 64 * 1024;

    /// <summary>Transfers per size, mode and way. Default 3.</summary>
    public int Iterations { get; init; } = 3;

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException">No size, a size below 1 byte, a chunk below 1 byte, or fewer than 1 iteration.</exception>
    public void Validate()
    {
        if (Sizes.Count == 0 || Sizes.Any(s => s < 1))
        {
            throw new ArgumentException("Binary transfer sizes must be at least 1 byte each, and at least one size is needed.", nameof(Sizes));
        }
        if (ChunkSize < 1 || ChunkSize > 256 * 1024 * 1024)
        {
            throw new ArgumentException($"The binary chunk size must be between 1 byte and 256 MiB, not {ChunkSize}.", nameof(ChunkSize));
        }
        if (Iterations < 1)
        {
            throw new ArgumentException($"Binary iterations must be at least 1, not {Iterations}.", nameof(Iterations));
        }
    }
}
