using System.Collections;

namespace Rpyc;

/// <summary>
/// An immutable Python <c>frozenset</c>. Items keep the order they arrived in (Python's iteration
/// order, which for strings varies between processes), and duplicates are dropped on creation.
/// Equality ignores order.
/// </summary>
/// <remarks>
/// Membership follows a Python set: numbers compare across types (<c>1</c>, <c>1.0</c> and
/// <c>True</c> are one member, the first kept), <c>-0.0</c> and <c>0.0</c> are one member, and
/// NaNs are never equal to one another, so every NaN stays a member with its bit pattern.
/// Creation, <see cref="Contains"/> and equality are hash-based: linear in the size of the set.
/// </remarks>
public sealed class PyFrozenSet : IReadOnlyCollection<object?>, IEquatable<PyFrozenSet>
{
    private readonly object?[] _items;
    private readonly HashSet<object?> _lookup;
    private readonly int _hash;

    /// <summary>The empty frozenset.</summary>
    public static PyFrozenSet Empty { get; } = new([]);

    /// <summary>Creates a frozenset from the given items; duplicates are dropped.</summary>
    /// <param name="items">The items.</param>
    public PyFrozenSet(params ReadOnlySpan<object?> items)
    {
        _lookup = new HashSet<object?>(items.Length, PySetComparer.Instance);
        var kept = new object?[items.Length];
        int count = 0;
        int hash = 0;
        foreach (object? item in items)
        {
            if (_lookup.Add(item))
            {
                kept[count++] = item;
                // Order-independent, as Python's frozenset hash is; the extra mixing keeps sets
                // that differ by a pair of equal-hash members from colliding (Python's _shuffle_bits).
                hash += HashCode.Combine(PySetComparer.Instance.GetHashCode(item), 0x5f3759df);
            }
        }
        _items = count == kept.Length ? kept : kept[..count];
        _hash = hash;
    }

    /// <inheritdoc />
    public int Count => _items.Length;

    /// <summary>Whether the set holds an item equal to <paramref name="item"/> (Python set membership).</summary>
    /// <param name="item">The item to look for.</param>
    public bool Contains(object? item) => _lookup.Contains(item);

    internal ReadOnlySpan<object?> AsSpan() => _items;

    internal bool SetEquals(PyFrozenSet other)
    {
        if (ReferenceEquals(this, other))
        {
            return true;
        }
        if (other.Count != Count || other._hash != _hash)
        {
            return false;
        }
        foreach (object? item in _items)
        {
            if (!other._lookup.Contains(item))
            {
                return false;
            }
        }
        return true;
    }

    /// <inheritdoc />
    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    /// <inheritdoc />
    public bool Equals(PyFrozenSet? other) => other is not null && SetEquals(other);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is PyFrozenSet s && SetEquals(s);

    /// <inheritdoc />
    public override int GetHashCode() => _hash;

    /// <summary>The Python repr, e.g. <c>frozenset({1, 2})</c>.</summary>
    public override string ToString() => PyValue.Repr(this);
}
