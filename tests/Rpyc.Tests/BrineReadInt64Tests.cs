using System.Buffers;
using System.Numerics;
using CsCheck;
using Rpyc.Brine;
using BrineCodec = Rpyc.Brine.Brine;

namespace Rpyc.Tests;

/// <summary>
/// <see cref="BrineReader.TryReadInt64"/> reads an int without boxing it where a request carries
/// one (an id pack's ids): it must give what <see cref="BrineReader.Read"/> gives, or decline
/// without consuming anything, so that the general path reads the value with all its rules.
/// </summary>
public class BrineReadInt64Tests
{
    [Fact]
    public void EveryLong_ReadAsReadReadsItOrDeclined()
    {
        Gen.Frequency(
                (2, Gen.Long[-48, 159]),
                (3, Gen.Long),
                (1, Gen.OneOf(Gen.Const(long.MinValue), Gen.Const(long.MaxValue), Gen.Const(0L))))
            .Sample(value =>
            {
                byte[] encoded = BrineCodec.Dump(value);
                var reader = new BrineReader(new ReadOnlySequence<byte>(encoded), BrineLimits.Default);
                if (reader.TryReadInt64(out long read))
                {
                    Assert.Equal(value, read);
                    Assert.Equal(0, reader.Remaining);
                }
                else
                {
                    // Only 19 digits decline: they may not fit a long, so the general path reads them.
                    Assert.True(BigInteger.Abs(value).ToString(System.Globalization.CultureInfo.InvariantCulture).Length > 18, $"{value} declined");
                    Assert.Equal(encoded.Length, reader.Remaining);
                    Assert.Equal(value, reader.Read());
                }
            }, iter: 20_000);
    }

    [Theory]
    [InlineData("+5")]
    [InlineData("-")]
    [InlineData("1_000")]
    [InlineData(" 7")]
    [InlineData("12a")]
    [InlineData("1234567890123456789")]
    public void DigitsOnlyThePythonWriterWrites_AnythingElseDeclinedUnconsumed(string literal)
    {
        // TAG_INT_L1 | length | the literal: lenient Python forms and long ones go to Read.
        byte[] encoded = [BrineTag.IntL1, (byte)literal.Length, .. System.Text.Encoding.ASCII.GetBytes(literal)];
        var reader = new BrineReader(new ReadOnlySequence<byte>(encoded), BrineLimits.Default);

        Assert.False(reader.TryReadInt64(out _));
        Assert.Equal(encoded.Length, reader.Remaining);
    }

    [Fact]
    public void LeadingZerosAndMinusZero_ReadAsPythonReadsThem()
    {
        byte[] encoded = [BrineTag.IntL1, 3, (byte)'0', (byte)'0', (byte)'7', BrineTag.IntL1, 2, (byte)'-', (byte)'0'];
        var reader = new BrineReader(new ReadOnlySequence<byte>(encoded), BrineLimits.Default);

        Assert.True(reader.TryReadInt64(out long seven));
        Assert.True(reader.TryReadInt64(out long zero));
        Assert.Equal(7L, seven);
        Assert.Equal(0L, zero);
    }

    [Fact]
    public void MoreDigitsThanTheLimit_DeclinedUnconsumedAndRefusedByRead()
    {
        byte[] encoded = BrineCodec.Dump(123_456L);
        var reader = new BrineReader(new ReadOnlySequence<byte>(encoded), BrineLimits.Default with { MaxIntDigits = 5 });

        Assert.False(reader.TryReadInt64(out _));
        Assert.Equal(encoded.Length, reader.Remaining);
        try
        {
            reader.Read();
            Assert.Fail("Read took an int over the digit limit.");
        }
        catch (RpycProtocolException ex)
        {
            Assert.Contains("MaxIntDigits", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void NotAnInt_DeclinedUnconsumed()
    {
        byte[] encoded = BrineCodec.Dump("12");
        var reader = new BrineReader(new ReadOnlySequence<byte>(encoded), BrineLimits.Default);

        Assert.False(reader.TryReadInt64(out _));
        Assert.Equal(encoded.Length, reader.Remaining);
    }
}
