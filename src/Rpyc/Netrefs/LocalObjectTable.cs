using System.Collections.Concurrent;
using Rpyc.Protocol;

namespace Rpyc.Netrefs;

/// <summary>
/// Objects this side has passed by reference, each with the number of times it was boxed
/// (lib/colls.py RefCountingColl). The table keeps them alive until the peer releases them.
/// </summary>
internal sealed class LocalObjectTable
{
    // Keyed by the instance id alone, which this table hands out once each: hashing the whole id
    // pack hashed its name_pack string on every request that names a local object (each call on
    // the root), a tenth of a ping's server time. Get still checks the rest of the pack.
    // Get reads it without the lock (every request on the root looks up the root: the lock was a
    // tenth of a ping's server-side work with the table's other costs gone); Add, Release and Clear
    // change it and _byObject together under _lock.
    // One lock stripe, room for a few objects: every write is under _lock anyway, and the default
    // (a stripe per CPU, 31 buckets) cost each new connection ~760 B more on the 2-vCPU VM (the
    // connect + first call benchmarks allocate a table on each side) and a lock object per CPU on
    // a large machine, for a table that on most connections holds the root service alone.
    private readonly ConcurrentDictionary<long, Entry> _byId = new(concurrencyLevel: 1, capacity: 4);
    private readonly object _lock = new();
    private readonly Dictionary<object, IdPack> _byObject = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Type, long> _classIds = [];
    private long _nextInstanceId;
    private long _removals;

    private sealed class Entry(IdPack id, object value)
    {
        public IdPack Id { get; } = id;

        public object Value { get; } = value;

        public long Count { get; set; }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byId.Count;
            }
        }
    }

    /// <summary>
    /// How many times an object left the table (released, or the table cleared). Instance ids are
    /// never reused, so an id pack resolved while this stays the same still names the same object.
    /// </summary>
    public long Removals => Volatile.Read(ref _removals);

    public IdPack Add(object value, out bool exported)
    {
        exported = false;
        lock (_lock)
        {
            if (!_byObject.TryGetValue(value, out IdPack id))
            {
                exported = true;
                id = new IdPack(NamePack(value), ClassId(value.GetType()), ++_nextInstanceId);
                _byObject[value] = id;
                _byId[id.InstanceId] = new Entry(id, value);
            }
            _byId[id.InstanceId].Count++;
            return id;
        }
    }

    public object Get(IdPack id)
    {
        return _byId.TryGetValue(id.InstanceId, out Entry? entry) && entry.Id == id
            ? entry.Value
            : throw new KeyNotFoundException(id.ToString());
    }

    public bool TryGetId(object value, out IdPack id)
    {
        lock (_lock)
        {
            return _byObject.TryGetValue(value, out id);
        }
    }

    // protocol.py _handle_del: decref by count, drop at zero.
    /// <summary>Drops <paramref name="count"/> references; returns the id when the object left the table.</summary>
    public IdPack? Release(object? value, long count)
    {
        lock (_lock)
        {
            if (value is null || !_byObject.TryGetValue(value, out IdPack id))
            {
                throw new KeyNotFoundException($"no local object {value}");
            }
            Entry entry = _byId[id.InstanceId];
            entry.Count -= count;
            if (entry.Count <= 0)
            {
                _byId.TryRemove(id.InstanceId, out _);
                _byObject.Remove(value);
                Volatile.Write(ref _removals, _removals + 1);
                return id;
            }
            return null;
        }
    }

    public void Clear()
    {
        lock (_lock)
        {
            _byId.Clear();
            _byObject.Clear();
            Volatile.Write(ref _removals, _removals + 1);
        }
    }

    // Callables use Python's built-in names, so a Python peer builds its proxy without an INSPECT
    // round trip (wire notes 7.1 and pitfall 8).
    private static string NamePack(object value) => value switch
    {
        Delegate => "builtins.function",
        Services.BoundMethod => "builtins.method",
        _ => TypeName(value.GetType()),
    };

    private static string TypeName(Type type)
    {
        string name = type.Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        if (tick >= 0)
        {
            name = name[..tick];
        }
        return string.IsNullOrEmpty(type.Namespace) ? name : $"{type.Namespace}.{name}";
    }

    // Small sequential ids per type, never 0 for an instance (0 means "a class" to Python).
    private long ClassId(Type type)
    {
        if (!_classIds.TryGetValue(type, out long id))
        {
            id = _classIds.Count + 1;
            _classIds[type] = id;
        }
        return id;
    }
}
