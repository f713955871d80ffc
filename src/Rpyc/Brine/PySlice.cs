namespace Rpyc;

/// <summary>A Python <c>slice(start, stop, step)</c>; each part is any brine value, usually an int or <c>null</c>.</summary>
/// <param name="Start">The start, or <c>null</c> for None.</param>
/// <param name="Stop">The stop, or <c>null</c> for None.</param>
/// <param name="Step">The step, or <c>null</c> for None.</param>
public sealed record PySlice(object? Start, object? Stop, object? Step)
{
    /// <inheritdoc />
    public bool Equals(PySlice? other) =>
        other is not null && PyValue.Equal(Start, other.Start) && PyValue.Equal(Stop, other.Stop) && PyValue.Equal(Step, other.Step);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(PyValue.Hash(Start), PyValue.Hash(Stop), PyValue.Hash(Step));

    /// <summary>The Python repr, e.g. <c>slice(1, None, None)</c>.</summary>
    public override string ToString() => PyValue.Repr(this);
}

/// <summary>Python's <c>Ellipsis</c> (<c>...</c>) singleton.</summary>
public sealed class PyEllipsis
{
    private PyEllipsis()
    {
    }

    /// <summary>The only instance.</summary>
    public static PyEllipsis Instance { get; } = new();

    /// <summary>Returns <c>Ellipsis</c>.</summary>
    public override string ToString() => "Ellipsis";
}

/// <summary>Python's <c>NotImplemented</c> singleton.</summary>
public sealed class PyNotImplemented
{
    private PyNotImplemented()
    {
    }

    /// <summary>The only instance.</summary>
    public static PyNotImplemented Instance { get; } = new();

    /// <summary>Returns <c>NotImplemented</c>.</summary>
    public override string ToString() => "NotImplemented";
}
