using System.Buffers.Binary;
using System.Numerics;
using Rpyc.Brine;
using Rpyc.Channel;
using Rpyc.Transport;
using BrineCodec = Rpyc.Brine.Brine;

namespace Rpyc.Tests;

/// <summary>
/// Input a hostile peer can send: every load stays linear in its size, and each limit of
/// <see cref="BrineLimits"/> answers with <see cref="RpycProtocolException"/>.
/// </summary>
public class BrineHostileInputTests
{
    // TAG_FSET + TAG_TUP_L4 count + items
    private static byte[] FrozenSetOf(IReadOnlyList<byte[]> items)
    {
        var output = new List<byte> { BrineTag.FrozenSet, BrineTag.TupL4 };
        byte[] count = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(count, items.Count);
        output.AddRange(count);
        foreach (byte[] item in items)
        {
            output.AddRange(item);
        }
        return [.. output];
    }

    private static byte[] FloatBytes(double value) => BrineCodec.Dump(value);

    // TAG_INT_L4 + length + ASCII digits
    private static byte[] IntLiteral(string digits)
    {
        byte[] output = new byte[5 + digits.Length];
        output[0] = BrineTag.IntL4;
        BinaryPrimitives.WriteInt32BigEndian(output.AsSpan(1), digits.Length);
        System.Text.Encoding.ASCII.GetBytes(digits, output.AsSpan(5));
        return output;
    }

    [Fact]
    public void Load_FrozenSetOf100kDistinctFloats_KeepsEveryItemInOrder()
    {
        var items = Enumerable.Range(0, 100_000).Select(i => FloatBytes(i + 0.5)).ToList();

        var set = (PyFrozenSet)BrineCodec.Load(FrozenSetOf(items))!;

        Assert.Equal(100_000, set.Count);
        Assert.Equal(0.5, set.First());
        Assert.Equal(99_999.5, set.Last());
        Assert.True(set.Contains(4242.5));
        Assert.False(set.Contains(4242.25));
    }

    [Fact]
    public void PyFrozenSet_DistinctItems_CompareOnlyOnHashMatch()
    {
        // Pairwise construction made n²/2 comparisons: 50 million here.
        object?[] first = [.. Enumerable.Range(0, 10_000).Select(i => new CountingItem(i))];
        object?[] second = [.. Enumerable.Range(0, 10_000).Reverse().Select(i => new CountingItem(i))];

        var a = new PyFrozenSet(first);
        var b = new PyFrozenSet(second);
        int afterCreation = CountingItem.Comparisons(first) + CountingItem.Comparisons(second);
        bool equal = a.Equals(b);

        Assert.Equal(10_000, a.Count);
        Assert.Equal(0, afterCreation);
        Assert.True(equal);
        // Each member of one set is looked up once in the other, found by hash.
        Assert.Equal(10_000, CountingItem.Comparisons(first) + CountingItem.Comparisons(second));
    }

    [Fact]
    public void PyValueHash_LongsWhoseHalvesCancel_DoNotCollide()
    {
        // long.GetHashCode is lo ^ hi: all of these would share one bucket.
        var hashes = Enumerable.Range(1, 1000).Select(k => PyValue.Hash(((long)k << 32) | (uint)k)).ToHashSet();

        Assert.True(hashes.Count >= 990, $"{1000 - hashes.Count} collisions in 1000 hashes");
    }

    [Fact]
    public void Load_FrozenSetOfNaNs_KeepsEachNaNWithItsBits()
    {
        long[] patterns = [0x7ff8000000000000, 0x7ff8000000000001, unchecked((long)0xfff8000000000000), 0x7ff8000000000000];
        var items = patterns.Select(bits => FloatBytes(BitConverter.Int64BitsToDouble(bits))).ToList();

        var set = (PyFrozenSet)BrineCodec.Load(FrozenSetOf(items))!;

        // Python: NaN != NaN, so two NaNs loaded from the wire are two members, even with equal bits.
        Assert.Equal(patterns, set.Select(x => BitConverter.DoubleToInt64Bits((double)x!)));
    }

