namespace Rpyc.Telemetry;

/// <summary>
/// Append-only, lock-free, bounded log of operations (StackExchange.Redis ProfilingSession keeps
/// its commands the same way): a writer claims a slot with one Interlocked.Increment and publishes
/// the record with a volatile write; chunks are allocated on first use.
/// </summary>
internal sealed class RecordLog
{
    private const int ChunkShift = 10;
    private const int ChunkSize = 1 << ChunkShift;

    private readonly CallRecord?[]?[] _chunks;
    private readonly long _capacity;
    private long _claimed;

    public RecordLog(int capacity)
    {
        _capacity = capacity;
        // In long: capacity + ChunkSize - 1 overflows an int from int.MaxValue - 1022 up ("keep everything").
        _chunks = new CallRecord?[]?[(int)((capacity + (long)ChunkSize - 1) >> ChunkShift)];
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
        int chunkIndex = (int)(index >> ChunkShift);
        CallRecord?[] chunk = Volatile.Read(ref _chunks[chunkIndex]) ?? AllocateChunk(chunkIndex);
        Volatile.Write(ref chunk[index & (ChunkSize - 1)], record);
    }

    private CallRecord?[] AllocateChunk(int chunkIndex)
    {
        var fresh = new CallRecord?[ChunkSize];
        return Interlocked.CompareExchange(ref _chunks[chunkIndex], fresh, null) ?? fresh;
    }

    /// <summary>The records kept so far, in start order; a slot claimed but not yet published is skipped.</summary>
    public List<CallRecord> Snapshot()
    {
        long count = Math.Min(Claimed, _capacity);
        var result = new List<CallRecord>((int)Math.Min(count, 1 << 16));
        for (long i = 0; i < count; i++)
        {
            CallRecord?[]? chunk = Volatile.Read(ref _chunks[(int)(i >> ChunkShift)]);
            CallRecord? record = chunk is null ? null : Volatile.Read(ref chunk[i & (ChunkSize - 1)]);
            if (record is not null)
            {
                result.Add(record);
            }
        }
        return result;
    }
}
