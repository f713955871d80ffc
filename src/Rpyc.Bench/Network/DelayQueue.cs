using System.Buffers;

namespace Rpyc.Bench;

/// <summary>What a relayed chunk carries: bytes, the end of the stream, or a reset.</summary>
internal enum ChunkKind
{
    Data,
    Fin,
    Reset,
}

/// <summary>One chunk in flight: a pooled buffer (for data), its length and when it is due.</summary>
internal readonly record struct Chunk(ChunkKind Kind, byte[]? Buffer, int Length, long Due);

/// <summary>
/// The chunks of one direction between the reader that stamps them and the writer that delivers them,
/// in order. Bounded in bytes: a chunk counts from enqueue until <see cref="Release"/> after delivery,
/// and the reader blocks while the bound is reached, so the sender's TCP window closes as it would
/// behind a full link instead of the relay buffering without limit. Buffers are pooled.
/// </summary>
internal sealed class DelayQueue
{
    private readonly object _gate = new();
    private readonly Queue<Chunk> _chunks = new();
    private readonly long _capacityBytes;
    private long _bytes;
    private bool _closed;

    /// <param name="capacityBytes">Bytes in flight past which the reader blocks.</param>
    public DelayQueue(long capacityBytes) => _capacityBytes = capacityBytes;

    /// <summary>The largest number of bytes that were in flight at once.</summary>
    public long PeakBytes { get; private set; }

    /// <summary>Adds a chunk, blocking while the queue is full; false (and the buffer returned) once closed.</summary>
    public bool Enqueue(Chunk chunk)
    {
        lock (_gate)
        {
            // An empty queue always takes a chunk, so a chunk larger than the bound cannot wedge it.
            while (!_closed && _bytes > 0 && _bytes + chunk.Length > _capacityBytes)
            {
                Monitor.Wait(_gate);
            }
            if (_closed)
            {
                Return(chunk);
                return false;
            }
            _chunks.Enqueue(chunk);
            _bytes += chunk.Length;
            PeakBytes = Math.Max(PeakBytes, _bytes);
            Monitor.PulseAll(_gate);
            return true;
        }
    }

    /// <summary>Takes the next chunk, blocking while none is queued; false once closed.</summary>
    public bool TryDequeue(out Chunk chunk)
    {
        lock (_gate)
        {
            while (!_closed && _chunks.Count == 0)
            {
                Monitor.Wait(_gate);
            }
            if (_closed)
            {
                chunk = default;
                return false;
            }
            chunk = _chunks.Dequeue();
            return true;
        }
    }

    /// <summary>Ends a dequeued chunk's flight: frees its bytes and returns its buffer.</summary>
    public void Release(Chunk chunk)
    {
        Return(chunk);
        lock (_gate)
        {
            _bytes -= chunk.Length;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Wakes both sides for good and returns the buffers still queued.</summary>
    public void Close()
    {
        lock (_gate)
        {
            _closed = true;
            while (_chunks.TryDequeue(out Chunk chunk))
            {
                Return(chunk);
            }
            Monitor.PulseAll(_gate);
        }
    }

    private static void Return(Chunk chunk)
    {
        if (chunk.Buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(chunk.Buffer);
        }
    }
}