    [Fact]
    public void Load_FrozenSetOfTupleWithNaN_RoundTripsButEqualsOnlyItself()
    {
        // Found by the brine fuzz target: frozenset({(nan,)}).
        byte[] input = Convert.FromHexString("1a1010187fffffff80204b10");

        object? first = BrineCodec.Load(input);
        object? second = BrineCodec.Load(input);

        ValueAssert.Identical(first, second);
        Assert.Equal(input, BrineCodec.Dump(first));
        // Python: frozenset({(nan,)}) == a reloaded copy is False (NaN != NaN), and a set equals itself.
        Assert.False(PyValue.Equal(first, second));
        Assert.True(PyValue.Equal(first, first));
        Assert.Equal(PyValue.Hash(first), PyValue.Hash(first));
    }

    [Fact]
    public void Load_FrozenSetOfSignedZeros_KeepsTheFirstOnly()
    {
        var set = (PyFrozenSet)BrineCodec.Load(FrozenSetOf([FloatBytes(-0.0), FloatBytes(0.0)]))!;

        object? only = Assert.Single(set);
        Assert.Equal(ValueAssert.Bits(-0.0), ValueAssert.Bits((double)only!));
    }

    [Fact]
    public void PyFrozenSet_NumbersEqualInPython_AreOneMember()
    {
        var set = new PyFrozenSet(1L, 1.0, true, new Complex(1, 0), BigInteger.One, (byte)1, 2.5, new BigInteger(2.5e300), 2.5e300);

        Assert.Equal([1L, 2.5, new BigInteger(2.5e300)], set.ToArray());
        Assert.True(set.Contains(1.0));
        Assert.True(set.Contains(new Complex(2.5, 0)));
        Assert.False(set.Contains("1"));
    }

    [Theory]
    [InlineData(1, 2.0, false)]
    [InlineData(2L, 2.0, true)]
    [InlineData(true, 1.0, true)]
    [InlineData(false, 0L, true)]
    [InlineData(9007199254740993L, 9007199254740992.0, false)]
    [InlineData(-0.0, 0L, true)]
    [InlineData(double.NaN, double.NaN, true)]
    [InlineData(double.PositiveInfinity, long.MaxValue, false)]
    [InlineData("1", 1L, false)]
    public void PyValueEqual_Numbers_FollowPythonAndHashAlike(object a, object b, bool expected)
    {
        Assert.Equal(expected, PyValue.Equal(a, b));
        Assert.Equal(expected, PyValue.Equal(b, a));
        if (expected)
        {
            Assert.Equal(PyValue.Hash(a), PyValue.Hash(b));
        }
    }

    [Fact]
    public void PyValueEqual_IntAgainstFloatPastLongRange_ComparesExactly()
    {
        var big = BigInteger.Pow(2, 100);

        Assert.True(PyValue.Equal(big, Math.Pow(2, 100)));
        Assert.False(PyValue.Equal(big + 1, Math.Pow(2, 100)));
        Assert.Equal(PyValue.Hash(big), PyValue.Hash(Math.Pow(2, 100)));
        // (double)ulong.MaxValue rounds to 2^64; Python compares the exact values.
        Assert.False(PyValue.Equal(ulong.MaxValue, 18446744073709551616.0));
        Assert.True(PyValue.Equal((BigInteger)ulong.MaxValue + 1, new Complex(18446744073709551616.0, 0)));
    }

    [Fact]
    public void Load_IntOfMaxDigits_Loads()
    {
        string digits = "9" + new string('1', BrineLimits.DefaultMaxIntDigits - 1);

        object? value = BrineCodec.Load(IntLiteral("-" + digits));

        Assert.Equal(-BigInteger.Parse(digits, System.Globalization.CultureInfo.InvariantCulture), value);
    }

    [Fact]
    public void Load_IntOverMaxDigits_ThrowsProtocolException()
    {
        byte[] input = IntLiteral(new string('7', BrineLimits.DefaultMaxIntDigits + 1));

        var ex = Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(input));

        Assert.Contains("4301 digits", ex.Message, StringComparison.Ordinal);
        Assert.Contains("MaxIntDigits", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_MillionDigitInt_ThrowsBeforeConverting()
    {
        // 23 s of CPU before the limit; the check comes before any conversion.
        byte[] input = IntLiteral(new string('3', 1_000_000));

        Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(input));
    }

