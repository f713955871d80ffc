using System.Diagnostics;
using Rpyc.Benchmarks;
using Rpyc.Figures.Reports;
using BrineCodec = Rpyc.Brine.Brine;

namespace Rpyc.Figures.Scenarios;

/// <summary>
/// A quick in-run figure for brine dump+load; Rpyc.MicroBenchmarks is the rigorous measurement.
/// ns/op is the median of ten batches; allocation is what the measuring thread allocated, divided by the iterations.
/// </summary>
internal static class BrineQuick
{
    public static ScenarioResult CallTuple(int iterations)
    {
        PyTuple call = BenchmarkData.CallAttrArgs();
        if (!call.Equals(BrineCodec.Load(BrineCodec.Dump(call))))
        {
            throw new InvalidOperationException("The call tuple did not survive a brine round trip.");
        }
        (double ns, double bytes) = Measure(() => BrineCodec.Load(BrineCodec.Dump(call)), iterations);
        return ScenarioResult.Codec("brine_call_tuple", "brine dump+load, CALLATTR args tuple", iterations, ns, bytes);
    }

    public static ScenarioResult Bytes1MiB(int iterations)
    {
        byte[] payload = BenchmarkData.RandomBytes(BenchmarkData.OneMiB);
        if (BrineCodec.Load(BrineCodec.Dump(payload)) is not byte[] back || !back.AsSpan().SequenceEqual(payload))
        {
            throw new InvalidOperationException("The 1 MiB payload did not survive a brine round trip.");
        }
        (double ns, double bytes) = Measure(() => BrineCodec.Load(BrineCodec.Dump(payload)), iterations);
        return ScenarioResult.Codec("brine_bytes_1mib", "brine dump+load, 1 MiB bytes", iterations, ns, bytes);
    }

    // Ten equal batches; ns/op is the median batch, which shrugs off a batch that another process
    // or a gen2 collection interrupted. Allocation is the total over every batch.
    private static (double NsPerOp, double BytesPerOp) Measure(Func<object?> op, int iterations)
    {
        const int Batches = 10;
        // Warm for at least half a second, so tiered JIT has promoted the code to optimized code
        // (tier-0 code runs 2-3x slower and would be measured otherwise).
        object? sink = null;
        long warmUntil = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 2;
        for (int i = 0; i < Math.Max(1, iterations / 10) || Stopwatch.GetTimestamp() < warmUntil; i++)
        {
            sink = op();
        }
        int perBatch = Math.Max(1, iterations / Batches);
        double[] nsPerOp = new double[Batches];
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        for (int b = 0; b < Batches; b++)
        {
            long start = Stopwatch.GetTimestamp();
            for (int i = 0; i < perBatch; i++)
            {
                sink = op();
            }
            nsPerOp[b] = (Stopwatch.GetTimestamp() - start) * 1e9 / Stopwatch.Frequency / perBatch;
        }
        allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
        GC.KeepAlive(sink);
        return (Statistics.LatencyStats.Median(nsPerOp), (double)allocated / (perBatch * Batches));
    }
}
