namespace Rpyc.Services;

/// <summary>
/// The methods a connection's last CALLATTR resolved to, by the target's type and the name: a loop
/// calling one method (a ping, a getter polled) then skips the type's exposure lookup and the name's
/// hash. Only names that are never special (not a safe dunder) are kept, whose resolution depends on
/// the type and the connection's options alone. Handlers of one connection may run on several
/// threads: a lookup reads one immutable entry, a miss replaces it.
/// </summary>
internal sealed class CallSiteCache
{
    private volatile Site? _last;

    /// <summary>The overloads <paramref name="name"/> resolved to on <paramref name="type"/>, if it was the last call; the name matches by reference (names are interned as they are read).</summary>
    public MethodPlan[]? Find(Type type, string name) =>
        _last is { } site && site.Type == type && ReferenceEquals(site.Name, name) ? site.Plans : null;

    public void Remember(Type type, string name, MethodPlan[] plans) => _last = new Site(type, name, plans);

    private sealed class Site(Type type, string name, MethodPlan[] plans)
    {
        public Type Type { get; } = type;

        public string Name { get; } = name;

        public MethodPlan[] Plans { get; } = plans;
    }
}
