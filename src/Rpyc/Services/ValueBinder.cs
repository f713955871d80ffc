using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Reflection;

namespace Rpyc.Services;

/// <summary>Converts wire values to .NET parameter types, and binds calls to overloads.</summary>
internal static class ValueBinder
{
    public static bool TryConvert(object? value, Type type, out object? result)
    {
        if (value is PooledBytes lease)
        {
            return TryConvertLease(lease, type, out result);
        }
        result = value;
        if (type == typeof(object) || type.IsInstanceOfType(value))
        {
            return true;
        }
        Type? nullable = Nullable.GetUnderlyingType(type);
        if (value is null)
        {
            result = null;
            return !type.IsValueType || nullable is not null;
        }
        if (nullable is not null)
        {
            return TryConvert(value, nullable, out result);
        }
        if (value is Netref callable && typeof(Delegate).IsAssignableFrom(type) && type != typeof(Delegate))
        {
            result = NetrefDelegates.Create(callable, type);
            return true;
        }
        if (PyValue.TryInteger(value, out BigInteger big))
        {
            return TryConvertInteger(big, type, out result);
        }
        switch (value)
        {
            case double d when type == typeof(float):
                return TryNarrowToSingle(d, out result);
            case double d when type == typeof(decimal):
                return TryConvertToDecimal(d, out result);
            case string s when type == typeof(char) && s.Length == 1:
                result = s[0];
                return true;
            case byte[] bytes:
                return TryConvertBytes(bytes, type, out result);
            case PyTuple tuple:
                return TryConvertSequence(tuple, type, out result);
        }
        return false;
    }

    // A float narrows to a float (Single) with its precision, but a finite value beyond its range
    // does not bind rather than silently become infinity: another overload, or a TypeError.
    private static bool TryNarrowToSingle(double value, out object? result)
    {
        float narrowed = (float)value;
        result = narrowed;
        return float.IsFinite(narrowed) || !double.IsFinite(value);
    }

    // A float binds to decimal as its shortest round-trip digits (Python's repr: 0.1 is 0.1m,
    // 0.1 + 0.2 is 0.30000000000000004m), and only when decimal holds those digits and they read
    // back as the same double: NaN, infinities, values beyond +-7.9e28 and ones whose digits
    // decimal cannot keep (1e-30) do not bind, so another overload is tried or a TypeError results.
    private static bool TryConvertToDecimal(double value, out object? result)
    {
        result = null;
        if (!double.IsFinite(value)
            || !decimal.TryParse(value.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture, out decimal converted)
            || (double)converted != value)
        {
            return false;
        }
        result = converted;
        return true;
    }

    private static bool TryConvertInteger(BigInteger value, Type type, out object? result)
    {
        result = null;
        try
        {
            result = Type.GetTypeCode(type) switch
            {
                TypeCode.Int32 => (int)value,
                TypeCode.Int64 => (long)value,
                TypeCode.Int16 => (short)value,
                TypeCode.SByte => (sbyte)value,
                TypeCode.Byte => (byte)value,
                TypeCode.UInt16 => (ushort)value,
                TypeCode.UInt32 => (uint)value,
                TypeCode.UInt64 => (ulong)value,
                TypeCode.Double => FiniteOrNull((double)value),
                TypeCode.Single => float.IsFinite((float)value) ? (float)value : null,
                TypeCode.Decimal => (decimal)value,
                _ when type == typeof(BigInteger) => value,
                _ when type == typeof(Complex) => FiniteOrNull((double)value) is double re ? new Complex(re, 0) : null,
                // Through the underlying type, so 257 does not bind to a byte enum as 1.
                _ when type.IsEnum => TryConvertInteger(value, Enum.GetUnderlyingType(type), out object? raw) ? Enum.ToObject(type, raw!) : null,
                _ => null,
            };
        }
        catch (OverflowException)
        {
            return false;
        }
        return result is not null;
    }

    // An int too large for a double does not bind as infinity (Python's float(2**2000) raises OverflowError).
    private static object? FiniteOrNull(double value) => double.IsFinite(value) ? value : null;

