using System.Buffers;

namespace Rpyc.Channel;

/// <summary>
/// A growable <see cref="IBufferWriter{T}"/> over pooled arrays that can leave room at the front,
/// so a frame's header is filled in after its payload without a second copy.
/// </summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    private byte[] _buffer;
    private readonly int _reserved;
    private int _index;

    public PooledBufferWriter(int reserved = 0, int initialCapacity = 256)
    {
        _reserved = reserved;
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initialCapacity, reserved + 16));
        _index = reserved;
    }

    /// <summary>Bytes written after the reserved prefix.</summary>
    public int WrittenCount => _index - _reserved;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(_reserved, WrittenCount);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(_reserved, WrittenCount);

    /// <summary>The reserved prefix followed by everything written.</summary>
    public Span<byte> WithReserved => _buffer.AsSpan(0, _index);

    public byte[] Buffer => _buffer;

    public int Length => _index;

    public void Reset() => _index = _reserved;

    public void Advance(int count)
    {
        if (count < 0 || _index + count > _buffer.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }
        _index += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_index);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_index);
    }

    private void Ensure(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _index >= needed)
        {
            return;
        }
        long target = Math.Max((long)_buffer.Length * 2, (long)_index + needed);
        byte[] bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(target, Array.MaxLength));
        _buffer.AsSpan(0, _index).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    /// <summary>Swaps a grown buffer for a small one; only between uses.</summary>
    public void Shrink(int capacity)
    {
        byte[] small = ArrayPool<byte>.Shared.Rent(Math.Max(capacity, _reserved + 16));
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = small;
        _index = _reserved;
    }

    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
