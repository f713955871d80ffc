using System.Collections;

namespace Rpyc;

/// <summary>
/// An immutable Python <c>tuple</c>: the brine tuple and the shape of every RPyC argument list.
/// Equality is structural, as in Python.
/// </summary>
public sealed class PyTuple : IReadOnlyList<object?>, IEquatable<PyTuple>, IStructuralEquatable
{
    private readonly object?[] _items;

    /// <summary>The empty tuple <c>()</c>.</summary>
    public static PyTuple Empty { get; } = new([]);

    /// <summary>Creates a tuple of the given items (the array is copied).</summary>
    /// <param name="items">The items, in order.</param>
    public PyTuple(params ReadOnlySpan<object?> items) => _items = items.ToArray();

    private PyTuple(object?[] items, bool owned) => _items = items;

    // Takes ownership of the array: the brine reader builds it and never touches it again.
    internal static PyTuple Wrap(object?[] items) => items.Length == 0 ? Empty : new PyTuple(items, owned: true);

    /// <summary>Creates a tuple from a sequence.</summary>
    /// <param name="items">The items, in order.</param>
    public static PyTuple From(IEnumerable<object?> items) => Wrap(items.ToArray());

    // A call's params array, copied (its caller may reuse it) without LINQ's interface calls.
    internal static PyTuple Copy(object?[] items) => items.Length == 0 ? Empty : new PyTuple(items.AsSpan());

    /// <inheritdoc />
    public object? this[int index] => _items[index];

    /// <inheritdoc />
    public int Count => _items.Length;

    internal ReadOnlySpan<object?> AsSpan() => _items;

    /// <inheritdoc />
    public IEnumerator<object?> GetEnumerator() => ((IEnumerable<object?>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => _items.GetEnumerator();

    /// <inheritdoc />
    public bool Equals(PyTuple? other) => other is not null && PyValue.Equal(this, other);

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is PyTuple t && Equals(t);

    /// <inheritdoc />
    public override int GetHashCode() => PyEquality.HashTuple(_items, setSemantics: false);

    bool IStructuralEquatable.Equals(object? other, IEqualityComparer comparer) => Equals(other);

    int IStructuralEquatable.GetHashCode(IEqualityComparer comparer) => GetHashCode();

    /// <summary>The Python repr of the tuple, e.g. <c>(1, 'a')</c>.</summary>
    public override string ToString() => PyValue.Repr(this);
}