    [Fact]
    public void Load_LongIntWithNoDigitLimit_Loads()
    {
        string digits = "1" + new string('0', 10_000);

        object? value = BrineCodec.Load(IntLiteral(digits), new BrineLimits { MaxIntDigits = 0 });

        Assert.Equal(BigInteger.Pow(10, 10_000), value);
    }

    [Fact]
    public void Load_ItemsOverMaxItems_ThrowsProtocolException()
    {
        // ((1, 2, 3), (4, 5, 6)): 2 + 3 + 3 = 8 items at every depth.
        byte[] input = BrineCodec.Dump(new PyTuple(new PyTuple(1L, 2L, 3L), new PyTuple(4L, 5L, 6L)));

        Assert.NotNull(BrineCodec.Load(input, new BrineLimits { MaxItems = 8 }));
        var ex = Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(input, new BrineLimits { MaxItems = 7 }));
        Assert.Contains("MaxItems", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DepthOverMaxDepth_ThrowsProtocolException()
    {
        byte[] input = BrineCodec.Dump(new PyTuple(new PyTuple(new PyTuple(1L))));

        Assert.NotNull(BrineCodec.Load(input, new BrineLimits { MaxDepth = 3 }));
        Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(input, new BrineLimits { MaxDepth = 2 }));
    }

    [Fact]
    public void Load_MaxDepthArgument_BoundsNestingAndKeepsOtherDefaults()
    {
        byte[] nested = BrineCodec.Dump(new PyTuple(new PyTuple(1L)));
        byte[] longInt = IntLiteral(new string('5', BrineLimits.DefaultMaxIntDigits + 1));

        Assert.NotNull(BrineCodec.Load(nested, maxDepth: 2));
        Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(nested, maxDepth: 1));
        Assert.Equal(7L, BrineCodec.Load(new byte[] { 0x57 }, maxDepth: -1));
        Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(nested, maxDepth: -1));
        Assert.Throws<RpycProtocolException>(() => BrineCodec.Load(longInt, maxDepth: 5));
    }

    [Fact]
    public void BrineLimits_OutOfRangeValues_ThrowArgumentOutOfRange()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BrineLimits { MaxDepth = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new BrineLimits { MaxIntDigits = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new BrineLimits { MaxItems = 0 });
        Assert.Throws<ArgumentNullException>(() => BrineCodec.Load(new byte[] { 0 }, limits: null!));
    }

    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void Serve_PingWithMillionDigitInt_ClosesWithProtocolError(RpycProtocolVersion version)
    {
        (MemoryTransport serverEnd, MemoryTransport peerEnd) = MemoryTransport.CreatePair();
        using MemoryTransport peer = peerEnd;
        using var server = new RpycConnection(serverEnd, RpycConnectOptions.Default, new PairService(), version);
        Exception? reason = null;
        server.Closed += (_, ex) => reason = ex;
        // msg REQUEST, seq 0, args (HANDLE_PING, (int,)): 5.x as one brine 3-tuple, 6.x as a msg byte + 2-tuple.
        byte[] head = version == RpycProtocolVersion.V5 ? [BrineTag.Tup3, 0x51, 0x50] : [0x01, BrineTag.Tup2, 0x50];
        byte[] payload = [.. head, BrineTag.Tup2, 0x51, BrineTag.Tup1, .. IntLiteral(new string('8', 1_000_000))];

        peer.Send(FrameWriter.Encode(payload, compressionThreshold: int.MaxValue));
        server.Serve(TimeSpan.FromSeconds(30));

        Assert.True(server.IsClosed);
        Assert.IsType<RpycProtocolException>(reason);
        Assert.Contains("MaxIntDigits", reason.Message, StringComparison.Ordinal);
    }

    private sealed class CountingItem(int id)
    {
        private int _comparisons;

        public static int Comparisons(IEnumerable<object?> items) => items.Sum(x => ((CountingItem)x!)._comparisons);

        public override bool Equals(object? obj)
        {
            _comparisons++;
            return obj is CountingItem other && other.GetHashCode() == id;
        }

        public override int GetHashCode() => id;
    }
}
