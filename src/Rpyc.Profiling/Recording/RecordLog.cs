namespace Rpyc.Telemetry;

/// <summary>
/// Append-only, lock-free, bounded log of operations (StackExchange.Redis ProfilingSession keeps
/// its commands the same way): a writer claims a slot with one Interlocked.Increment and publishes
/// the record with a volatile write. Memory grows with the records, not the capacity: chunks of
/// 1,024 slots, and the pages of 1,024 chunk references that hold them, are allocated on first use,
/// so only the table of pages is sized by the capacity (16 KB at int.MaxValue, "keep everything";
/// one flat table of chunks was 16 MB up front).
/// </summary>
internal sealed class RecordLog
{
    private const int ChunkShift = 10;
    private const int ChunkSize = 1 << ChunkShift;
    private const int PageShift = 10;
    private const int PageSize = 1 << PageShift;

    // Published with a compare-exchange on a null slot, never replaced: a reader or writer that
    // found one keeps using it, with no lock and no copy that a concurrent publish could miss.
    private readonly CallRecord?[]?[]?[] _pages;
    private readonly long _capacity;
    private long _claimed;

    public RecordLog(int capacity)
    {
        _capacity = capacity;
        // In long: the rounding up overflows an int near int.MaxValue.
        _pages = new CallRecord?[]?[]?[(int)((capacity + ((long)ChunkSize << PageShift) - 1) >> (ChunkShift + PageShift))];
    }

    /// <summary>Ids handed out so far, kept or not.</summary>
    public long Claimed => Interlocked.Read(ref _claimed);

    /// <summary>Operations that found the log full.</summary>
    public long Dropped => Math.Max(0, Claimed - _capacity);

    /// <summary>Reserves the next id (from 1) and whether the record will be kept.</summary>
    public long Claim(out bool kept)
    {
        long id = Interlocked.Increment(ref _claimed);
        kept = id <= _capacity;
        return id;
    }

    public void Publish(long id, CallRecord record)
    {
        long index = id - 1;
        CallRecord?[] chunk = Chunk(index, allocate: true)!;
        Volatile.Write(ref chunk[index & (ChunkSize - 1)], record);
    }

    // The chunk holding slot 'index', allocated with its page on first use when 'allocate'; else null if none yet.
    private CallRecord?[]? Chunk(long index, bool allocate)
    {
        long chunkIndex = index >> ChunkShift;
        int pageIndex = (int)(chunkIndex >> PageShift);
        CallRecord?[]?[]? page = Volatile.Read(ref _pages[pageIndex]);
        if (page is null)
        {
            if (!allocate)
            {
                return null;
            }
            page = FirstSet(ref _pages[pageIndex], new CallRecord?[]?[PageSize]);
        }
        ref CallRecord?[]? slot = ref page[chunkIndex & (PageSize - 1)];
        CallRecord?[]? chunk = Volatile.Read(ref slot);
        return chunk is null && allocate ? FirstSet(ref slot, new CallRecord?[ChunkSize]) : chunk;
    }

    // The array in 'slot': 'fresh' if it was still empty, else the one another writer put there first.
    private static T FirstSet<T>(ref T? slot, T fresh)
        where T : class =>
        Interlocked.CompareExchange(ref slot, fresh, null) ?? fresh;

    /// <summary>The records kept so far, in start order; a slot claimed but not yet published is skipped.</summary>
    public List<CallRecord> Snapshot()
    {
        long count = Math.Min(Claimed, _capacity);
        var result = new List<CallRecord>((int)Math.Min(count, 1 << 16));
        for (long i = 0; i < count; i++)
        {
            CallRecord?[]? chunk = Chunk(i, allocate: false);
            CallRecord? record = chunk is null ? null : Volatile.Read(ref chunk[i & (ChunkSize - 1)]);
            if (record is not null)
            {
                result.Add(record);
            }
        }
        return result;
    }
}
