namespace Rpyc.Servers;

// A new process's garbage collector hands out gen-0 memory the process has never touched, and the
// first touch of each page is a page fault: on this 2-vCPU Firecracker VM about 27 us each (2,000
// pings took ~10 ms less CPU with ~360 fewer faults). A ForkingServer worker is a new process per connection, so its
// first ~2,000 pings paid ~360 faults (perf: 98 % in the GC's clearing of fresh allocation space),
// a p99 of 80-150 us against 45-60 us later on the same worker, and a mean 30-50 % higher.
// Allocating through the gen-0 budget while the worker waits in the pool faults that memory in
// once; the collections that follow hand the same, now resident, memory out again (2,000 calls:
// 365 -> 5 faults). It runs on a thread of its own, at the lowest priority, and stops as soon as
// a connection arrives, so a worker that is needed at once (a pool drained by a burst) is not
// delayed by it.
internal sealed class HeapWarmup : IDisposable
{
    // Enough collections that the allocation space reached after them has been handed out before.
    private const int DefaultCollections = 2;

    // Bound for a machine whose gen-0 budget is very large: the worker's RSS grows by at most this.
    private const long DefaultMaxBytes = 64L * 1024 * 1024;

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
    /// <param name="maxBytes">Bytes to allocate at most.</param>
    public static HeapWarmup Start(int collections = DefaultCollections, long maxBytes = DefaultMaxBytes)
    {
        var warmup = new HeapWarmup(collections, maxBytes);
        new Thread(warmup.Run) { IsBackground = true, Priority = ThreadPriority.Lowest, Name = "rpyc-heap-warmup" }.Start();
        return warmup;
    }

    /// <summary>Bytes allocated so far (tests).</summary>
    internal long Allocated => Interlocked.Read(ref _allocated);

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
        _finished = true;
    }
}
