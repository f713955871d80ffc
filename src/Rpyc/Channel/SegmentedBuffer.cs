using System.Buffers;
using System.Numerics;

namespace Rpyc.Channel;

/// <summary>
/// Bytes of one connection held as a chain of arrays, filled at the end and consumed at the front:
/// the receive buffer, and the output of inflating a compressed frame. It grows one segment at a
/// time as bytes actually arrive (never to the size a header announces), each new segment at most
/// doubling what is held, so memory stays within about twice the bytes received. Segments past the
/// first are counted in a <see cref="RpycMemoryBudget"/>; when the budget is spent the buffer throws
/// <see cref="RpycProtocolException"/> and the connection closes. Consumed segments are kept for the
/// next message (so large messages in steady state allocate nothing), and only while the budget has
/// room: up to a limit, or as much as the last message took while messages keep taking more than the
/// limit. Only the thread holding the connection's reader role touches it.
/// </summary>
internal sealed class SegmentedBuffer : IDisposable
{
    /// <summary>The first segment of a receive buffer, never counted: below the 85,000-byte large-object threshold.</summary>
    public const int BaseSize = 64 * 1024;

    /// <summary>No segment is larger: a frame of tens of MiB is many segments, never one huge array.</summary>
    public const int MaxSegmentSize = 1024 * 1024;

    private const int MinSegmentSize = 4 * 1024;

    // Below this much free room at the tail, a read that needs more gets a new segment (or a compaction).
    private const int MinFree = 4 * 1024;

    private readonly RpycMemoryBudget _budget;
    private readonly long _retainLimit;
    private readonly string _purpose;
    private readonly Segment? _base;
    private readonly Stack<Segment> _spares = new();
    private Segment _head;
    private Segment _tail;
    private int _start;
    private bool _baseIdle;
    private long _accounted;
    private long _capacity;
    private bool _disposed;

    // Counted segments handed out (new or reused) since the last idle trim: what the last messages took.
    private long _takenSinceIdle;

    // Counted bytes an idle trim keeps: the retain limit, or more while messages keep needing more.
    private long _keep;
    private LargeBufferRetention _retention;

    /// <param name="budget">Where segments past the base are counted.</param>
    /// <param name="withBase">Keep an uncounted <see cref="BaseSize"/> segment for the connection's life (the receive buffer).</param>
    /// <param name="retainLimit">Counted bytes kept for the next message at most.</param>
    /// <param name="purpose">What the bytes are, for the budget error ("a frame", "an inflated frame").</param>
    public SegmentedBuffer(RpycMemoryBudget budget, bool withBase, long retainLimit, string purpose)
    {
        _budget = budget;
        _retainLimit = retainLimit;
        _keep = retainLimit;
        _purpose = purpose;
        if (withBase)
        {
            _base = new Segment(ArrayPool<byte>.Shared.Rent(BaseSize), accounted: false);
            _capacity = _base.Array.Length;
            _head = _tail = _base;
        }
        else
        {
            _head = _tail = Segment.Empty;
        }
    }

    /// <summary>Bytes written and not yet consumed.</summary>
    public long Length => _tail.RunningIndex + _tail.Written - _head.RunningIndex - _start;

    /// <summary>Bytes of this buffer counted in the budget (in use or kept for the next message).</summary>
    public long Accounted => _accounted;

    /// <summary>The unconsumed bytes; valid until the next call that writes, consumes or trims.</summary>
    public ReadOnlySequence<byte> Sequence => ReferenceEquals(_head, _tail)
        ? new ReadOnlySequence<byte>(_head.Array, _start, _head.Written - _start)
        : new ReadOnlySequence<byte>(_head, _start, _tail, _tail.Written);