    // A large bytes argument arrives lent (RpycConnection.RequestLendThreshold): a PooledBytes
    // parameter takes it over, a ReadOnlyMemory<byte> one borrows it for the call, anything else
    // gets the byte[] it always had.
    private static bool TryConvertLease(PooledBytes lease, Type type, out object? result)
    {
        if (type == typeof(PooledBytes))
        {
            result = lease.HandOff();
            return true;
        }
        if (type == typeof(ReadOnlyMemory<byte>) || type == typeof(ReadOnlyMemory<byte>?))
        {
            result = lease.Memory;
            return true;
        }
        return TryConvert(lease.Detach(), type, out result);
    }

    private static bool TryConvertBytes(byte[] bytes, Type type, out object? result)
    {
        result = type == typeof(ReadOnlyMemory<byte>) ? new ReadOnlyMemory<byte>(bytes)
            : type == typeof(PooledBytes) ? new PooledBytes(bytes, bytes.Length, pooled: false)
            : type == typeof(Memory<byte>) ? new Memory<byte>(bytes)
            : type == typeof(ArraySegment<byte>) ? new ArraySegment<byte>(bytes)
            : (object?)null;
        return result is not null;
    }

    // A tuple binds to arrays, lists and C# tuples of convertible items.
    private static bool TryConvertSequence(PyTuple tuple, Type type, out object? result)
    {
        result = null;
        Type? element = type.IsArray ? type.GetElementType()
            : type.IsGenericType && (type.GetGenericTypeDefinition() == typeof(List<>) || type.GetGenericTypeDefinition() == typeof(IReadOnlyList<>)
                || type.GetGenericTypeDefinition() == typeof(IList<>) || type.GetGenericTypeDefinition() == typeof(IEnumerable<>)
                || type.GetGenericTypeDefinition() == typeof(IReadOnlyCollection<>)) ? type.GetGenericArguments()[0]
            : null;
        if (element is not null)
        {
            Array array = Array.CreateInstance(element, tuple.Count);
            for (int i = 0; i < tuple.Count; i++)
            {
                if (!TryConvert(tuple[i], element, out object? item))
                {
                    return false;
                }
                array.SetValue(item, i);
            }
            result = type.IsArray || !type.GetGenericTypeDefinition().Equals(typeof(List<>))
                ? array
                : Activator.CreateInstance(type, array);
            if (!type.IsArray && !type.IsInstanceOfType(result))
            {
                result = Activator.CreateInstance(typeof(List<>).MakeGenericType(element), array);
            }
            return true;
        }
        if (type.IsGenericType && type.FullName!.StartsWith("System.ValueTuple`", StringComparison.Ordinal))
        {
            Type[] parts = type.GetGenericArguments();
            if (parts.Length != tuple.Count || parts.Length > 7)
            {
                return false;
            }
            var items = new object?[parts.Length];
            for (int i = 0; i < parts.Length; i++)
            {
                if (!TryConvert(tuple[i], parts[i], out items[i]))
                {
                    return false;
                }
            }
            result = Activator.CreateInstance(type, items);
            return true;
        }
        return false;
    }

    /// <summary>Binds positional and keyword arguments to one of the overloads and invokes it.</summary>
    public static object? Invoke(MethodPlan[] overloads, object? target, PyTuple args, PyTuple kwargs, string name)
    {
        if (overloads.Length == 1)
        {
            return InvokeFirstThatBinds(overloads, null, target, args, kwargs, name);
        }
        return InvokeFirstThatBinds(overloads, OverloadRank.Order(overloads, args, kwargs), target, args, kwargs, name);
    }

    // Tries the overloads in the given order (null: as they are); the error is the best-ranked one's.
    private static object? InvokeFirstThatBinds(MethodPlan[] overloads, int[]? order, object? target, PyTuple args, PyTuple kwargs, string name)
    {
        string? firstError = null;
        for (int i = 0; i < overloads.Length; i++)
        {
            MethodPlan plan = overloads[order is null ? i : order[i]];
            if (TryBind(plan, args, kwargs, out object?[]? bound, out string? error))
            {
                object? result = plan.Invoke(target, bound);
                return plan.ReturnsAwaitable ? Await(result) : result;
            }
            ReclaimLeases(args);
            firstError ??= error;
        }
        throw new Protocol.RemoteTypeErrorException($"{name}() {firstError}");
    }

    // A lease is only ever a positional argument itself (RpycConnection.SettleLeases): an overload
    // that took one over and then failed to bind gives it back, to the next overload or the pool.
    private static void ReclaimLeases(PyTuple args)
    {
        for (int i = 0; i < args.Count; i++)
        {
            (args[i] as PooledBytes)?.Reclaim();
        }
    }

