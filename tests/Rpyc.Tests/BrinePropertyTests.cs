using System.Numerics;
using CsCheck;
using BrineCodec = Rpyc.Brine.Brine;

namespace Rpyc.Tests;

/// <summary>
/// Properties of brine over generated values (CsCheck: a failure prints the seed and the shrunk
/// value): every value of the type mapping round-trips, and any bytes either load or throw
/// <see cref="RpycProtocolException"/>, in bounded time.
/// </summary>
public class BrinePropertyTests(ITestOutputHelper output)
{
    // Liveness bound for a whole property: a load that hangs fails the test instead of the run.
    private static readonly TimeSpan s_bound = TimeSpan.FromMinutes(3);

    private static readonly Gen<object?> s_integer = Gen.Frequency(
        (3, Gen.Int[-60, 200].Select(i => (object?)(long)i)),
        (2, Gen.Long.Select(l => (object?)l)),
        (1, Gen.OneOf(Gen.Const(long.MinValue), Gen.Const(long.MaxValue)).Select(l => (object?)l)),
        // Outside the long range, up to about 300 digits (the load limit is 4300).
        (2, Gen.Byte.Array[9, 125].Select(Gen.Bool, (magnitude, negative) =>
        {
            var value = new BigInteger(magnitude, isUnsigned: true) + ulong.MaxValue;
            return (object?)(negative ? -value - 1 : value);
        })));

    // Any bit pattern: NaN payloads, -0.0, infinities and subnormals must survive.
    private static readonly Gen<double> s_double = Gen.Frequency(
        (2, Gen.Long.Select(BitConverter.Int64BitsToDouble)),
        (1, Gen.Double.Special),
        (1, Gen.Double));

    // Scalar values only: a lone surrogate has no UTF-8 form and is refused by Dump, as by Python.
    private static readonly Gen<string> s_string = Gen.Frequency(
            (3, Gen.Int[0x20, 0x7e]),
            (1, Gen.Int[0x80, 0xd7ff]),
            (1, Gen.Int[0xe000, 0x10ffff]))
        .Select(char.ConvertFromUtf32).Array[0, 12].Select(parts => string.Concat(parts));

    private static readonly Gen<object?> s_scalar = Gen.Frequency(
        (1, Gen.Const((object?)null!)),
        (1, Gen.Bool.Select(b => (object?)b)),
        (5, s_integer),
        (3, s_double.Select(d => (object?)d)),
        (1, s_double.Select(s_double, (re, im) => (object?)new Complex(re, im))),
        (2, Gen.Byte.Array[0, 300].Select(b => (object?)b)),
        (3, s_string.Select(s => (object?)s)),
        (1, Gen.OneOf<object?>(PyEllipsis.Instance, PyNotImplemented.Instance)));

    private static readonly Gen<object?> s_value = Gen.Recursive<object?>((depth, value) => depth >= 4
        ? s_scalar
        : Gen.Frequency(
            (6, s_scalar),
            (2, value.Array[0, 6].Select(items => (object?)new PyTuple(items))),
            (1, value.Array[0, 6].Select(items => (object?)new PyFrozenSet(items))),
            (1, value.Select(value, value, (a, b, c) => (object?)new PySlice(a, b, c)))));

    [Fact]
    public async Task LoadDump_EveryMappedValue_RoundTripsIdentically()
    {
        await Bounded(() => s_value.Sample(value =>
        {
            byte[] dumped = BrineCodec.Dump(value);
            object? loaded = BrineCodec.Load(dumped);
            Assert.True(ValueAssert.AreIdentical(value, loaded), $"{PyValue.Repr(value)} came back as {PyValue.Repr(loaded)}");
            Assert.Equal(dumped, BrineCodec.Dump(loaded));
        }, iter: 3000, threads: 1, print: PyValue.Repr, writeLine: output.WriteLine));
    }

    [Fact]
    public async Task Load_ArbitraryBytes_LoadsOrThrowsProtocolException()
    {
        // Start most inputs with a tag byte so that the readers behind the tags get exercised.
        Gen<byte[]> input = Gen.Frequency(
            (1, Gen.Byte.Array[0, 64]),
            (3, Gen.Byte[0x00, 0x1b].Select(Gen.Byte.Array[0, 64], (tag, rest) => (byte[])[tag, .. rest])));
        await Bounded(() => input.Sample(LoadsOrRefuses, iter: 20_000, threads: 1, print: Convert.ToHexStringLower, writeLine: output.WriteLine));
    }

