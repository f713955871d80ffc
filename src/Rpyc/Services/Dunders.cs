using System.Collections;

namespace Rpyc.Services;

/// <summary>A special method of a local object returned by GETATTR (Python's method-wrapper).</summary>
internal sealed record DunderMethod(object Target, string Name);

/// <summary>
/// Python special methods on .NET objects: the subset of rpyc's <c>safe_attrs</c> with a natural
/// .NET meaning (collections, enumeration, equality, disposal).
/// </summary>
internal static class Dunders
{
    // protocol.py DEFAULT_CONFIG["safe_attrs"], the names a peer may use on any object.
    private static readonly HashSet<string> s_safeAttrs = new(StringComparer.Ordinal)
    {
        "__abs__", "__add__", "__and__", "__bool__", "__cmp__", "__contains__", "__delitem__", "__delslice__",
        "__div__", "__divmod__", "__doc__", "__eq__", "__float__", "__floordiv__", "__ge__", "__getitem__",
        "__getslice__", "__gt__", "__hash__", "__hex__", "__iadd__", "__iand__", "__idiv__", "__ifloordiv__",
        "__ilshift__", "__imod__", "__imul__", "__index__", "__int__", "__invert__", "__ior__", "__ipow__",
        "__irshift__", "__isub__", "__iter__", "__itruediv__", "__ixor__", "__le__", "__len__", "__long__",
        "__lshift__", "__lt__", "__mod__", "__mul__", "__ne__", "__neg__", "__new__", "__nonzero__", "__oct__",
        "__or__", "__pos__", "__pow__", "__radd__", "__rand__", "__rdiv__", "__rdivmod__", "__repr__",
        "__rfloordiv__", "__rlshift__", "__rmod__", "__rmul__", "__ror__", "__rpow__", "__rrshift__",
        "__rshift__", "__rsub__", "__rtruediv__", "__rxor__", "__setitem__", "__setslice__", "__str__",
        "__sub__", "__truediv__", "__xor__", "next", "__length_hint__", "__enter__", "__exit__", "__next__",
        "__format__",
    };

    // Every safe name but "next" starts with "__": a call of a service's own method skips the hash.
    public static bool IsSafe(string name) =>
        (name.StartsWith("__", StringComparison.Ordinal) || name == "next") && s_safeAttrs.Contains(name);

    // The safe names Python's object itself defines: hasattr is true for them on every object.
    private static readonly HashSet<string> s_objectAttrs = new(StringComparer.Ordinal)
    {
        "__doc__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__", "__hash__", "__repr__", "__str__",
        "__format__", "__new__",
    };

    /// <summary>Python's <c>hasattr(obj, name)</c> for a safe name.</summary>
    public static bool Has(object obj, string name) => s_objectAttrs.Contains(name) || Supported(obj).Contains(name);

    public static object? GetAttr(object obj, string name) => name switch
    {
        "__doc__" => null,
        _ when Supported(obj).Contains(name) => new DunderMethod(obj, name),
        _ => throw new Protocol.RemoteAttributeException($"'{obj.GetType().Name}' object has no attribute '{name}'"),
    };

    /// <summary>The special methods <paramref name="obj"/> supports, for INSPECT and DIR.</summary>
    public static List<string> Supported(object obj)
    {
        var names = new List<string> { "__str__", "__repr__", "__eq__", "__ne__", "__hash__" };
        if (obj is Delegate or BoundMethod or DunderMethod)
        {
            names.Add("__call__");
        }
        if (obj is LocalIterator)
        {
            names.AddRange(["__iter__", "__next__"]);
        }
        else if (obj is IEnumerable and not string)
        {
            names.AddRange(["__iter__", "__contains__", "__bool__"]);
        }
        if (obj is ICollection or string)
        {
            names.Add("__len__");
        }
        if (obj is IList or IDictionary)
        {
            names.AddRange(["__getitem__", "__setitem__"]);
        }
        if (obj is IDisposable)
        {
            names.AddRange(["__enter__", "__exit__"]);
        }
        return names;
    }

    public static object? Invoke(object obj, string name, PyTuple args)
    {
        switch (name)
        {
            case "__len__" when obj is ICollection c: return (long)c.Count;
            case "__len__" when obj is string s: return (long)s.Length;
            case "__iter__" when obj is LocalIterator: return obj;
            // Python iterates a mapping's keys, not its pairs.
            case "__iter__" when obj is IDictionary d: return new LocalIterator(d.Keys.GetEnumerator());
            case "__iter__" when obj is IEnumerable e: return new LocalIterator(e.GetEnumerator());
            case "__next__" or "next" when obj is LocalIterator it: return it.Next();
            case "__getitem__" when args.Count == 1: return GetItem(obj, args[0]);
            case "__setitem__" when args.Count == 2: SetItem(obj, args[0], args[1]); return null;
            case "__contains__" when args.Count == 1: return Contains(obj, args[0]);
            case "__bool__" or "__nonzero__": return obj is not ICollection c2 || c2.Count != 0;
            // What the REPR and STR requests answer (ObjectModel), so root.__repr__() == repr(root).
            case "__str__" when obj is string s: return s;
            case "__str__" or "__repr__": return Repr(obj);
            case "__hash__": return (long)PyValue.Hash(obj);
            case "__eq__" or "__ne__" or "__lt__" or "__le__" or "__gt__" or "__ge__" when args.Count == 1: return Compare(obj, args[0], name);
            case "__enter__": return obj;
            case "__exit__": (obj as IDisposable)?.Dispose(); return false;
            case "__format__": return obj.ToString();
        }
        throw new Protocol.RemoteAttributeException($"'{obj.GetType().Name}' object has no attribute '{name}'");
    }

