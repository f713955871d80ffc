using Rpyc.Services;

namespace Rpyc.Tests;

public sealed class CallSiteCacheTests
{
    // A client alternating between a few methods (get, then set) finds each one kept: no lookup
    // again, and no new entry per call (a cache of the last site alone made one at every switch).
    [Fact]
    public void Alternating_AmongFourSites_FindsEachWithoutAllocating()
    {
        var cache = new CallSiteCache();
        (Type Type, string Name, MethodPlan[] Plans)[] sites =
        [
            (typeof(string), "get", new MethodPlan[1]),
            (typeof(string), "set", new MethodPlan[1]),
            (typeof(int), "get", new MethodPlan[1]),
            (typeof(int), "set", new MethodPlan[1]),
        ];
        foreach (var (type, name, plans) in sites)
        {
            cache.Remember(type, name, plans);
        }
        Lookups(cache, sites, 10);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int found = Lookups(cache, sites, 1000);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(4000, found);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void FifthSite_ForgetsTheOldest()
    {
        var cache = new CallSiteCache();
        var plans = new MethodPlan[5][];
        string[] names = ["a", "b", "c", "d", "e"];
        for (int i = 0; i < 5; i++)
        {
            plans[i] = new MethodPlan[1];
            cache.Remember(typeof(string), names[i], plans[i]);
        }
        Assert.Null(cache.Find(typeof(string), "a"));
        for (int i = 1; i < 5; i++)
        {
            Assert.Same(plans[i], cache.Find(typeof(string), names[i]));
        }
    }

    [Fact]
    public void SameNameOnAnotherType_NotFound()
    {
        var cache = new CallSiteCache();
        cache.Remember(typeof(string), "get", new MethodPlan[1]);
        Assert.Null(cache.Find(typeof(int), "get"));
        // By reference: a name read from the wire is interned; an equal string made otherwise is not that name.
        Assert.Null(cache.Find(typeof(string), new string("get".AsSpan())));
    }

    private static int Lookups(CallSiteCache cache, (Type Type, string Name, MethodPlan[] Plans)[] sites, int rounds)
    {
        int found = 0;
        for (int r = 0; r < rounds; r++)
        {
            foreach (var (type, name, plans) in sites)
            {
                found += ReferenceEquals(cache.Find(type, name), plans) ? 1 : 0;
            }
        }
        return found;
    }
}
