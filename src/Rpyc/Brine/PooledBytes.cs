using System.Buffers;

namespace Rpyc;

/// <summary>
/// A received Python <c>bytes</c> value lent from <see cref="ArrayPool{T}.Shared"/> instead of
/// allocated: what a large value arrives as when <see cref="RpycConnectOptions.PooledBytesThreshold"/>
/// is set, or what a service method takes as a parameter to own a large argument. Dispose it once
/// the bytes are no longer needed, so the array goes back to the pool; a lease never disposed is
/// simply collected. It can be sent back as a <c>bytes</c> value while not disposed.
/// </summary>
/// <remarks>
/// Values of 85,000 bytes and more would otherwise each be a new array on the large object heap,
/// which only a gen-2 collection frees: repeated megabyte transfers then spend more time in the GC
/// than on the wire. A lease is not thread-safe beyond <see cref="Dispose"/>.
/// </remarks>
/// <example>
/// <code>
/// var options = new RpycConnectOptions { PooledBytesThreshold = 64 * 1024 };
/// using var conn = RpycConnection.Connect("127.0.0.1", 18861, options);
/// using var data = (PooledBytes)conn.RootNetref.CallMethod("download", 1 &lt;&lt; 20)!;
/// Process(data.Span);
/// </code>
/// </example>
public sealed class PooledBytes : IDisposable
{
    private byte[]? _array;
    private bool _pooled;
    private bool _handedOff;
    private bool _detached;

    internal PooledBytes(byte[] array, int length, bool pooled)
    {
        _array = array;
        Length = length;
        _pooled = pooled;
    }

    /// <summary>Rents an array and copies <paramref name="source"/> into it.</summary>
    internal static PooledBytes CopyOf(ReadOnlySequence<byte> source)
    {
        int length = checked((int)source.Length);
        byte[] array = ArrayPool<byte>.Shared.Rent(length);
        source.CopyTo(array);
        return new PooledBytes(array, length, pooled: true);
    }

    /// <summary>The number of bytes.</summary>
    public int Length { get; }

    /// <summary>Whether the lease has been disposed (its memory may now belong to someone else).</summary>
    public bool IsDisposed => Volatile.Read(ref _array) is null;

    /// <summary>The bytes, valid until the lease is disposed.</summary>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    public ReadOnlyMemory<byte> Memory => new(Array, 0, Length);

    /// <summary>The bytes, valid until the lease is disposed.</summary>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    public ReadOnlySpan<byte> Span => new(Array, 0, Length);

    private byte[] Array => Volatile.Read(ref _array) ?? throw new ObjectDisposedException(nameof(PooledBytes), "The pooled bytes were disposed: their array is back in the pool.");

    /// <summary>Copies the bytes into a new array.</summary>
    /// <returns>A new array of <see cref="Length"/> bytes.</returns>
    /// <exception cref="ObjectDisposedException">The lease has been disposed.</exception>
    public byte[] ToArray() => Span.ToArray();

    /// <summary>
    /// The bytes as a <c>byte[]</c> of exactly <see cref="Length"/> for a receiver that keeps them:
    /// the rented array itself when it has that size (it then leaves the pool for good), else a copy.
    /// The lease stays readable either way.
    /// </summary>
    internal byte[] Detach()
    {
        byte[] array = Array;
        if (array.Length == Length)
        {
            _detached = _pooled;
            _pooled = false;
            return array;
        }
        return ToArray();
    }

    /// <summary>Whether the lease's array goes back to the pool when it is disposed.</summary>
    internal bool ReturnsToPool => _pooled;

    /// <summary>
    /// Undoes <see cref="HandOff"/> and <see cref="Detach"/> of a binding that failed: the overload
    /// that took the lease or its array is not called, so the connection owns it again and returns
    /// it to the pool after the request (before, it was only collected). No receiver kept anything:
    /// binding only converts.
    /// </summary>
    internal void Reclaim()
    {
        _handedOff = false;
        if (_detached)
        {
            _pooled = true;
            _detached = false;
        }
    }

    /// <summary>Whether a receiver now owns the lease (a service parameter of this type): the connection no longer returns it.</summary>
    internal bool HandedOff => _handedOff;

    internal PooledBytes HandOff()
    {
        _handedOff = true;
        return this;
    }

    /// <summary>Returns the array to the pool. Safe to call more than once.</summary>
    public void Dispose()
    {
        byte[]? array = Interlocked.Exchange(ref _array, null);
        if (array is not null && _pooled)
        {
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    /// <inheritdoc />
    public override string ToString() => IsDisposed ? "PooledBytes(disposed)" : $"PooledBytes({Length} bytes)";
}