    /// <summary>
    /// Free room at the end, at least one byte: the tail's, or a new segment sized for
    /// <paramref name="wanted"/> more bytes (at most doubling what is held, at most <see cref="MaxSegmentSize"/>).
    /// </summary>
    /// <exception cref="RpycProtocolException">The budget cannot cover a new segment.</exception>
    public Span<byte> GetSpan(long wanted)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        int free = _tail.Free;
        if (free >= MinFree || (free > 0 && free >= wanted))
        {
            return _tail.Array.AsSpan(_tail.Written);
        }
        // A partial frame at the end of a lone segment moves to its front when that is cheap.
        if (ReferenceEquals(_head, _tail) && _start > 0 && _head.Written - _start <= _head.Array.Length / 4)
        {
            _head.MoveToFront(_start);
            _start = 0;
            return _tail.Array.AsSpan(_tail.Written);
        }
        Segment next = TakeSegment(wanted);
        if (ReferenceEquals(_tail, Segment.Empty))
        {
            next.RunningIndex = 0;
            _head = _tail = next;
            _start = 0;
        }
        else
        {
            _tail.Link(next);
            _tail = next;
        }
        return next.Array.AsSpan();
    }

    public void Commit(int count) => _tail.Commit(count);

    /// <summary>Drops <paramref name="count"/> bytes from the front; segments emptied go back for reuse.</summary>
    public void Consume(long count)
    {
        while (count > 0)
        {
            int inHead = _head.Written - _start;
            if (count < inHead || ReferenceEquals(_head, _tail))
            {
                _start += (int)Math.Min(count, inHead);
                break;
            }
            count -= inHead;
            Segment done = _head;
            _head = (Segment)done.Next!;
            _start = 0;
            Recycle(done);
        }
        if (ReferenceEquals(_head, _tail) && _start == _head.Written)
        {
            Clear();
        }
    }

    /// <summary>Consumes everything; the buffer keeps one segment to write into.</summary>
    public void Clear()
    {
        for (Segment s = _head; !ReferenceEquals(s, _tail);)
        {
            var next = (Segment)s.Next!;
            Recycle(s);
            s = next;
        }
        if (_base is not null && !ReferenceEquals(_tail, _base))
        {
            Recycle(_tail);
            _baseIdle = false;
            _tail = _base;
        }
        _head = _tail;
        _head.Reset();
        _start = 0;
    }

    /// <summary>
    /// Called when nothing is buffered: keeps the counted segments for the next message while the
    /// budget is less than half used, up to the retain limit or, while messages keep taking more than
    /// that, up to what the last one took; else gives them back.
    /// </summary>
    /// <remarks>
    /// Keeping only the retain limit (8 MiB) made every 64 MiB frame allocate and page in 56 MiB of
    /// fresh large-object-heap segments: 64 MiB transfers ran at 0.1-0.2x raw TCP while 8 MiB ones
    /// ran at 0.85x (0.77x / 0.85x now).
    /// </remarks>
    public void TrimIdle()
    {
        if (_accounted == 0 || Length != 0)
        {
            return;
        }
        if (_takenSinceIdle > _retainLimit)
        {
            _keep = _takenSinceIdle;
        }
        if (_retention.ShouldShrink(_keep, _takenSinceIdle, _retainLimit))
        {
            _keep = _retainLimit;
        }
        _takenSinceIdle = 0;
        bool keep = _budget.RoomToRetain;
        while (_spares.Count > 0 && (!keep || _accounted > _keep))
        {
            Free(_spares.Pop());
        }
        if (!keep && _head.Accounted)
        {
            // An inflate buffer's last segment.
            Free(_head);
            _head = _tail = Segment.Empty;
            _start = 0;
        }
    }

    private Segment TakeSegment(long wanted)
    {
        if (_baseIdle)
        {
            _baseIdle = false;
            _base!.Reset();
            return _base;
        }
        if (_spares.TryPop(out Segment? spare))
        {
            spare.Reset();
            _takenSinceIdle += spare.Array.Length;
            return spare;
        }
        long cap = Math.Min(Math.Max(BaseSize, _capacity), MaxSegmentSize);
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)Math.Clamp(wanted, MinSegmentSize, cap));
        if (!_budget.TryReserve(size))
        {
            throw ProtocolErrors.Budget(
                $"{size} more bytes for {_purpose} ({Length} buffered) would take the memory budget past its capacity: " +
                $"{_budget} (RpycConnectOptions.MemoryBudget)");
        }
        _accounted += size;
        _capacity += size;
        _takenSinceIdle += size;
        // Small segments come from the shared pool; larger ones are plain arrays, so that memory given
        // back goes to the GC rather than into a process-wide cache (this connection keeps its own).
        byte[] array = size <= BaseSize ? ArrayPool<byte>.Shared.Rent(size) : GC.AllocateUninitializedArray<byte>(size);
        return new Segment(array, accounted: true);
    }

    private void Recycle(Segment segment)
    {
        segment.Reset();
        if (ReferenceEquals(segment, _base))
        {
            _baseIdle = true;
        }
        else if (!ReferenceEquals(segment, Segment.Empty))
        {
            _spares.Push(segment);
        }
    }

    private void Free(Segment segment)
    {
        _accounted -= segment.Array.Length;
        _capacity -= segment.Array.Length;
        _budget.Release(segment.Array.Length);
        if (segment.Array.Length <= BaseSize)
        {
            ArrayPool<byte>.Shared.Return(segment.Array);
        }
    }

    /// <summary>Gives every segment back and releases the budget. Only from the reader role, or once no reader can run.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        for (Segment? s = _head; s is not null; s = (Segment?)s.Next)
        {
            if (s.Accounted)
            {
                Free(s);
            }
        }
        while (_spares.TryPop(out Segment? spare))
        {
            Free(spare);
        }
        if (_base is not null)
        {
            ArrayPool<byte>.Shared.Return(_base.Array);
        }
        _head = _tail = Segment.Empty;
        _start = 0;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public static readonly Segment Empty = new([], accounted: false);

        public Segment(byte[] array, bool accounted)
        {
            Array = array;
            Accounted = accounted;
        }

        public byte[] Array { get; }

        public bool Accounted { get; }

        public int Written { get; private set; }

        public int Free => Array.Length - Written;

        public new long RunningIndex
        {
            get => base.RunningIndex;
            set => base.RunningIndex = value;
        }

        public void Commit(int count)
        {
            Written += count;
            Memory = Array.AsMemory(0, Written);
        }

        public void Link(Segment next)
        {
            next.RunningIndex = RunningIndex + Written;
            Next = next;
        }

        public void MoveToFront(int start)
        {
            Array.AsSpan(start, Written - start).CopyTo(Array);
            Written -= start;
            Memory = Array.AsMemory(0, Written);
        }

        public void Reset()
        {
            if (Array.Length == 0)
            {
                // Empty is shared by every buffer: never written.
                return;
            }
            Written = 0;
            Memory = default;
            Next = null;
            RunningIndex = 0;
        }
    }
}
