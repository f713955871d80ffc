using System.Numerics;
using BrineCodec = Rpyc.Brine.Brine;

namespace Rpyc.Tests;

/// <summary>Writer→reader round trips for the .NET-side types, and the reader's limits.</summary>
public class BrineRoundTripTests
{
    public static TheoryData<object, string, object> IntegerWidths => new()
    {
        { 5, "55", 5L },
        { -1000, "16052d31303030", -1000L },
        { int.MaxValue, "160a32313437343833363437", (long)int.MaxValue },
        { int.MinValue, "160b2d32313437343833363438", (long)int.MinValue },
        { (short)-32768, "16062d3332373638", -32768L },
        { (short)159, "ef", 159L },
        { (byte)255, "1603323535", 255L },
        { (byte)0, "50", 0L },
        { (sbyte)-128, "16042d313238", -128L },
        { (sbyte)-48, "20", -48L },
        { uint.MaxValue, "160a34323934393637323935", (long)uint.MaxValue },
        { (ushort)65535, "16053635353335", 65535L },
        { 7UL, "57", 7L },
        { (ulong)long.MaxValue, "161339323233333732303336383534373735383037", long.MaxValue },
        { ulong.MaxValue, "16143138343436373434303733373039353531363135", new BigInteger(ulong.MaxValue) },
    };

    [Theory]
    [MemberData(nameof(IntegerWidths))]
    public void Dump_IntegerOfEveryWidth_WritesCanonicalIntAndLoadsAsLongOrBigInteger(object value, string hex, object loaded)
    {
        byte[] dumped = BrineCodec.Dump(value);

        Assert.Equal(hex, Convert.ToHexStringLower(dumped));
        ValueAssert.Identical(loaded, BrineCodec.Load(dumped));
    }

    [Theory]
    [InlineData(-49L, "16032d3439")]
    [InlineData(-48L, "20")]
    [InlineData(159L, "ef")]
    [InlineData(160L, "1603313630")]
    [InlineData(long.MinValue, "16142d39323233333732303336383534373735383038")]
    [InlineData(long.MaxValue, "161339323233333732303336383534373735383037")]
    public void Dump_LongBoundary_RoundTripsExactly(long value, string hex)
    {
        byte[] dumped = BrineCodec.Dump(value);

        Assert.Equal(hex, Convert.ToHexStringLower(dumped));
        ValueAssert.Identical(value, BrineCodec.Load(dumped));
        // The same value as a BigInteger writes the same bytes.
        Assert.Equal(dumped, BrineCodec.Dump(new BigInteger(value)));
    }

    [Fact]
    public void Load_JustOutsideLongRange_ReturnsBigInteger()
    {
        BigInteger above = (BigInteger)long.MaxValue + 1;
        BigInteger below = (BigInteger)long.MinValue - 1;

        ValueAssert.Identical(above, BrineCodec.Load(BrineCodec.Dump(above)));
        ValueAssert.Identical(below, BrineCodec.Load(BrineCodec.Dump(below)));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(-1)]
    public void Dump_BigIntegerTenToThe300_UsesIntL4AndRoundTrips(int sign)
    {
        BigInteger value = sign * BigInteger.Pow(10, 300);

        byte[] dumped = BrineCodec.Dump(value);

        int digits = sign > 0 ? 301 : 302;
        Assert.Equal(0x17, dumped[0]);
        Assert.Equal(5 + digits, dumped.Length);
        Assert.Equal((byte)digits, dumped[4]);
        ValueAssert.Identical(value, BrineCodec.Load(dumped));
    }

    [Fact]
    public void Dump_SingleFloat_WritesDouble()
    {
        Assert.Equal("183ff8000000000000", Convert.ToHexStringLower(BrineCodec.Dump(1.5f)));
    }

    [Fact]
    public void Dump_ByteMemoryTypes_WriteLikeByteArray()
    {
        byte[] data = [1, 2, 3, 4, 5, 6, 7];
        byte[] expected = BrineCodec.Dump(data[1..6]);

        Assert.Equal(expected, BrineCodec.Dump(new ReadOnlyMemory<byte>(data, 1, 5)));
        Assert.Equal(expected, BrineCodec.Dump(new Memory<byte>(data, 1, 5)));
        Assert.Equal(expected, BrineCodec.Dump(new ArraySegment<byte>(data, 1, 5)));
        Assert.Equal("0e050203040506", Convert.ToHexStringLower(expected));
        Assert.True(BrineCodec.IsDumpable(new ArraySegment<byte>(data)));
    }

    [Fact]
    public void Dump_OneMebibyteBytes_UsesStrL4AndRoundTrips()
    {
        byte[] data = new byte[1 << 20];
        new Random(1).NextBytes(data);

        byte[] dumped = BrineCodec.Dump(data);

        Assert.Equal("0f00100000", Convert.ToHexStringLower(dumped.AsSpan(0, 5)));
        Assert.Equal(data.Length + 5, dumped.Length);
        ValueAssert.Identical(data, BrineCodec.Load(dumped));
    }

