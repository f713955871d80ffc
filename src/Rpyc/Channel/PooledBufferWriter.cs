using System.Buffers;

namespace Rpyc.Channel;

/// <summary>
/// A growable <see cref="IBufferWriter{T}"/> over pooled arrays that can leave room at the front,
/// so a frame's header is filled in after its payload without a second copy. Arrays up to
/// <see cref="PooledUpTo"/> come from the shared pool; larger ones are allocated at the size needed
/// and dropped when given back, so a 40 MiB message neither takes a 64 MiB power-of-two array nor
/// leaves one cached in the process-wide pool after the connection has let it go.
/// </summary>
internal sealed class PooledBufferWriter : IBufferWriter<byte>, IDisposable
{
    public const int PooledUpTo = 1024 * 1024;

    private byte[] _buffer;
    private readonly int _reserved;
    private int _index;

    public PooledBufferWriter(int reserved = 0, int initialCapacity = 256)
    {
        _reserved = reserved;
        _buffer = Rent(Math.Max(initialCapacity, reserved + 16));
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
        byte[] bigger = Rent((int)Math.Min(target, Array.MaxLength));
        _buffer.AsSpan(0, _index).CopyTo(bigger);
        Return(_buffer);
        _buffer = bigger;
    }

    /// <summary>Swaps a grown buffer for a small one; only between uses.</summary>
    public void Shrink(int capacity)
    {
        byte[] small = Rent(Math.Max(capacity, _reserved + 16));
        Return(_buffer);
        _buffer = small;
        _index = _reserved;
    }

    public void Dispose()
    {
        byte[] buffer = _buffer;
        _buffer = [];
        if (buffer.Length > 0)
        {
            Return(buffer);
        }
    }

    private static byte[] Rent(int size) =>
        size <= PooledUpTo ? ArrayPool<byte>.Shared.Rent(size) : GC.AllocateUninitializedArray<byte>(size);

    private static void Return(byte[] array)
    {
        if (array.Length <= PooledUpTo)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }
}