    [Fact]
    public async Task Load_MutatedDump_LoadsOrThrowsProtocolException()
    {
        // A valid encoding with one byte replaced, inserted or dropped, or cut short.
        Gen<byte[]> input = s_value.Select(v => BrineCodec.Dump(v)).Where(d => d.Length > 0)
            .SelectMany(dump => Gen.Int[0, dump.Length - 1].Select(Gen.Byte, Gen.Int[0, 3], (at, b, edit) => edit switch
            {
                0 => [.. dump[..at], b, .. dump[(at + 1)..]],
                1 => [.. dump[..at], b, .. dump[at..]],
                2 => [.. dump[..at], .. dump[(at + 1)..]],
                _ => dump[..at],
            }));
        await Bounded(() => input.Sample(LoadsOrRefuses, iter: 20_000, threads: 1, print: Convert.ToHexStringLower, writeLine: output.WriteLine));
    }

    [Fact]
    public async Task PyValueHash_EqualNumbers_HashAlike()
    {
        // A small pool, so that cross-type equalities (1 == 1.0 == True == 1+0j) come up often.
        Gen<object> number = Gen.Int[-3, 3].SelectMany(i => Gen.OneOf<object>(
            (long)i, i, (short)i, new BigInteger(i), (double)i, (float)i, new Complex(i, 0), i / 2.0, i == 0 ? -0.0 : i + 0.5, i is 0 or 1 ? i == 1 : (object)(sbyte)i));
        await Bounded(() => Gen.Select(number, number).Sample((a, b) =>
        {
            if (PyValue.Equal(a, b))
            {
                Assert.Equal(PyValue.Hash(a), PyValue.Hash(b));
            }
            Assert.Equal(PyValue.Equal(a, b), PyValue.Equal(b, a));
            Assert.Equal(PyValue.Equal(a, b), PyValue.Equal(new PyTuple(a), new PyTuple(b)));
        }, iter: 5000, threads: 1, writeLine: output.WriteLine));
    }

    [Fact]
    public async Task PyFrozenSet_AnyItems_DedupsAsPairwisePythonEquality()
    {
        Gen<object?> item = Gen.Frequency(
            (4, Gen.Int[-3, 3].SelectMany(i => Gen.OneOf<object?>((long)i, (double)i, i == 1, new BigInteger(i), i + 0.5))),
            (1, Gen.OneOf<object?>(double.NaN, -0.0, "1", new byte[] { 1 }, new PyTuple(1L), new PyTuple(1.0))));
        await Bounded(() => item.Array[0, 20].Sample(items =>
        {
            // The pairwise definition: keep an item unless an earlier kept item equals it (NaN never does).
            var expected = new List<object?>();
            foreach (object? x in items)
            {
                if (!expected.Exists(kept => ReferenceEquals(kept, x) || (!IsNaN(kept) && !IsNaN(x) && PyValue.Equal(kept, x))))
                {
                    expected.Add(x);
                }
            }

            var set = new PyFrozenSet(items);

            Assert.Equal(expected.Count, set.Count);
            Assert.All(expected.Zip(set), pair => Assert.Same(pair.First, pair.Second));
            Assert.True(set.Equals(new PyFrozenSet([.. Enumerable.Reverse(set)])));
        }, iter: 3000, threads: 1, writeLine: output.WriteLine));
    }

    private static bool IsNaN(object? value) => value is double d && double.IsNaN(d);

    private static void LoadsOrRefuses(byte[] input)
    {
        object? value;
        try
        {
            value = BrineCodec.Load(input);
        }
        catch (RpycProtocolException)
        {
            return;
        }
        // What loads must dump and load back to the same value.
        Assert.True(ValueAssert.AreIdentical(value, BrineCodec.Load(BrineCodec.Dump(value))), Convert.ToHexStringLower(input));
    }

    private static async Task Bounded(Action property) => await Task.Run(property).WaitAsync(s_bound);
}