    // Built in code: xUnit would mangle lone surrogates in serialized theory data.
    public static TheoryData<int> LoneSurrogateCases => [0, 1, 2, 3];

    [Theory]
    [MemberData(nameof(LoneSurrogateCases))]
    public void Dump_StringWithLoneSurrogate_ThrowsArgumentException(int index)
    {
        string value = index switch
        {
            0 => new string((char)0xD800, 1),
            1 => "a" + (char)0xDC00 + "b",
            2 => "x" + (char)0xD83D,
            _ => new string('y', 2000) + (char)0xDFFF, // past the stack buffer
        };

        Assert.Throws<ArgumentException>(() => BrineCodec.Dump(value));
        Assert.Throws<ArgumentException>(() => BrineCodec.Dump(new PyTuple(1L, value)));
    }

    [Fact]
    public void Dump_LongStringOutsideStackBuffer_RoundTrips()
    {
        string value = string.Concat(Enumerable.Repeat("é😀x", 500));

        ValueAssert.Identical(value, BrineCodec.Load(BrineCodec.Dump(value)));
    }

    [Fact]
    public void Dump_NestedTuples_RoundTrip()
    {
        var value = new PyTuple(
            PyTuple.Empty,
            new PyTuple(new PyTuple(1L, "a", new byte[] { 0 })),
            new PyTuple(new PyFrozenSet(1L, 2L), new PySlice(1L, null, new PyTuple(2.5))),
            new PyTuple(Enumerable.Range(0, 300).Select(i => (object?)new PyTuple((long)i)).ToArray()));

        ValueAssert.Identical(value, BrineCodec.Load(BrineCodec.Dump(value)));
    }

    [Fact]
    public void Load_TupleNested300Deep_ThrowsWithDefaultMaxDepthAndLoadsWithMaxDepth400()
    {
        PyTuple value = PyTuple.Empty;
        for (int i = 0; i < 300; i++)
        {
            value = new PyTuple(value);
        }
        byte[] dumped = BrineCodec.Dump(value);

        Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(dumped));
        ValueAssert.Identical(value, BrineCodec.Load(dumped, maxDepth: 400));
    }

    [Fact]
    public void Load_NestingExactlyAtMaxDepth_Loads()
    {
        PyTuple value = PyTuple.Empty;
        for (int i = 0; i < 10; i++)
        {
            value = new PyTuple(value);
        }
        byte[] dumped = BrineCodec.Dump(value);

        ValueAssert.Identical(value, BrineCodec.Load(dumped, maxDepth: 10));
        Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(dumped, maxDepth: 9));
    }

    [Fact]
    public void Load_SlicesAndFrozenSetsNestedPastMaxDepth_Throws()
    {
        object? value = 1L;
        for (int i = 0; i < 300; i++)
        {
            value = i % 2 == 0 ? new PySlice(value, null, null) : new PyFrozenSet(value);
        }
        byte[] dumped = BrineCodec.Dump(value);

        Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(dumped));
    }

    [Theory]
    [InlineData("15ffffffff5051525354")] // TAG_TUP_L4, 4294967295 items, 5 bytes left
    [InlineData("0fffffffff6162636465")] // TAG_STR_L4, 4 GiB - 1 bytes, 5 bytes left
    [InlineData("08 0fffffffff6162636465")] // the same inside TAG_UNICODE
    [InlineData("17ffffffff3132333435")] // TAG_INT_L4, 4 GiB - 1 digits
    [InlineData("157fffffff5051525354")] // int.MaxValue items
    [InlineData("1580000000")] // a count that is negative as an int32
    public void Load_HugeLengthOverShortInput_ThrowsProtocolExceptionFast(string hex)
    {
        byte[] input = Convert.FromHexString(hex.Replace(" ", "", StringComparison.Ordinal));

        Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(input));
    }

    [Fact]
    public void Load_Empty_ThrowsProtocolException()
    {
        Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(ReadOnlyMemory<byte>.Empty));
    }

    [Fact]
    public void DumpLoad_RandomValueTrees_AreByteIdentical()
    {
        var generator = new RandomBrineValues(seed: 20240611);
        for (int i = 0; i < 200; i++)
        {
            object? value = generator.Next(depth: 4);

            byte[] first = BrineCodec.Dump(value);
            object? loaded = BrineCodec.Load(first);
            byte[] second = BrineCodec.Dump(loaded);

            Assert.True(ValueAssert.AreIdentical(value, loaded), $"iteration {i}: {PyValue.Repr(value)} loaded as {PyValue.Repr(loaded)}");
            Assert.Equal(Convert.ToHexStringLower(first), Convert.ToHexStringLower(second));
        }
    }
}
