namespace Rpyc.Servers;

// A new process's garbage collector hands out gen-0 memory the process has never touched, and the
// first touch of each page is a page fault: on a 2-vCPU Firecracker VM about 27 us each (2,000
// pings took ~10 ms less CPU with ~360 fewer faults). A ForkingServer worker is a new process per connection, so its
// first ~2,000 pings paid ~360 faults (perf: 98 % in the GC's clearing of new allocation space),
// a p99 of 80-150 us against 45-60 us later on the same worker, and a mean 30-50 % higher.
// Allocating through the first few megabytes while the worker waits in the pool faults that memory
// in once; a gen-0 collection at the end makes the allocator hand the same, now resident, memory
// out again (measured: 764 -> 27 faults over a fresh worker's first 2,000 calls).
// Bounded in bytes, not by the gen-0 budget: that budget follows the cache size (on a 32 MiB-L3
// EPYC running through it twice made every idle worker 27 MB instead of 10, and took ~40 % of both
// CPUs while connections arrived back to back), while a connection's first calls need a few MB
// (the server side of a ping allocates ~0.5 KB: 4 MB is its first ~8,000 calls).
// It runs on a thread of its own and stops as soon as a connection arrives, so a worker that is
// needed at once (a pool drained by a burst) is not delayed by it.
internal sealed class HeapWarmup : IDisposable
{
    // A budget smaller than the bytes below ends the warm-up by itself: after two collections the
    // allocation space reached has been handed out before.
    private const int DefaultCollections = 2;

    // What a connection's first calls allocate, faulted in once; the worker's RSS grows by about this.
    internal const long DefaultMaxBytes = 4L * 1024 * 1024;

    private readonly int _collections;
    private readonly long _maxBytes;

    private volatile bool _stop;
    private long _allocated;
    private volatile bool _finished;

    private HeapWarmup(int collections, long maxBytes)
    {
        _collections = collections;
        _maxBytes = maxBytes;
    }

    /// <param name="collections">Gen-0 collections to run through (tests pass more).</param>
    /// <param name="maxBytes">Bytes to allocate at most; reaching them ends the warm-up with a gen-0 collection.</param>
    public static HeapWarmup Start(int collections = DefaultCollections, long maxBytes = DefaultMaxBytes)
    {
        var warmup = new HeapWarmup(collections, maxBytes);
        new Thread(warmup.Run) { IsBackground = true, Priority = ThreadPriority.Lowest, Name = "rpyc-heap-warmup" }.Start();
        return warmup;
    }

    /// <summary>Bytes allocated so far (tests).</summary>
    internal long Allocated => Interlocked.Read(ref _allocated);

    /// <summary>Whether the warm-up ended on its byte bound and collected gen 0 itself (tests).</summary>
    internal bool CollectedAtEnd { get; private set; }

    /// <summary>Whether the warm-up thread has ended (tests).</summary>
    internal bool Finished => _finished;

    /// <summary>Stops the warm-up where it is; does not wait for its thread.</summary>
    public void Dispose() => _stop = true;

    private void Run()
    {
        int start = GC.CollectionCount(0);
        object? sink = null;
        while (!_stop && _allocated < _maxBytes && GC.CollectionCount(0) - start < _collections)
        {
            // Small arrays, as messages allocate: gen-0 space, never the large object heap. Kept in
            // a local the loop overwrites, so each one is garbage at once and none survives.
            sink = new byte[1000];
            Interlocked.Add(ref _allocated, 1024);
        }
        GC.KeepAlive(sink);
        if (!_stop && GC.CollectionCount(0) - start < _collections)
        {
            // Stopped by the byte bound: without a collection the allocator would go on into memory
            // never touched. After it, gen 0 starts again in the space just faulted in. A collection
            // of garbage only (the arrays above) takes well under a millisecond.
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
            CollectedAtEnd = true;
        }
        _finished = true;
    }
}
