using Rpyc.Servers;

namespace Rpyc.Tests;

/// <summary>The worker's heap warm-up: runs through gen-0 collections by itself, and stops when told.</summary>
public class HeapWarmupTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    [Fact]
    public void Start_LeftAlone_AllocatesUntilGen0HasBeenCollectedThenEnds()
    {
        int before = GC.CollectionCount(0);
        using HeapWarmup warmup = HeapWarmup.Start();

        Assert.True(SpinWait.SpinUntil(() => warmup.Finished, s_bound), "The warm-up did not end.");

        Assert.True(GC.CollectionCount(0) - before >= 2, $"{GC.CollectionCount(0) - before} gen-0 collections during the warm-up.");
        Assert.InRange(warmup.Allocated, 1024, 64L * 1024 * 1024);
    }

    [Fact]
    public void Dispose_StopsAWarmupThatWouldNotEndByItself()
    {
        HeapWarmup warmup = HeapWarmup.Start(collections: int.MaxValue, maxBytes: long.MaxValue);
        Assert.True(SpinWait.SpinUntil(() => warmup.Allocated > 0, s_bound), "The warm-up did not start.");

        warmup.Dispose();

        Assert.True(SpinWait.SpinUntil(() => warmup.Finished, s_bound), "The warm-up did not stop.");
        long stoppedAt = warmup.Allocated;
        Thread.Sleep(50);
        Assert.Equal(stoppedAt, warmup.Allocated);
    }
}
