using System.Buffers;
using System.Text.Json;
using BrineCodec = Rpyc.Brine.Brine;

namespace Rpyc.Tests;

/// <summary>Every vector loaded whole, split at each byte, and one byte per segment.</summary>
public class BrineFragmentationTests
{
    public static TheoryData<string> DumpRows => VectorFile.Names("dump");

    public static TheoryData<string> LoadErrorRows => VectorFile.Names("load_errors");

    [Theory]
    [MemberData(nameof(DumpRows))]
    public void Load_FragmentedVector_ReturnsSameValue(string name)
    {
        JsonElement row = VectorFile.Row("dump", name);
        object? expected = VectorFile.ToValue(row.GetProperty("value"));
        byte[] input = VectorFile.Hex(row, "hex");

        foreach ((string shape, ReadOnlySequence<byte> sequence) in SequenceBuilder.AllShapes(input))
        {
            object? actual = BrineCodec.Load(sequence);
            Assert.True(ValueAssert.AreIdentical(expected, actual), $"{name}, {shape}: got {PyValue.Repr(actual)}");
        }
    }

    [Theory]
    [MemberData(nameof(LoadErrorRows))]
    public void Load_FragmentedInvalidEncoding_ThrowsProtocolException(string name)
    {
        byte[] input = VectorFile.Hex(VectorFile.Row("load_errors", name), "hex");

        foreach ((string _, ReadOnlySequence<byte> sequence) in SequenceBuilder.AllShapes(input))
        {
            Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(sequence));
        }
    }

    [Theory]
    [MemberData(nameof(DumpRows))]
    public void Load_EveryStrictPrefix_ThrowsProtocolException(string name)
    {
        byte[] input = VectorFile.Hex(VectorFile.Row("dump", name), "hex");

        for (int length = 0; length < input.Length; length++)
        {
            byte[] prefix = input[..length];
            Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(prefix));
        }
    }
}
