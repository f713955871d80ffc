using System.Collections;

namespace Rpyc;

/// <summary>
/// An immutable Python <c>frozenset</c>. Items keep the order they arrived in (Python's iteration
/// order, which for strings varies between processes), and duplicates are dropped on creation.
/// Equality ignores order.
/// </summary>
public sealed class PyFrozenSet : IReadOnlyCollection<object?>, IEquatable<PyFrozenSet>
{
    private readonly object?[] _items;

    /// <summary>The empty frozenset.</summary>
    public static PyFrozenSet Empty { get; } = new([]);

    /// <summary>Creates a frozenset from the given items; duplicates are dropped.</summary>
    /// <param name="items">The items.</param>
    public PyFrozenSet(params ReadOnlySpan<object?> items)
    {
        var list = new List<object?>(items.Length);
        foreach (object? item in items)
        {
            if (!list.Exists(x => PyValue.Equal(x, item)))
            {
                list.Add(item);
            }
        }
        _items = list.ToArray();
    }

    /// <inheritdoc />
    public int Count => _items.Length;

    /// <summary>Whether the set holds an item equal to <paramref name="item"/> (Python equality).</summary>
    /// <param name="item">The item to look for.</param>
    public bool Contains(object? item) => Array.Exists(_items, x => PyValue.Equal(x, item));

    internal ReadOnlySpan<object?> AsSpan() => _items;

    /// <inheritdoc />
    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    /// <inheritdoc />
    public bool Equals(PyFrozenSet? other) =>
        other is not null && other.Count == Count && Array.TrueForAll(_items, other.Contains);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is PyFrozenSet s && Equals(s);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        // Order-independent, as Python's frozenset hash is.
        int hash = 0;
        foreach (object? item in _items)
        {
            hash ^= PyValue.Hash(item);
        }
        return hash;
    }

    /// <summary>The Python repr, e.g. <c>frozenset({1, 2})</c>.</summary>
    public override string ToString() => PyValue.Repr(this);
}
