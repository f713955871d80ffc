using System.Buffers;
using BenchmarkDotNet.Attributes;
using Rpyc.Benchmarks;
using Rpyc.Channel;

namespace Rpyc.MicroBenchmarks;

/// <summary>The content of the 1 MiB frame body.</summary>
public enum PayloadKind
{
    /// <summary>Seeded random bytes: zlib cannot shrink them.</summary>
    Random,

    /// <summary>bytes(range(256)) repeated, as the demo server's download_fast sends.</summary>
    Repeating,
}

/// <summary>
/// Framing a 1 MiB payload with compression off (the .NET default) and at Python's 3000-byte
/// threshold (zlib level 1), and reading back a compressed frame, which is what every large
/// reply from a Python peer costs this side.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class FrameBenchmarks
{
    private byte[] _payload = null!;
    private byte[] _compressedFrame = null!;

    [Params(PayloadKind.Random, PayloadKind.Repeating)]
    public PayloadKind Payload { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _payload = Payload == PayloadKind.Random
            ? BenchmarkData.RandomBytes(BenchmarkData.OneMiB)
            : BenchmarkData.RepeatingBytes(BenchmarkData.OneMiB);
        _compressedFrame = FrameWriter.Encode(_payload, FrameWriter.PythonCompressionThreshold);
    }

    [Benchmark(Baseline = true)]
    public byte[] Encode_CompressionOff() => FrameWriter.Encode(_payload, compressionThreshold: -1);

    [Benchmark]
    public byte[] Encode_Threshold3000() => FrameWriter.Encode(_payload, FrameWriter.PythonCompressionThreshold);

    [Benchmark]
    public long Decode_Threshold3000()
    {
        var buffer = new ReadOnlySequence<byte>(_compressedFrame);
        if (!FrameReader.TryReadFrame(ref buffer, ChannelLimits.Default, out ReadOnlySequence<byte> payload))
        {
            throw new InvalidOperationException("The compressed frame did not parse.");
        }
        return payload.Length;
    }
}
