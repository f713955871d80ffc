using Rpyc.Servers;

namespace Rpyc.Tests;

/// <summary>
/// The worker's heap warm-up: allocates up to its byte bound or through its gen-0 collections,
/// ends with a collection either way, and stops when told.
/// </summary>
public class HeapWarmupTests
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    [Fact]
    public void Start_LeftAlone_AllocatesUpToItsBoundAndEndsWithAGen0Collection()
    {
        int before = GC.CollectionCount(0);
        using HeapWarmup warmup = HeapWarmup.Start();

        Assert.True(SpinWait.SpinUntil(() => warmup.Finished, s_bound), "The warm-up did not end.");

        // Other tests allocate in this process too, so the count only bounds from below.
        Assert.True(GC.CollectionCount(0) - before >= 1, "No gen-0 collection during the warm-up.");
        Assert.InRange(warmup.Allocated, 1024, HeapWarmup.DefaultMaxBytes);
    }

    [Fact]
    public void Start_ABoundBelowTheGen0Budget_CollectsGen0ItselfAtTheEnd()
    {
        // 64 KiB is far below any gen-0 budget, and no other collection is asked for: the
        // warm-up must end on its bound, then collect so the allocator reuses that memory.
        int before = GC.CollectionCount(0);
        HeapWarmup warmup = HeapWarmup.Start(collections: int.MaxValue, maxBytes: 64 * 1024);

        Assert.True(SpinWait.SpinUntil(() => warmup.Finished, s_bound), "The warm-up did not end.");

        Assert.True(warmup.CollectedAtEnd, "The warm-up did not collect at its bound.");
        Assert.Equal(64 * 1024, warmup.Allocated);
        Assert.True(GC.CollectionCount(0) > before);
    }

    [Fact]
    public void Dispose_StopsAWarmupThatWouldNotEndByItself()
    {
        HeapWarmup warmup = HeapWarmup.Start(collections: int.MaxValue, maxBytes: long.MaxValue);
        Assert.True(SpinWait.SpinUntil(() => warmup.Allocated > 0, s_bound), "The warm-up did not start.");

        warmup.Dispose();

        Assert.True(SpinWait.SpinUntil(() => warmup.Finished, s_bound), "The warm-up did not stop.");
        // A connection arrived: no collection of its own to delay the first call.
        Assert.False(warmup.CollectedAtEnd);
        long stoppedAt = warmup.Allocated;
        Thread.Sleep(50);
        Assert.Equal(stoppedAt, warmup.Allocated);
    }
}
