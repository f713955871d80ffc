using Rpyc.Protocol;

namespace Rpyc.Netrefs;

/// <summary>
/// Proxies for the peer's objects, one live proxy per id_pack, each counting how many times the
/// peer boxed that object so one <c>DEL(obj, count)</c> releases them all (wire notes 7.3).
/// </summary>
internal sealed class NetrefCache(RpycConnection connection)
{
    private readonly Dictionary<IdPack, WeakReference<Netref>> _proxies = [];
    // Releases from finalizers: no I/O on the finalizer thread, the next send flushes them. Made on
    // the first one: an empty ConcurrentQueue is a 32-slot segment, 1.4 KB per connection that most
    // connections (a ping, a transfer) never use.
    private System.Collections.Concurrent.ConcurrentQueue<(IdPack Id, long Count)>? _releases;

    [ThreadStatic]
    private static int t_createdOnThisThread;

    /// <summary>Proxies created by this thread so far: the reading thread compares it around an unbox.</summary>
    public static int CreatedOnThisThread => t_createdOnThisThread;

    public Netref GetOrCreate(IdPack id)
    {
        lock (_proxies)
        {
            if (_proxies.TryGetValue(id, out WeakReference<Netref>? weak) && weak.TryGetTarget(out Netref? live) && live.TryAddReference())
            {
                return live;
            }
            var created = new Netref(connection, id);
            _proxies[id] = new WeakReference<Netref>(created);
            t_createdOnThisThread++;
            connection.Observer?.NetrefCreated(connection, id.NamePack, id.InstanceId);
            return created;
        }
    }

    /// <summary>Proxies alive on this side.</summary>
    public int LiveCount
    {
        get
        {
            lock (_proxies)
            {
                int n = 0;
                foreach (WeakReference<Netref> weak in _proxies.Values)
                {
                    if (weak.TryGetTarget(out Netref? live) && !live.IsReleased)
                    {
                        n++;
                    }
                }
                return n;
            }
        }
    }

    // Called once per proxy, from Dispose or the finalizer, after the proxy stopped counting.
    public void Forget(Netref netref, bool fromFinalizer)
    {
        lock (_proxies)
        {
            if (_proxies.TryGetValue(netref.IdPack, out WeakReference<Netref>? weak)
                && (!weak.TryGetTarget(out Netref? current) || ReferenceEquals(current, netref)))
            {
                _proxies.Remove(netref.IdPack);
            }
        }
        connection.Observer?.NetrefReleased(connection, netref.IdPack.NamePack, netref.IdPack.InstanceId);
        if (fromFinalizer)
        {
            LazyInitializer.EnsureInitialized(ref _releases).Enqueue((netref.IdPack, netref.RefCount));
        }
    }

    public bool TryDequeueRelease(out (IdPack Id, long Count) release)
    {
        if (Volatile.Read(ref _releases) is { } releases)
        {
            return releases.TryDequeue(out release);
        }
        release = default;
        return false;
    }

    public bool HasQueuedReleases => Volatile.Read(ref _releases) is { IsEmpty: false };

    // On teardown: every live proxy is abandoned (nothing left to release on a closed connection)
    // and reported released to the observer now rather than whenever a finalizer would have run.
    public void Clear()
    {
        List<Netref> live = [];
        lock (_proxies)
        {
            foreach (WeakReference<Netref> weak in _proxies.Values)
            {
                if (weak.TryGetTarget(out Netref? proxy))
                {
                    live.Add(proxy);
                }
            }
            _proxies.Clear();
        }
        foreach (Netref proxy in live)
        {
            if (proxy.Abandon())
            {
                connection.Observer?.NetrefReleased(connection, proxy.IdPack.NamePack, proxy.IdPack.InstanceId);
            }
        }
        Volatile.Read(ref _releases)?.Clear();
    }
}
