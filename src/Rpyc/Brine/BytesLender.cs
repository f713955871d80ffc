using System.Buffers;

namespace Rpyc.Brine;

/// <summary>
/// Decides which <c>bytes</c> values a load lends as <see cref="PooledBytes"/> instead of allocating,
/// and keeps the leases of the message being read so that its receiver can return them. One per
/// connection, used by the thread holding the reader role: <see cref="Take"/> hands a message's
/// leases over before the role is released.
/// </summary>
internal sealed class BytesLender
{
    private List<PooledBytes>? _leases;

    /// <summary>Values of at least this many bytes are lent; 0 or less lends none.</summary>
    public int Threshold { get; set; }

    public bool Lends(int length) => Threshold > 0 && length >= Threshold;

    public PooledBytes Lend(ReadOnlySequence<byte> source)
    {
        PooledBytes lease = PooledBytes.CopyOf(source);
        (_leases ??= []).Add(lease);
        return lease;
    }

    /// <summary>The leases made since the last call, or <c>null</c> (the common case allocates nothing).</summary>
    public List<PooledBytes>? Take()
    {
        List<PooledBytes>? leases = _leases;
        _leases = null;
        return leases;
    }

    /// <summary>Returns every lease made since the last <see cref="Take"/> (a load that failed half-way).</summary>
    public void ReleaseAll() => Release(Take());

    /// <summary>Returns the leases no receiver took (<see cref="PooledBytes.HandedOff"/>).</summary>
    public static void Release(List<PooledBytes>? leases)
    {
        if (leases is null)
        {
            return;
        }
        foreach (PooledBytes lease in leases)
        {
            if (!lease.HandedOff)
            {
                lease.Dispose();
            }
        }
    }

    /// <summary>
    /// <paramref name="value"/> with every lease in it, at any depth, replaced by a <c>byte[]</c>:
    /// what code that never asked for a lease sees (it may keep the value past the request).
    /// </summary>
    /// <remarks>Every container <see cref="BrineReader"/> can nest a value in is walked: a lease
    /// left in one would go back to the pool after the reply while its receiver still holds it.</remarks>
    public static object? Settle(object? value) => value switch
    {
        PooledBytes lease => lease.Detach(),
        PyTuple tuple => SettleItems(tuple, keepTopLevel: false),
        PyFrozenSet set => SettleSet(set),
        PySlice slice => SettleSlice(slice),
        _ => value,
    };

    /// <summary>
    /// Call arguments as a service binds them: leases that are arguments themselves stay (a
    /// parameter's type decides, see ValueBinder), those nested in tuples are settled.
    /// </summary>
    public static PyTuple SettleNested(PyTuple args) => SettleItems(args, keepTopLevel: true);

    private static PyFrozenSet SettleSet(PyFrozenSet set)
    {
        ReadOnlySpan<object?> items = set.AsSpan();
        object?[]? settled = null;
        for (int i = 0; i < items.Length; i++)
        {
            object? after = Settle(items[i]);
            if (!ReferenceEquals(after, items[i]))
            {
                settled ??= items.ToArray();
                settled[i] = after;
            }
        }
        return settled is null ? set : new PyFrozenSet(settled);
    }

    private static PySlice SettleSlice(PySlice slice)
    {
        object? start = Settle(slice.Start);
        object? stop = Settle(slice.Stop);
        object? step = Settle(slice.Step);
        return ReferenceEquals(start, slice.Start) && ReferenceEquals(stop, slice.Stop) && ReferenceEquals(step, slice.Step)
            ? slice
            : new PySlice(start, stop, step);
    }

    private static PyTuple SettleItems(PyTuple tuple, bool keepTopLevel)
    {
        ReadOnlySpan<object?> items = tuple.AsSpan();
        object?[]? settled = null;
        for (int i = 0; i < items.Length; i++)
        {
            object? item = items[i];
            object? after = keepTopLevel && item is PooledBytes ? item : Settle(item);
            if (!ReferenceEquals(after, item) && settled is null)
            {
                settled = items.ToArray();
            }
            if (settled is not null)
            {
                settled[i] = after;
            }
        }
        return settled is null ? tuple : PyTuple.Wrap(settled);
    }
}
