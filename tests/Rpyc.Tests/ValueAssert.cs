using System.Numerics;

namespace Rpyc.Tests;

/// <summary>
/// Exact comparison of brine values: same .NET types, floats by bit pattern (so −0.0 and NaN
/// count), frozensets as sets, recursively.
/// </summary>
internal static class ValueAssert
{
    public static void Identical(object? expected, object? actual) =>
        Assert.True(AreIdentical(expected, actual), $"expected {Describe(expected)}, got {Describe(actual)}");

    public static bool AreIdentical(object? expected, object? actual)
    {
        if (expected is null || actual is null)
        {
            return expected is null && actual is null;
        }
        if (expected.GetType() != actual.GetType())
        {
            return false;
        }
        switch (expected)
        {
            case double d:
                return Bits(d) == Bits((double)actual);
            case Complex c:
                var other = (Complex)actual;
                return Bits(c.Real) == Bits(other.Real) && Bits(c.Imaginary) == Bits(other.Imaginary);
            case byte[] bytes:
                return bytes.AsSpan().SequenceEqual((byte[])actual);
            case PyTuple tuple:
                var actualTuple = (PyTuple)actual;
                return tuple.Count == actualTuple.Count && tuple.Zip(actualTuple).All(p => AreIdentical(p.First, p.Second));
            case PyFrozenSet set:
                var actualSet = (PyFrozenSet)actual;
                return set.Count == actualSet.Count && set.All(e => actualSet.Any(a => AreIdentical(e, a)));
            case PySlice slice:
                var actualSlice = (PySlice)actual;
                return AreIdentical(slice.Start, actualSlice.Start) && AreIdentical(slice.Stop, actualSlice.Stop) && AreIdentical(slice.Step, actualSlice.Step);
            default:
                return expected.Equals(actual);
        }
    }

    public static long Bits(double d) => BitConverter.DoubleToInt64Bits(d);

    private static string Describe(object? value) =>
        value is null ? "null" : $"{PyValue.Repr(value)} ({value.GetType().Name})";
}
