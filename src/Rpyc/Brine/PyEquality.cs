using System.Numerics;
using System.Runtime.CompilerServices;

namespace Rpyc;

/// <summary>
/// Python's <c>==</c> and <c>hash()</c> over brine values, in two flavours that differ only on NaN.
/// Value semantics (<see cref="PyValue.Equal"/>): a NaN equals any NaN, so a value equals its own
/// round trip. Set semantics (<see cref="PyFrozenSet"/> members): a NaN equals only itself (the same
/// box), as in a Python set, where two NaNs loaded from the wire are two members.
/// </summary>
/// <remarks>
/// Numbers compare across types as in Python: <c>True == 1 == 1.0 == 1+0j</c>, ints exactly against
/// floats, and <c>-0.0 == 0.0</c>. Hashes are consistent with that and seeded per process through
/// <see cref="HashCode"/>, so a peer cannot pick values that collide and turn a set quadratic.
/// </remarks>
internal static class PyEquality
{
    public static bool Equal(object? a, object? b, bool setSemantics)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }
        if (a is null || b is null)
        {
            return false;
        }
        if (IsNumber(a))
        {
            return IsNumber(b) && NumberEqual(a, b, !setSemantics);
        }
        switch (a)
        {
            case string s:
                return b is string other && string.Equals(s, other, StringComparison.Ordinal);
            case PyTuple t:
                return b is PyTuple u && TupleEqual(t.AsSpan(), u.AsSpan(), setSemantics);
            case PyFrozenSet f:
                return b is PyFrozenSet g && f.SetEquals(g);
            case PySlice s:
                return b is PySlice r && Equal(s.Start, r.Start, setSemantics) && Equal(s.Stop, r.Stop, setSemantics) && Equal(s.Step, r.Step, setSemantics);
        }
        if (TryBytes(a, out ReadOnlyMemory<byte> x))
        {
            return TryBytes(b, out ReadOnlyMemory<byte> y) && x.Span.SequenceEqual(y.Span);
        }
        return !IsNumber(b) && a.Equals(b);
    }

    public static int Hash(object? value, bool setSemantics)
    {
        switch (value)
        {
            case null: return 0;
            case string s: return s.GetHashCode(StringComparison.Ordinal);
            case bool b: return HashInt64(b ? 1 : 0);
            case long l: return HashInt64(l);
            case int i: return HashInt64(i);
            case double d: return HashDouble(d, value, setSemantics);
            case float f: return HashDouble(f, value, setSemantics);
            case Complex c: return HashComplex(c, value, setSemantics);
            case PyTuple t: return HashTuple(t.AsSpan(), setSemantics);
            case PyFrozenSet f: return f.GetHashCode();
            case PySlice s: return HashCode.Combine(Hash(s.Start, setSemantics), Hash(s.Stop, setSemantics), Hash(s.Step, setSemantics));
        }
        if (PyValue.TryInteger(value, out BigInteger big))
        {
            return HashInteger(big);
        }
        if (TryBytes(value, out ReadOnlyMemory<byte> bytes))
        {
            var hash = new HashCode();
            hash.AddBytes(bytes.Span);
            return hash.ToHashCode();
        }
        return value.GetHashCode();
    }

    public static int HashTuple(ReadOnlySpan<object?> items, bool setSemantics)
    {
        var hash = new HashCode();
        foreach (object? item in items)
        {
            hash.Add(Hash(item, setSemantics));
        }
        return hash.ToHashCode();
    }

    private static bool TupleEqual(ReadOnlySpan<object?> a, ReadOnlySpan<object?> b, bool setSemantics)
    {
        if (a.Length != b.Length)
        {
            return false;
        }
        for (int i = 0; i < a.Length; i++)
        {
            if (!Equal(a[i], b[i], setSemantics))
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsNumber(object value) => value is long or int or double or bool or BigInteger or Complex or float
        or short or sbyte or byte or ushort or uint or ulong;

    private static bool TryBytes(object value, out ReadOnlyMemory<byte> bytes)
    {
        switch (value)
        {
            case byte[] array: bytes = array; return true;
            case ReadOnlyMemory<byte> rom: bytes = rom; return true;
            case Memory<byte> mem: bytes = mem; return true;
            case ArraySegment<byte> segment: bytes = segment; return true;
            case PooledBytes pooled: bytes = pooled.Memory; return true;
            default: bytes = default; return false;
        }
    }

    // Both are numbers. Python: complex_richcompare, float_richcompare (exact against ints), long_richcompare.
    private static bool NumberEqual(object a, object b, bool nanEqual)
    {
        if (a is Complex ca)
        {
            return b is Complex cb
                ? DoubleEqual(ca.Real, cb.Real, nanEqual) && DoubleEqual(ca.Imaginary, cb.Imaginary, nanEqual)
                : ca.Imaginary == 0 && RealEqual(ca.Real, b, nanEqual);
        }
        if (b is Complex)
        {
            return NumberEqual(b, a, nanEqual);
        }
        if (TryDouble(a, out double da))
        {
            return RealEqual(da, b, nanEqual);
        }
        if (TryDouble(b, out double db))
        {
            return RealEqual(db, a, nanEqual);
        }
        if (TryInt64(a, out long la) && TryInt64(b, out long lb))
        {
            return la == lb;
        }
        return AsInteger(a) == AsInteger(b);
    }

    // d against a number that is not complex.
    private static bool RealEqual(double d, object other, bool nanEqual)
    {
        if (TryDouble(other, out double e))
        {
            return DoubleEqual(d, e, nanEqual);
        }
        if (!IsIntegral(d))
        {
            return false;
        }
        if (TryInt64(other, out long l))
        {
            return InInt64Range(d) && (long)d == l;
        }
        return new BigInteger(d) == AsInteger(other);
    }

    private static bool DoubleEqual(double a, double b, bool nanEqual) =>
        a == b || (nanEqual && double.IsNaN(a) && double.IsNaN(b));

    private static bool TryDouble(object value, out double d)
    {
        switch (value)
        {
            case double x: d = x; return true;
            case float f: d = f; return true;
            default: d = 0; return false;
        }
    }

    private static bool TryInt64(object value, out long result)
    {
        switch (value)
        {
            case long l: result = l; return true;
            case int i: result = i; return true;
            case bool b: result = b ? 1 : 0; return true;
            case short s: result = s; return true;
            case sbyte sb: result = sb; return true;
            case byte u8: result = u8; return true;
            case ushort u16: result = u16; return true;
            case uint u32: result = u32; return true;
            case ulong u64 when u64 <= long.MaxValue: result = (long)u64; return true;
            case BigInteger big when big >= long.MinValue && big <= long.MaxValue: result = (long)big; return true;
            default: result = 0; return false;
        }
    }

    private static BigInteger AsInteger(object value) => value is bool b ? (b ? BigInteger.One : BigInteger.Zero)
        : PyValue.TryInteger(value, out BigInteger i) ? i : throw new InvalidOperationException($"{value.GetType()} is not an integer.");

    private static bool IsIntegral(double d) => double.IsFinite(d) && Math.Floor(d) == d;

    // [-2^63, 2^63): the doubles that convert to long exactly.
    private static bool InInt64Range(double d) => d >= -9223372036854775808.0 && d < 9223372036854775808.0;

    // Seeded per process: long.GetHashCode (lo ^ hi) would let a peer pick colliding keys.
    private static int HashInt64(long value) => HashCode.Combine((int)value, (int)(value >> 32));

    private static int HashInteger(BigInteger value)
    {
        if (value >= long.MinValue && value <= long.MaxValue)
        {
            return HashInt64((long)value);
        }
        var hash = new HashCode();
        Span<byte> small = stackalloc byte[64];
        int count = value.GetByteCount();
        byte[] bytes = count <= small.Length ? [] : new byte[count];
        Span<byte> span = count <= small.Length ? small[..count] : bytes;
        value.TryWriteBytes(span, out _);
        hash.AddBytes(span);
        return hash.ToHashCode();
    }

    // box is the boxed value itself, whose identity stands in for a NaN under set semantics
    // (Python 3.10+ hashes NaN by object identity, for the same reason: many NaNs must not collide).
    private static int HashDouble(double d, object box, bool setSemantics)
    {
        if (double.IsNaN(d))
        {
            return setSemantics ? RuntimeHelpers.GetHashCode(box) : 0x7ff80000;
        }
        if (IsIntegral(d))
        {
            return InInt64Range(d) ? HashInt64((long)d) : HashInteger(new BigInteger(d));
        }
        long bits = BitConverter.DoubleToInt64Bits(d);
        return HashCode.Combine((int)bits, (int)(bits >> 32), 0x3ff);
    }

    private static int HashComplex(Complex c, object box, bool setSemantics)
    {
        if (c.Imaginary == 0)
        {
            return HashDouble(c.Real, box, setSemantics);
        }
        if (double.IsNaN(c.Real) || double.IsNaN(c.Imaginary))
        {
            return setSemantics ? RuntimeHelpers.GetHashCode(box) : 0x7ff80001;
        }
        return HashCode.Combine(HashDouble(c.Real, box, setSemantics), HashDouble(c.Imaginary, box, setSemantics));
    }
}

/// <summary><see cref="PyEquality"/> with set semantics, for the members of a <see cref="PyFrozenSet"/>.</summary>
internal sealed class PySetComparer : IEqualityComparer<object?>
{
    public static PySetComparer Instance { get; } = new();

    public new bool Equals(object? x, object? y) => PyEquality.Equal(x, y, setSemantics: true);

    public int GetHashCode(object? obj) => PyEquality.Hash(obj, setSemantics: true);
}
