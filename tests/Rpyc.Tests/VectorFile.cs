using System.Globalization;
using System.Numerics;
using System.Text.Json;

namespace Rpyc.Tests;

/// <summary>
/// The golden vectors of <c>tests/vectors/brine.json</c> (made by the Python reference), and the
/// conversion of their typed-JSON values into the .NET values brine maps them to.
/// </summary>
internal static class VectorFile
{
    private static readonly Lazy<JsonDocument> s_document = new(() =>
        JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "vectors", "brine.json"))));

    public static JsonElement Root => s_document.Value.RootElement;

    /// <summary>The rows of one section (<c>dump</c>, <c>load_only</c>, <c>load_errors</c>, <c>undumpable</c>, <c>channel_frames</c>).</summary>
    public static IEnumerable<JsonElement> Rows(string section) => Root.GetProperty(section).EnumerateArray();

    /// <summary>The row of <paramref name="section"/> whose <c>name</c> is <paramref name="name"/>.</summary>
    public static JsonElement Row(string section, string name) =>
        Rows(section).Single(r => r.GetProperty("name").GetString() == name);

    /// <summary>The names of a section's rows, as theory data.</summary>
    public static TheoryData<string> Names(string section)
    {
        var data = new TheoryData<string>();
        foreach (JsonElement row in Rows(section))
        {
            data.Add(row.GetProperty("name").GetString()!);
        }
        return data;
    }

    public static byte[] Hex(JsonElement row, string property) => Convert.FromHexString(row.GetProperty(property).GetString()!);

    /// <summary>Converts a typed-JSON value (<c>{"t":"int","v":"-12"}</c>, ...) into its .NET value.</summary>
    public static object? ToValue(JsonElement typed)
    {
        string t = typed.GetProperty("t").GetString()!;
        switch (t)
        {
            case "none": return null;
            case "bool": return typed.GetProperty("v").GetBoolean();
            case "int": return ToInteger(typed.GetProperty("v").GetString()!);
            case "float": return ToDouble(typed);
            case "complex": return new Complex(ToDouble(typed.GetProperty("re")), ToDouble(typed.GetProperty("im")));
            case "bytes":
                if (typed.TryGetProperty("truncated", out JsonElement truncated) && truncated.GetBoolean())
                {
                    throw new InvalidDataException("a truncated bytes value has no exact .NET form");
                }
                return Convert.FromHexString(typed.GetProperty("hex").GetString()!);
            case "str": return typed.GetProperty("v").GetString()!;
            case "tuple": return new PyTuple(Items(typed));
            case "frozenset": return new PyFrozenSet(Items(typed));
            case "slice":
                return new PySlice(ToValue(typed.GetProperty("start")), ToValue(typed.GetProperty("stop")), ToValue(typed.GetProperty("step")));
            case "ellipsis": return PyEllipsis.Instance;
            case "notimplemented": return PyNotImplemented.Instance;
            default: throw new InvalidDataException($"unknown typed-JSON tag '{t}'");
        }
    }

    /// <summary>An int as brine loads it: <see cref="long"/> when it fits, else <see cref="BigInteger"/>.</summary>
    public static object ToInteger(string digits)
    {
        BigInteger value = BigInteger.Parse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        return value >= long.MinValue && value <= long.MaxValue ? (object)(long)value : value;
    }

    // The bits, not "v": "v" is lossy for NaN payloads and is a string for non-finite values.
    private static double ToDouble(JsonElement typed)
    {
        ulong bits = ulong.Parse(typed.GetProperty("bits").GetString()!, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        return BitConverter.Int64BitsToDouble((long)bits);
    }

    private static object?[] Items(JsonElement typed) => typed.GetProperty("items").EnumerateArray().Select(ToValue).ToArray();
}
