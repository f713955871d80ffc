using System.Reflection;
using Rpyc.Brine;
using Rpyc.Protocol;

namespace Rpyc.Services;

/// <summary>
/// What a peer may do to this side's objects, with Python's access rules (protocol.py _check_attr,
/// wire notes 8.2): exposed names always, safe dunders always, public names only with
/// <see cref="RpycConnectOptions.AllowPublicAttrs"/>, everything else an <c>AttributeError</c>.
/// </summary>
internal readonly struct ObjectModel(RpycConnectOptions options, CallSiteCache? calls = null)
{
    public object? GetAttr(object? obj, string name)
    {
        if (obj is null)
        {
            throw Refused(name);
        }
        if (IsSpecial(obj, name))
        {
            return Dunders.GetAttr(obj, name);
        }
        MemberGroup members = Resolve(obj, name);
        return members.First switch
        {
            PropertyInfo p => p.GetValue(p.GetMethod!.IsStatic ? null : obj),
            FieldInfo f => f.GetValue(f.IsStatic ? null : obj),
            _ => new BoundMethod(obj, members, name),
        };
    }

    public void SetAttr(object? obj, string name, object? value)
    {
        if (obj is RpycService)
        {
            // service.py Service._rpyc_setattr always refuses.
            throw new RemoteAttributeException("access denied");
        }
        if (!options.AllowSetAttr || obj is null)
        {
            throw Refused(name);
        }
        switch (Resolve(obj, name).First)
        {
            case PropertyInfo { SetMethod.IsPublic: true } p when ValueBinder.TryConvert(value, p.PropertyType, out object? converted):
                p.SetValue(obj, converted);
                break;
            case FieldInfo { IsInitOnly: false } f when ValueBinder.TryConvert(value, f.FieldType, out object? converted):
                f.SetValue(obj, converted);
                break;
            default:
                throw Refused(name);
        }
    }

    public void DelAttr(object? obj, string name)
    {
        if (obj is RpycService)
        {
            throw new RemoteAttributeException("access denied");
        }
        // .NET members cannot be deleted.
        throw Refused(name);
    }

    public object? Call(object? obj, PyTuple args, PyTuple kwargs) => obj switch
    {
        BoundMethod m => ValueBinder.Invoke(m.Overloads, m.Target, args, kwargs, m.Name),
        DunderMethod d => Dunders.Invoke(d.Target, d.Name, (PyTuple)BytesLender.Settle(args)!),
        Delegate fn => ValueBinder.Invoke([MethodPlan.For(fn.GetType().GetMethod("Invoke")!)], fn, args, kwargs, fn.Method.Name),
        _ => throw new RemoteTypeErrorException($"'{obj?.GetType().Name ?? "NoneType"}' object is not callable"),
    };

    public object? CallAttr(object? obj, string name, PyTuple args, PyTuple kwargs)
    {
        if (obj is null)
        {
            throw Refused(name);
        }
        if (calls?.Find(obj.GetType(), name) is { } plans)
        {
            return ValueBinder.Invoke(plans, obj, args, kwargs, name);
        }
        if (IsSpecial(obj, name))
        {
            return Dunders.Invoke(obj, name, (PyTuple)BytesLender.Settle(args)!);
        }
        MemberGroup members = Resolve(obj, name);
        if (members.First is MethodInfo)
        {
            if (!Dunders.IsSafe(name))
            {
                calls?.Remember(obj.GetType(), name, members.Plans);
            }
            return ValueBinder.Invoke(members.Plans, obj, args, kwargs, name);
        }
        return Call(GetAttr(obj, name), args, kwargs);
    }

    // protocol.py _check_attr: a safe name means the object's own special method, unless the
    // object has no attribute of that name and exposes one ([Exposed] Next, exposed_next): Python
    // then falls back to the exposed name, so a service's next() is reachable.
    private static bool IsSpecial(object obj, string name) =>
        Dunders.IsSafe(name) && (!TypeExposure.For(obj.GetType()).Exposed.ContainsKey(name) || Dunders.Has(obj, name));

    // Resolution of a non-dunder name: exposed first, then public when allowed.
    private MemberGroup Resolve(object obj, string name)
    {
        TypeExposure exposure = TypeExposure.For(obj.GetType());
        if (exposure.Exposed.TryGetValue(name, out MemberGroup? members))
        {
            return members;
        }
        if (options.AllowPublicAttrs && !name.StartsWith('_') && exposure.Public.TryGetValue(name, out members))
        {
            return members;
        }
        throw Refused(name);
    }

    private static RemoteAttributeException Refused(string name) => new($"cannot access '{name}'");

    public string Repr(object? obj) => obj is null ? "None" : Dunders.Repr(obj);

    public string Str(object? obj) => obj is null ? "None" : obj is string s ? s : Dunders.Repr(obj);

    public long Hash(object? obj) => obj is null ? 0 : PyValue.Hash(obj);

    public object? Compare(object? obj, object? other, string op) => Dunders.Compare(obj, other, op);

    public PyTuple Dir(object? obj)
    {
        if (obj is null)
        {
            return PyTuple.Empty;
        }
        TypeExposure exposure = TypeExposure.For(obj.GetType());
        IEnumerable<string> names = exposure.Exposed.Keys;
        if (options.AllowPublicAttrs)
        {
            names = names.Concat(exposure.Public.Keys);
        }
        return PyTuple.From(names.Concat(Dunders.Supported(obj)).Distinct().Order(StringComparer.Ordinal).Cast<object?>());
    }

    // INSPECT: Python builds its proxy class from these names; only special methods matter (wire notes 7.1).
    public PyTuple Inspect(object obj) =>
        PyTuple.From(Dunders.Supported(obj).Select(name => (object?)new PyTuple(name, null)));

    public PyTuple BuffIter(object? obj, long count)
    {
        if (obj is not LocalIterator iterator)
        {
            throw new RemoteTypeErrorException("buffiter expects an iterator");
        }
        var items = new List<object?>();
        try
        {
            while (items.Count < count)
            {
                items.Add(iterator.Next());
            }
        }
        catch (StopIterationException)
        {
        }
        return PyTuple.From(items);
    }

    public object? ContextExit(object? obj)
    {
        (obj as IDisposable)?.Dispose();
        return false;
    }
}
