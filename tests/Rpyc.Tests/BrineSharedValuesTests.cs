using Rpyc.Brine;
using BrineCodec = Rpyc.Brine.Brine;

namespace Rpyc.Tests;

/// <summary>
/// What the reader shares instead of allocating again: short strings (BrineStrings) and the boxed
/// empty tuple of a call's args and kwargs. Shared or not, every value loads equal to what was dumped.
/// </summary>
public class BrineSharedValuesTests
{
    [Theory]
    [InlineData("ping")]
    [InlineData("Rpyc.MicroBenchmarks.MicroService")]
    [InlineData("ünïcödé – ok")]
    public void Load_ShortStringTwice_SameInstanceAndEqual(string text)
    {
        byte[] dumped = BrineCodec.Dump(text);
        // The table is shared with every test running meanwhile: another string may take the slot
        // between two loads, rarely; three tries in a row cannot all lose it.
        bool shared = false;
        for (int attempt = 0; attempt < 3 && !shared; attempt++)
        {
            object? first = BrineCodec.Load(dumped);
            object? second = BrineCodec.Load(dumped);
            Assert.Equal(text, first);
            Assert.Equal(text, second);
            shared = ReferenceEquals(first, second);
        }
        Assert.True(shared, "a short string was decoded into a new instance each time");
    }

    [Fact]
    public void Load_StringOverTheSharedLength_EqualButNotShared()
    {
        string text = new('x', BrineStrings.MaxLength + 1);
        byte[] dumped = BrineCodec.Dump(text);
        object? first = BrineCodec.Load(dumped);
        Assert.Equal(text, first);
        Assert.NotSame(first, BrineCodec.Load(dumped));
    }

    [Fact]
    public void Load_ShortInvalidUtf8_StillAProtocolError()
    {
        // TAG_UNICODE, then a 2-byte string holding a lone continuation byte and a truncated lead byte.
        byte[] input = [BrineTag.Unicode, BrineTag.Str2, 0x80, 0xC3];
        var ex = Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(input));
        Assert.Contains("invalid UTF-8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_LabelWithEmptyTuple_SharedAndEqual()
    {
        byte[] dumped = BrineCodec.Dump(new PyTuple(1L, PyTuple.Empty));
        object? first = BrineCodec.Load(dumped);
        Assert.Equal(new PyTuple(1L, PyTuple.Empty), first);
        Assert.Same(first, BrineCodec.Load(dumped));
    }

    [Theory]
    [InlineData(16L)]
    [InlineData(-1L)]
    public void Load_OtherPairs_NewTuplesEqualToTheDumped(long label)
    {
        foreach (PyTuple pair in new[] { new PyTuple(label, PyTuple.Empty), new PyTuple(1L, 2L), new PyTuple(PyTuple.Empty, 1L) })
        {
            byte[] dumped = BrineCodec.Dump(pair);
            object? first = BrineCodec.Load(dumped);
            Assert.Equal(pair, first);
            Assert.NotSame(first, BrineCodec.Load(dumped));
        }
    }
}
