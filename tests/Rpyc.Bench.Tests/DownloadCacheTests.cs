namespace Rpyc.Bench.Tests;

// The servers' download cache is bounded in bytes: clients asking for many large sizes (or never
// reading the replies) cannot make a server keep gigabytes, and recently used sizes stay shared.
public class DownloadCacheTests
{
    private const int Size = 40 * 1024 * 1024;

    [Fact]
    public void Download_TenSizesOf40MiB_CacheStaysWithinBoundAndKeepsRecentOnes()
    {
        byte[] first = BenchOperations.Download(Size);
        byte[]? previous = null;
        for (int i = 1; i < 10; i++)
        {
            byte[] reply = BenchOperations.Download(Size + i);
            Assert.Equal(Size + i, reply.Length);
            Assert.InRange(BenchOperations.DownloadCacheSize, 0, BenchOperations.DownloadCacheBytes);
            if (previous is not null)
            {
                // The one before is still cached: the same array is handed out again.
                Assert.Same(previous, BenchOperations.Download(Size + i - 1));
            }
            previous = reply;
        }
        // 400 MiB asked for, 256 MiB kept: the least recently used size was dropped and is made anew.
        byte[] again = BenchOperations.Download(Size);
        Assert.NotSame(first, again);
        Assert.True(first.AsSpan().SequenceEqual(again), "The payload made anew differs from the first.");
        Assert.InRange(BenchOperations.DownloadCacheSize, 0, BenchOperations.DownloadCacheBytes);
    }

    [Fact]
    public void Download_TooLargeOrNegative_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BenchOperations.Download((64 * 1024 * 1024) + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => BenchOperations.Download(-1));
    }
}
