using System.Dynamic;
using System.Linq.Expressions;
using Rpyc.Protocol;

namespace Rpyc;

// The dynamic surface: each binder operation becomes one request.
public sealed partial class Netref
{
    /// <inheritdoc />
    public override bool TryGetMember(GetMemberBinder binder, out object? result)
    {
        result = ForDynamic(GetAttr(binder.Name));
        return true;
    }

    /// <inheritdoc />
    public override bool TrySetMember(SetMemberBinder binder, object? value)
    {
        SetAttr(binder.Name, value);
        return true;
    }

    /// <inheritdoc />
    public override bool TryInvokeMember(InvokeMemberBinder binder, object?[]? args, out object? result)
    {
        (PyTuple positional, PyTuple kwargs) = SplitArguments(binder.CallInfo, args ?? []);
        result = ForDynamic(Request(HandlerId.CallAttr, new PyTuple(this, binder.Name, positional, kwargs)));
        return true;
    }

    /// <inheritdoc />
    public override bool TryInvoke(InvokeBinder binder, object?[]? args, out object? result)
    {
        (PyTuple positional, PyTuple kwargs) = SplitArguments(binder.CallInfo, args ?? []);
        result = ForDynamic(Request(HandlerId.Call, new PyTuple(this, positional, kwargs)));
        return true;
    }

    /// <inheritdoc />
    public override bool TryGetIndex(GetIndexBinder binder, object?[] indexes, out object? result)
    {
        result = ForDynamic(GetItem(IndexKey(indexes)));
        return true;
    }

    /// <inheritdoc />
    public override bool TrySetIndex(SetIndexBinder binder, object?[] indexes, object? value)
    {
        SetItem(IndexKey(indexes), value);
        return true;
    }

    // obj[a, b] is Python's obj[(a, b)].
    private static object? IndexKey(object?[] indexes) => indexes.Length == 1 ? indexes[0] : PyTuple.From(indexes);

    /// <inheritdoc />
    public override bool TryBinaryOperation(BinaryOperationBinder binder, object? arg, out object? result)
    {
        string? compare = binder.Operation switch
        {
            ExpressionType.Equal => "__eq__",
            ExpressionType.NotEqual => "__ne__",
            ExpressionType.LessThan => "__lt__",
            ExpressionType.LessThanOrEqual => "__le__",
            ExpressionType.GreaterThan => "__gt__",
            ExpressionType.GreaterThanOrEqual => "__ge__",
            _ => null,
        };
        if (compare is not null)
        {
            result = ForDynamic(Compare(arg, compare));
            return true;
        }
        string? dunder = binder.Operation switch
        {
            ExpressionType.Add or ExpressionType.AddAssign => "__add__",
            ExpressionType.Subtract or ExpressionType.SubtractAssign => "__sub__",
            ExpressionType.Multiply or ExpressionType.MultiplyAssign => "__mul__",
            ExpressionType.Divide or ExpressionType.DivideAssign => "__truediv__",
            ExpressionType.Modulo or ExpressionType.ModuloAssign => "__mod__",
            ExpressionType.And or ExpressionType.AndAssign => "__and__",
            ExpressionType.Or or ExpressionType.OrAssign => "__or__",
            ExpressionType.ExclusiveOr or ExpressionType.ExclusiveOrAssign => "__xor__",
            ExpressionType.LeftShift or ExpressionType.LeftShiftAssign => "__lshift__",
            ExpressionType.RightShift or ExpressionType.RightShiftAssign => "__rshift__",
            ExpressionType.Power => "__pow__",
            _ => null,
        };
        if (dunder is null)
        {
            result = null;
            return false;
        }
        result = ForDynamic(CallMethod(dunder, arg));
        return true;
    }

    /// <inheritdoc />
    public override bool TryUnaryOperation(UnaryOperationBinder binder, out object? result)
    {
        string? dunder = binder.Operation switch
        {
            ExpressionType.Negate => "__neg__",
            ExpressionType.UnaryPlus => "__pos__",
            ExpressionType.OnesComplement => "__invert__",
            ExpressionType.IsTrue or ExpressionType.IsFalse or ExpressionType.Not => "__bool__",
            _ => null,
        };
        if (dunder is null)
        {
            result = null;
            return false;
        }
        object? value = CallMethod(dunder);
        result = binder.Operation switch
        {
            ExpressionType.IsFalse or ExpressionType.Not => value is bool b ? !b : value,
            _ => ForDynamic(value),
        };
        return true;
    }

    /// <inheritdoc />
    public override bool TryConvert(ConvertBinder binder, out object? result)
    {
        Type type = binder.Type;
        if (type == typeof(string))
        {
            result = Str();
            return true;
        }
        if (type == typeof(List<object?>) || type == typeof(object[]) || type == typeof(IReadOnlyList<object?>) || type == typeof(IList<object?>))
        {
            List<object?> items = [.. this];
            result = type == typeof(object[]) ? items.ToArray() : items;
            return true;
        }
        if (type == typeof(bool))
        {
            result = CallMethod("__bool__") is true;
            return true;
        }
        if (type == typeof(long) || type == typeof(int) || type == typeof(double))
        {
            object? value = CallMethod(type == typeof(double) ? "__float__" : "__int__");
            result = Convert.ChangeType(value, type, System.Globalization.CultureInfo.InvariantCulture);
            return true;
        }
        result = null;
        return false;
    }

    /// <inheritdoc />
    public override IEnumerable<string> GetDynamicMemberNames() => Dir();

    // C# named arguments are the last N of the call: they become Python kwargs.
    private static (PyTuple Positional, PyTuple Kwargs) SplitArguments(CallInfo info, object?[] args)
    {
        int named = info.ArgumentNames.Count;
        if (named == 0)
        {
            return (PyTuple.Copy(args), PyTuple.Empty);
        }
        int positional = args.Length - named;
        var kwargs = new object?[named];
        for (int i = 0; i < named; i++)
        {
            kwargs[i] = new PyTuple(info.ArgumentNames[i], args[positional + i]);
        }
        return (PyTuple.From(args.Take(positional)), PyTuple.Wrap(kwargs));
    }

    // int n = root.add(1, 2) needs an int at runtime: the dynamic binder has no implicit long→int.
    private static object? ForDynamic(object? value) => value is long l && l is >= int.MinValue and <= int.MaxValue ? (int)l : value;
}