    public static object? Compare(object? obj, object? other, string op)
    {
        int? order = obj is IComparable comparable && other is not null && other.GetType() == obj.GetType() ? comparable.CompareTo(other) : null;
        return op switch
        {
            "__eq__" => PyValue.Equal(obj, other),
            "__ne__" => !PyValue.Equal(obj, other),
            "__lt__" when order is not null => order < 0,
            "__le__" when order is not null => order <= 0,
            "__gt__" when order is not null => order > 0,
            "__ge__" when order is not null => order >= 0,
            _ => Protocol.NotImplementedValue.Instance,
        };
    }

    private static object? GetItem(object obj, object? key)
    {
        switch (obj)
        {
            case IList list when key is long index:
                return list[Index(index, list.Count)];
            case IList list when key is PySlice slice:
                return Slice(list, slice);
            case IDictionary dict:
                object? lookup = ConvertKey(dict, key);
                return lookup is not null && dict.Contains(lookup) ? dict[lookup] : throw new Protocol.RemoteKeyErrorException(key);
            default:
                throw new Protocol.RemoteTypeErrorException($"'{obj.GetType().Name}' object is not subscriptable with {PyValue.Repr(key)}");
        }
    }

    private static void SetItem(object obj, object? key, object? value)
    {
        switch (obj)
        {
            case IList list when key is long index:
                list[Index(index, list.Count)] = value;
                break;
            case IDictionary dict:
                dict[ConvertKey(dict, key) ?? throw new Protocol.RemoteKeyErrorException(key)] = value;
                break;
            default:
                throw new Protocol.RemoteTypeErrorException($"'{obj.GetType().Name}' object does not support item assignment");
        }
    }

    private static bool Contains(object obj, object? item)
    {
        if (obj is IDictionary dict)
        {
            object? key = ConvertKey(dict, item);
            return key is not null && dict.Contains(key);
        }
        if (obj is IEnumerable e)
        {
            foreach (object? x in e)
            {
                if (PyValue.Equal(x, item))
                {
                    return true;
                }
            }
        }
        return false;
    }

    // A Dictionary<int, T> is keyed by int, but wire ints arrive as long.
    private static object? ConvertKey(IDictionary dict, object? key)
    {
        Type? keyType = dict.GetType().IsGenericType ? dict.GetType().GetGenericArguments()[0] : null;
        return keyType is not null && ValueBinder.TryConvert(key, keyType, out object? converted) ? converted : key;
    }

    // list[start:stop:step] gives a new list, as in Python.
    private static List<object?> Slice(IList list, PySlice slice)
    {
        long step = slice.Step is long st ? st : 1;
        if (step == 0)
        {
            throw new ArgumentException("slice step cannot be zero");
        }
        int count = list.Count;
        long Clamp(object? bound, long fallback)
        {
            if (bound is not long b)
            {
                return fallback;
            }
            if (b < 0)
            {
                b += count;
            }
            return step > 0 ? Math.Clamp(b, 0, count) : Math.Clamp(b, -1, count - 1);
        }
        long start = Clamp(slice.Start, step > 0 ? 0 : count - 1);
        long stop = Clamp(slice.Stop, step > 0 ? count : -1);
        var result = new List<object?>();
        for (long i = start; step > 0 ? i < stop : i > stop; i += step)
        {
            result.Add(list[(int)i]);
        }
        return result;
    }

    /// <summary>Python-style repr of a local object: collections show their items, as Python's do.</summary>
    public static string Repr(object obj)
    {
        switch (obj)
        {
            case string s:
                return PyValue.Repr(s);
            case RpycService service:
                // Python's default object repr, without the address: <module.Class object>.
                return $"<{service.GetType().FullName} object>";
            case IDictionary dict:
                var pairs = new List<string>();
                foreach (DictionaryEntry entry in dict)
                {
                    pairs.Add($"{ItemRepr(entry.Key)}: {ItemRepr(entry.Value)}");
                }
                return "{" + string.Join(", ", pairs) + "}";
            case IList list:
                var items = new List<string>();
                foreach (object? item in list)
                {
                    items.Add(ItemRepr(item));
                }
                return "[" + string.Join(", ", items) + "]";
            default:
                return obj.ToString() ?? "";
        }
    }

    private static string ItemRepr(object? item) => Brine.Brine.IsDumpable(item) || item is null ? PyValue.Repr(item) : Repr(item);

    // Python indexing: negative counts from the end.
    private static int Index(long index, int count)
    {
        long i = index < 0 ? index + count : index;
        return i >= 0 && i < count ? (int)i : throw new IndexOutOfRangeException("list index out of range");
    }
}
