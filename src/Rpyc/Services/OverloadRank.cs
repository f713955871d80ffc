using System.Reflection;

namespace Rpyc.Services;

/// <summary>
/// The order overloads are tried in: fewest arguments that need a conversion first, so that
/// <c>Ov(double)</c> declared before <c>Ov(long)</c> does not take a Python int lossily. Ties keep
/// the group's order (declaration order, <see cref="MemberGroup"/>). Ranking only looks at types;
/// binding, which may take a lease over or make a delegate, then runs in that order as before.
/// </summary>
internal static class OverloadRank
{
    private const int Exact = 0;
    private const int Assignable = 1;
    private const int Converted = 2;

    /// <summary>The indices of <paramref name="overloads"/>, best match first; stable.</summary>
    public static int[] Order(MethodPlan[] overloads, PyTuple args, PyTuple kwargs)
    {
        int[] order = new int[overloads.Length];
        int[] costs = new int[overloads.Length];
        for (int i = 0; i < order.Length; i++)
        {
            costs[i] = Cost(overloads[i], args, kwargs);
            // Insertion sort: groups are a handful of overloads, and equal costs keep their order.
            int j = i;
            for (; j > 0 && costs[order[j - 1]] > costs[i]; j--)
            {
                order[j] = order[j - 1];
            }
            order[j] = i;
        }
        return order;
    }

    // The summed cost of every argument against the parameter it would fill; arguments that fill
    // none cost nothing here (binding rejects the overload).
    private static int Cost(MethodPlan plan, PyTuple args, PyTuple kwargs)
    {
        ParameterInfo[] parameters = plan.Parameters;
        int fixedCount = plan.HasParamArray ? parameters.Length - 1 : parameters.Length;
        int cost = 0;
        for (int i = 0; i < args.Count; i++)
        {
            Type? type = i < fixedCount ? parameters[i].ParameterType
                : plan.HasParamArray ? parameters[^1].ParameterType.GetElementType()
                : null;
            cost += type is null ? 0 : Cost(args[i], type);
        }
        foreach (object? pair in kwargs)
        {
            if (pair is PyTuple { Count: 2 } kv && kv[0] is string key
                && Array.FindIndex(parameters, p => p.Name == key || NameMapping.ToSnakeCase(p.Name!) == key) is int index and >= 0)
            {
                cost += Cost(kv[1], parameters[index].ParameterType);
            }
        }
        return cost;
    }

    // Exact: the .NET type the wire value naturally is (long for int, double for float, string for
    // str, byte[] and the lending types for bytes, PyTuple for tuple...). Assignable: a type the
    // value already is without conversion (object, an interface, Nullable of the exact type).
    private static int Cost(object? value, Type type)
    {
        Type target = Nullable.GetUnderlyingType(type) ?? type;
        if (value is null)
        {
            return !type.IsValueType || target != type ? Exact : Converted;
        }
        if (value.GetType() == target || IsBytesMatch(value, target))
        {
            return type == target ? Exact : Assignable;
        }
        return type.IsInstanceOfType(value) ? Assignable : Converted;
    }

    private static bool IsBytesMatch(object value, Type type) =>
        value is byte[] or PooledBytes
        && (type == typeof(byte[]) || type == typeof(ReadOnlyMemory<byte>) || type == typeof(PooledBytes));
}
