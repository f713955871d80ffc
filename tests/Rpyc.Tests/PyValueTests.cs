using System.Numerics;
using System.Text.Json;

namespace Rpyc.Tests;

/// <summary>Python semantics of brine values: repr, equality and hashing.</summary>
public class PyValueTests
{
    public static TheoryData<string> DumpRows => VectorFile.Names("dump");

    public static TheoryData<object?, string> Reprs => new()
    {
        { new PyTuple(1L), "(1,)" },
        { new PyTuple(1L, "a", null), "(1, 'a', None)" },
        { PyTuple.Empty, "()" },
        { new byte[] { 0x61, 0x00 }, "b'a\\x00'" },
        { new byte[] { 0x27 }, "b\"'\"" },
        { "it", "'it'" },
        { "it's", "\"it's\"" },
        { "a\nb\\", "'a\\nb\\\\'" },
        // str.isprintable: controls, formats, separators but the space, private use, unassigned
        // and lone surrogates are escaped, each as short as it fits (Python 3.11's repr).
        { "\u0085\u200b\U000e0001\ud800é😀 \u00a0\u2028\U0010ffff", "'\\x85\\u200b\\U000e0001\\ud800é😀 \\xa0\\u2028\\U0010ffff'" },
        { "\u007f\u0000", "'\\x7f\\x00'" },
        { null, "None" },
        { true, "True" },
        { PyFrozenSet.Empty, "frozenset()" },
        { new PyFrozenSet(1L), "frozenset({1})" },
        { new PySlice(1L, null, null), "slice(1, None, None)" },
        { 1.0, "1.0" },
        { 0.1, "0.1" },
        { -0.0, "-0.0" },
        { double.PositiveInfinity, "inf" },
        { double.NegativeInfinity, "-inf" },
        { double.NaN, "nan" },
        { 1e300, "1e+300" },
        { 5e-324, "5e-324" },
        { 1e15, "1000000000000000.0" },
        { -1e15, "-1000000000000000.0" },
        { 1e16, "1e+16" },
        { 1e22, "1e+22" },
        { 123456789.0, "123456789.0" },
        { 1e-5, "1e-05" },
        { 0.0001, "0.0001" },
        { 2.5e-7, "2.5e-07" },
        { BigInteger.Pow(2, 64), "18446744073709551616" },
        { PyEllipsis.Instance, "Ellipsis" },
        { PyNotImplemented.Instance, "NotImplemented" },
    };

    [Theory]
    [MemberData(nameof(Reprs))]
    public void Repr_Value_MatchesPython(object? value, string expected)
    {
        Assert.Equal(expected, PyValue.Repr(value));
    }

    [Theory]
    [MemberData(nameof(DumpRows))]
    public void Repr_VectorValue_MatchesPythonRepr(string name)
    {
        JsonElement row = VectorFile.Row("dump", name);
        string python = row.GetProperty("python").GetString()!;
        if (python.EndsWith("...", StringComparison.Ordinal))
        {
            return; // the recorded repr is cut short
        }

        Assert.Equal(python, PyValue.Repr(VectorFile.ToValue(row.GetProperty("value"))));
    }

    [Fact]
    public void Str_String_IsUnquoted()
    {
        Assert.Equal("it", PyValue.Str("it"));
        Assert.Equal("(1, 'it')", PyValue.Str(new PyTuple(1L, "it")));
    }

    [Fact]
    public void PyTuple_IntsOfDifferentWidths_AreEqualWithEqualHashes()
    {
        var a = new PyTuple(1L, (int)2, "x", new byte[] { 1, 2 });
        var b = new PyTuple((int)1, new BigInteger(2), "x", new byte[] { 1, 2 });

        Assert.Equal(a, b);
        Assert.True(a.Equals((object)b));
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.True(PyValue.Equal(a, b));
        Assert.Equal(PyValue.Hash(a), PyValue.Hash(b));
    }

    [Fact]
    public void PyTuple_NestedStructure_ComparesStructurally()
    {
        var a = new PyTuple(new PyTuple(1L, PyTuple.Empty), new PySlice(1L, null, 2L));
        var b = new PyTuple(new PyTuple(1, PyTuple.Empty), new PySlice(1, null, (short)2));

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, new PyTuple(new PyTuple(1L, PyTuple.Empty), new PySlice(1L, null, 3L)));
        Assert.NotEqual(new PyTuple(1L), new PyTuple(1L, 1L));
        Assert.NotEqual(new PyTuple("1"), new PyTuple(1L));
    }

    [Fact]
    public void PyTuple_AsDictionaryKey_FindsEqualTuple()
    {
        var table = new Dictionary<PyTuple, string> { [new PyTuple(1L, "a")] = "found" };

        Assert.Equal("found", table[new PyTuple(1, "a")]);
    }

    [Fact]
    public void PyFrozenSet_DifferentOrder_AreEqualWithEqualHashes()
    {
        var a = new PyFrozenSet(1L, "two", new byte[] { 3 });
        var b = new PyFrozenSet(new byte[] { 3 }, 1, "two");

        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, new PyFrozenSet(1L, "two"));
        Assert.NotEqual(new PyFrozenSet(1L, 2L), new PyFrozenSet(1L, 3L));
    }

    [Fact]
    public void PyFrozenSet_Duplicates_AreDropped()
    {
        var set = new PyFrozenSet(1L, 1, new BigInteger(1), "a", "a");

        Assert.Equal(2, set.Count);
        Assert.Contains(1L, set);
        Assert.True(set.Contains((byte)1));
        Assert.False(set.Contains("b"));
    }

    [Fact]
    public void PyValueEqual_BytesAndIntegers_CompareByValue()
    {
        Assert.True(PyValue.Equal(new byte[] { 1, 2 }, new byte[] { 1, 2 }));
        Assert.False(PyValue.Equal(new byte[] { 1, 2 }, new byte[] { 1, 3 }));
        Assert.True(PyValue.Equal(ulong.MaxValue, BigInteger.Parse("18446744073709551615", System.Globalization.CultureInfo.InvariantCulture)));
        Assert.False(PyValue.Equal(null, 0L));
        Assert.True(PyValue.Equal(null, null));
        Assert.Equal(PyValue.Hash(new byte[] { 1, 2 }), PyValue.Hash(new byte[] { 1, 2 }));
    }
}
