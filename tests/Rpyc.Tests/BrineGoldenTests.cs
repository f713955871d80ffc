using System.Text.Json;
using BrineCodec = Rpyc.Brine.Brine;

namespace Rpyc.Tests;

/// <summary>Golden bytes from the Python reference (<c>brine.json</c>): one row per vector.</summary>
public class BrineGoldenTests
{
    public static TheoryData<string> DumpRows => VectorFile.Names("dump");

    public static TheoryData<string> LoadOnlyRows => VectorFile.Names("load_only");

    public static TheoryData<string> LoadErrorRows => VectorFile.Names("load_errors");

    // The undumpable rows that have a .NET counterpart. Python's bytearray has none, and int and
    // str subclasses cannot exist (sealed types); an enum plays the part of an IntEnum.
    private static readonly Dictionary<string, Func<object>> s_undumpable = new()
    {
        ["list"] = () => new List<object> { 1, 2 },
        ["dict"] = () => new Dictionary<string, object> { ["a"] = 1 },
        ["set"] = () => new HashSet<object> { 1 },
        ["object"] = () => new object(),
        ["tuple_containing_list"] = () => new PyTuple(1L, new List<object> { 2L }),
        ["int_subclass"] = () => DayOfWeek.Wednesday,
    };

    private static readonly HashSet<string> s_notRepresentable =
        ["bytearray", "str_subclass", "frozenset_containing_tuple_of_list"];

    public static TheoryData<string> UndumpableRows => [.. s_undumpable.Keys];

    [Theory]
    [MemberData(nameof(DumpRows))]
    public void Dump_VectorValue_MatchesPythonBytes(string name)
    {
        JsonElement row = VectorFile.Row("dump", name);
        object? value = VectorFile.ToValue(row.GetProperty("value"));
        byte[] expected = VectorFile.Hex(row, "hex");

        byte[] actual = BrineCodec.Dump(value);

        Assert.True(BrineCodec.IsDumpable(value));
        if (HasStringSet(value))
        {
            // Python writes str elements of a frozenset in hash order, which varies per process.
            Assert.Equal(expected.Length, actual.Length);
            ValueAssert.Identical(value, BrineCodec.Load(actual));
        }
        else
        {
            Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(actual));
        }
    }

    [Theory]
    [MemberData(nameof(DumpRows))]
    public void Load_VectorBytes_ReturnsValue(string name)
    {
        JsonElement row = VectorFile.Row("dump", name);
        object? expected = VectorFile.ToValue(row.GetProperty("value"));

        object? actual = BrineCodec.Load(VectorFile.Hex(row, "hex"));

        ValueAssert.Identical(expected, actual);
        Assert.True(PyValue.Equal(expected, actual));
    }

    [Theory]
    [MemberData(nameof(LoadOnlyRows))]
    public void Load_NonCanonicalEncoding_ReturnsValueAndRedumpsCanonically(string name)
    {
        JsonElement row = VectorFile.Row("load_only", name);
        byte[] input = VectorFile.Hex(row, "hex");
        if (name == "trailing_garbage_ignored_by_python")
        {
            // Python ignores bytes after the value; inside a frame they can only be corruption,
            // so the strict loader refuses them.
            Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(input));
            return;
        }
        object? expected = VectorFile.ToValue(row.GetProperty("value"));

        object? actual = BrineCodec.Load(input);

        ValueAssert.Identical(expected, actual);
        Assert.Equal(row.GetProperty("canonical_hex").GetString(), Convert.ToHexStringLower(BrineCodec.Dump(actual)));
    }

    [Fact]
    public void Load_TrailingGarbage_ThrowsProtocolException()
    {
        // brine.json load_only "trailing_garbage_ignored_by_python": Python returns 1; we reject.
        var ex = Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(new byte[] { 0x51, 0x99 }));
        Assert.Contains("unexpected bytes", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(LoadErrorRows))]
    public void Load_InvalidEncoding_ThrowsProtocolException(string name)
    {
        // Includes short_str_read_python_returns_fewer_bytes, which Python silently truncates.
        byte[] input = VectorFile.Hex(VectorFile.Row("load_errors", name), "hex");

        Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(input));
    }

    [Theory]
    [MemberData(nameof(UndumpableRows))]
    public void Dump_UndumpableValue_ThrowsArgumentException(string name)
    {
        Assert.False(VectorFile.Row("undumpable", name).GetProperty("dumpable").GetBoolean());
        object value = s_undumpable[name]();

        Assert.False(BrineCodec.IsDumpable(value));
        Assert.Throws<ArgumentException>(() => BrineCodec.Dump(value));
    }

    [Fact]
    public void Undumpable_EveryVectorRow_IsCoveredOrKnownUnrepresentable()
    {
        foreach (JsonElement row in VectorFile.Rows("undumpable"))
        {
            string name = row.GetProperty("name").GetString()!;
            Assert.True(s_undumpable.ContainsKey(name) || s_notRepresentable.Contains(name), $"new undumpable row '{name}' has no test");
        }
    }

    private static bool HasStringSet(object? value) => value switch
    {
        PyFrozenSet set => set.Count(x => x is string) > 1 || set.Any(HasStringSet),
        PyTuple tuple => tuple.Any(HasStringSet),
        PySlice slice => HasStringSet(slice.Start) || HasStringSet(slice.Stop) || HasStringSet(slice.Step),
        _ => false,
    };
}