    // Service methods may be async: the peer gets the awaited value.
    private static object? Await(object? result)
    {
        if (result is ValueTask valueTask)
        {
            result = valueTask.AsTask();
        }
        else if (result?.GetType() is { IsGenericType: true } valueTaskType && valueTaskType.GetGenericTypeDefinition() == typeof(ValueTask<>))
        {
            result = valueTaskType.GetMethod(nameof(ValueTask<int>.AsTask))!.Invoke(result, null);
        }
        if (result is not Task task)
        {
            return result;
        }
        task.GetAwaiter().GetResult();
        Type type = task.GetType();
        if (type.IsGenericType)
        {
            object? value = type.GetProperty("Result")!.GetValue(task);
            // Task<VoidTaskResult> is what a non-generic async method's task really is.
            return value?.GetType().Name == "VoidTaskResult" ? null : value;
        }
        return null;
    }

    private static bool TryBind(MethodPlan plan, PyTuple args, PyTuple kwargs, out object?[]? bound, out string? error)
    {
        ParameterInfo[] parameters = plan.Parameters;
        if (parameters.Length == 0 && args.Count == 0 && kwargs.Count == 0)
        {
            bound = [];
            error = null;
            return true;
        }
        bound = new object?[parameters.Length];
        var filled = new bool[parameters.Length];
        error = null;
        int positional = args.Count;
        int fixedCount = parameters.Length;
        bool hasParams = plan.HasParamArray;
        if (hasParams)
        {
            fixedCount--;
        }
        if (positional > fixedCount && !hasParams)
        {
            error = $"takes {fixedCount} positional arguments but {positional} were given";
            return false;
        }
        for (int i = 0; i < Math.Min(positional, fixedCount); i++)
        {
            if (!Fill(parameters[i], args[i], bound, filled, i, out error))
            {
                return false;
            }
        }
        if (hasParams)
        {
            Type element = parameters[^1].ParameterType.GetElementType()!;
            int extra = Math.Max(0, positional - fixedCount);
            Array rest = Array.CreateInstance(element, extra);
            for (int i = 0; i < extra; i++)
            {
                if (!TryConvert(args[fixedCount + i], element, out object? item))
                {
                    error = $"argument {fixedCount + i + 1} cannot be converted to {element.Name}";
                    return false;
                }
                rest.SetValue(item, i);
            }
            bound[^1] = rest;
            filled[^1] = true;
        }
        foreach (object? pair in kwargs)
        {
            if (pair is not PyTuple { Count: 2 } kv || kv[0] is not string key)
            {
                error = "got malformed keyword arguments";
                return false;
            }
            int index = Array.FindIndex(parameters, p => p.Name == key || NameMapping.ToSnakeCase(p.Name!) == key);
            if (index < 0 || (hasParams && index == parameters.Length - 1))
            {
                error = $"got an unexpected keyword argument '{key}'";
                return false;
            }
            if (filled[index])
            {
                error = $"got multiple values for argument '{key}'";
                return false;
            }
            if (!Fill(parameters[index], kv[1], bound, filled, index, out error))
            {
                return false;
            }
        }
        for (int i = 0; i < parameters.Length; i++)
        {
            if (filled[i])
            {
                continue;
            }
            if (!parameters[i].HasDefaultValue)
            {
                error = $"missing required argument '{parameters[i].Name}'";
                return false;
            }
            bound[i] = parameters[i].DefaultValue;
        }
        return true;
    }

    private static bool Fill(ParameterInfo parameter, object? value, object?[] bound, bool[] filled, int index, out string? error)
    {
        error = null;
        if (!TryConvert(value, parameter.ParameterType, out object? converted))
        {
            error = $"argument '{parameter.Name}' expects {parameter.ParameterType.Name}, got {Describe(value)}";
            return false;
        }
        bound[index] = converted;
        filled[index] = true;
        return true;
    }

    private static string Describe(object? value) => value switch
    {
        null => "None",
        long or BigInteger => "int",
        double => "float",
        string => "str",
        byte[] or PooledBytes => "bytes",
        PyTuple => "tuple",
        Netref n => n.RemoteTypeName,
        ICollection => value.GetType().Name,
        _ => value.GetType().Name,
    };
}
