namespace Rpyc.Services;

/// <summary>A method of a local object, as returned to a peer's GETATTR; the peer calls it with CALL.</summary>
internal sealed class BoundMethod(object? target, MemberGroup overloads, string name)
{
    public object? Target { get; } = target;

    public MethodPlan[] Overloads => overloads.Plans;

    public string Name { get; } = name;

    public override string ToString() => $"<bound method {Target?.GetType().Name}.{Name}>";
}

/// <summary>A local iterator handed to the peer for <c>__iter__</c>; answers <c>__next__</c>.</summary>
internal sealed class LocalIterator(System.Collections.IEnumerator enumerator)
{
    public object? Next()
    {
        if (!enumerator.MoveNext())
        {
            throw Protocol.StopIterationException.Instance;
        }
        return enumerator.Current;
    }

    public override string ToString() => "<iterator>";
}
