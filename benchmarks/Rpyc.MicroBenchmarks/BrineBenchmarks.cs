using BenchmarkDotNet.Attributes;
using Rpyc.Benchmarks;
using Rpyc.Brine;
using Rpyc.Channel;
using BrineCodec = Rpyc.Brine.Brine;

namespace Rpyc.MicroBenchmarks;

/// <summary>
/// Brine of the two shapes that dominate traffic: a small boxed call tuple (every request) and a
/// 1 MiB byte string (bulk transfer). <c>Dump</c> allocates its result array; the connection instead
/// writes into a reused pooled buffer, which <c>*_WriteReused</c> measures.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
[GroupBenchmarksBy(BenchmarkDotNet.Configs.BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class BrineBenchmarks
{
    private PyTuple _call = null!;
    private byte[] _callEncoded = null!;
    private byte[] _payload = null!;
    private byte[] _payloadEncoded = null!;
    private PooledBufferWriter _reused = null!;

    [GlobalSetup]
    public void Setup()
    {
        _call = BenchmarkData.CallAttrArgs();
        _callEncoded = BrineCodec.Dump(_call);
        _payload = BenchmarkData.RandomBytes(BenchmarkData.OneMiB);
        _payloadEncoded = BrineCodec.Dump(_payload);
        _reused = new PooledBufferWriter(FrameWriter.HeaderLength, 2 * BenchmarkData.OneMiB);
        if (!_call.Equals(BrineCodec.Load(_callEncoded)) || BrineCodec.Load(_payloadEncoded) is not byte[] back || !back.AsSpan().SequenceEqual(_payload))
        {
            throw new InvalidOperationException("Brine round trip of the benchmark inputs failed.");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => _reused.Dispose();

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("CallTuple")]
    public object? CallTuple_DumpLoad() => BrineCodec.Load(BrineCodec.Dump(_call));

    [Benchmark]
    [BenchmarkCategory("CallTuple")]
    public byte[] CallTuple_Dump() => BrineCodec.Dump(_call);

    [Benchmark]
    [BenchmarkCategory("CallTuple")]
    public object? CallTuple_Load() => BrineCodec.Load(_callEncoded);

    [Benchmark]
    [BenchmarkCategory("CallTuple")]
    public int CallTuple_WriteReused()
    {
        _reused.Reset();
        var writer = new BrineWriter(_reused);
        writer.Write(_call);
        return _reused.WrittenCount;
    }

    [Benchmark(Baseline = true)]
    [BenchmarkCategory("Bytes1MiB")]
    public object? Bytes1MiB_DumpLoad() => BrineCodec.Load(BrineCodec.Dump(_payload));

    [Benchmark]
    [BenchmarkCategory("Bytes1MiB")]
    public byte[] Bytes1MiB_Dump() => BrineCodec.Dump(_payload);

    [Benchmark]
    [BenchmarkCategory("Bytes1MiB")]
    public object? Bytes1MiB_Load() => BrineCodec.Load(_payloadEncoded);

    [Benchmark]
    [BenchmarkCategory("Bytes1MiB")]
    public int Bytes1MiB_WriteReused()
    {
        _reused.Reset();
        var writer = new BrineWriter(_reused);
        writer.Write(_payload);
        return _reused.WrittenCount;
    }
}
