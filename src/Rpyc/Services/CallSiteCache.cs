namespace Rpyc.Services;

/// <summary>
/// The methods a connection's last CALLATTRs resolved to, by the target's type and the name: a loop
/// calling one method (a ping, a getter polled), or a few in turn (get, then set), then skips the
/// type's exposure lookup and the name's hash. Only names that are never special (not a safe dunder)
/// are kept, whose resolution depends on the type and the connection's options alone. Handlers of
/// one connection may run on several threads: an entry is immutable, and a race between two threads
/// costs at most a miss (a lookup done again), never a wrong method.
/// </summary>
internal sealed class CallSiteCache
{
    // The last few sites, so that a client alternating between up to this many methods finds each
    // without a new entry per call (one entry for the last site only made ~40 B a call then).
    private const int Recent = 4;

    private readonly Site?[] _recent = new Site?[Recent];
    private volatile Site? _last;
    private int _next;

    /// <summary>The overloads <paramref name="name"/> resolved to on <paramref name="type"/>, if it was one of the last few calls; the name matches by reference (names are interned as they are read).</summary>
    public MethodPlan[]? Find(Type type, string name)
    {
        if (_last is { } last && last.Matches(type, name))
        {
            return last.Plans;
        }
        foreach (Site? site in _recent)
        {
            if (site is not null && site.Matches(type, name))
            {
                _last = site;
                return site.Plans;
            }
        }
        return null;
    }

    public void Remember(Type type, string name, MethodPlan[] plans)
    {
        var site = new Site(type, name, plans);
        // The oldest entry goes; two threads remembering at once may both write one slot, and the
        // loser is looked up again on its next call.
        int slot = _next;
        _next = (slot + 1) % Recent;
        _recent[slot] = site;
        _last = site;
    }

    private sealed class Site(Type type, string name, MethodPlan[] plans)
    {
        public MethodPlan[] Plans { get; } = plans;

        public bool Matches(Type t, string n) => type == t && ReferenceEquals(name, n);
    }
}
