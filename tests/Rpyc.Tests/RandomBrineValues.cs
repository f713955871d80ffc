using System.Numerics;
using System.Text;

namespace Rpyc.Tests;

/// <summary>
/// Seeded random brine value trees, already in their loaded form (ints as long or BigInteger),
/// so that <c>Load(Dump(v))</c> must be identical to <c>v</c>.
/// </summary>
internal sealed class RandomBrineValues
{
    private readonly Random _random;

    public RandomBrineValues(int seed) => _random = new Random(seed);

    public object? Next(int depth)
    {
        int kind = _random.Next(depth > 0 ? 16 : 12);
        return kind switch
        {
            0 => null,
            1 => _random.Next(2) == 0,
            2 => (long)_random.Next(-60, 200),
            3 => NextLong(),
            4 => NextBigInteger(),
            5 => BitConverter.Int64BitsToDouble(_random.NextInt64(long.MinValue, long.MaxValue)),
            6 => new Complex(_random.NextDouble() * 1e6 - 5e5, BitConverter.Int64BitsToDouble(_random.NextInt64())),
            7 => NextBytes(),
            8 => NextString(),
            9 => PyEllipsis.Instance,
            10 => PyNotImplemented.Instance,
            11 => NextString(),
            12 or 13 => new PyTuple(Enumerable.Range(0, NextCount()).Select(_ => Next(depth - 1)).ToArray()),
            14 => new PySlice(Next(depth - 1), Next(depth - 1), Next(depth - 1)),
            _ => NextFrozenSet(),
        };
    }

    private int NextCount() => _random.Next(10) switch
    {
        0 => 0,
        9 => _random.Next(250, 262),
        _ => _random.Next(1, 7),
    };

    private long NextLong() => _random.Next(3) switch
    {
        0 => _random.NextInt64(long.MinValue, long.MaxValue),
        1 => _random.Next(2) == 0 ? long.MinValue : long.MaxValue,
        _ => _random.Next(int.MinValue, int.MaxValue),
    };

    private BigInteger NextBigInteger()
    {
        // Outside the long range, up to about 300 digits.
        byte[] magnitude = new byte[_random.Next(9, 130)];
        _random.NextBytes(magnitude);
        magnitude[^1] |= 0x01;
        var value = new BigInteger(magnitude, isUnsigned: true) + ulong.MaxValue;
        return _random.Next(2) == 0 ? value : -value;
    }

    private byte[] NextBytes()
    {
        int length = _random.Next(4) switch
        {
            0 => _random.Next(0, 6),
            1 => _random.Next(250, 300),
            _ => _random.Next(0, 40),
        };
        byte[] bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }

    private string NextString()
    {
        var sb = new StringBuilder();
        int length = _random.Next(4) == 0 ? _random.Next(100, 300) : _random.Next(0, 8);
        for (int i = 0; i < length; i++)
        {
            switch (_random.Next(4))
            {
                case 0: sb.Append((char)_random.Next(0x20, 0x7f)); break;
                case 1: sb.Append((char)_random.Next(0x80, 0x800)); break;
                case 2: sb.Append((char)_random.Next(0x3000, 0xd000)); break;
                default: sb.Append(char.ConvertFromUtf32(_random.Next(0x10000, 0x10ffff))); break;
            }
        }
        return sb.ToString();
    }

    // Hashable, distinct-by-construction elements (duplicates would be dropped on creation anyway).
    private PyFrozenSet NextFrozenSet()
    {
        int count = _random.Next(0, 6);
        var items = new List<object?>();
        for (int i = 0; i < count; i++)
        {
            items.Add(_random.Next(3) switch
            {
                0 => (long)_random.Next(-100, 1000),
                1 => NextString(),
                _ => new PyTuple((long)i, NextBytes()),
            });
        }
        return new PyFrozenSet(items.ToArray());
    }
}
