using System.Buffers;

namespace Rpyc.Brine;

/// <summary>
/// Dump and load of single brine values: the entry point for code and tests that hold whole
/// byte arrays. The message layer writes and reads through <see cref="BrineWriter"/> and
/// <see cref="BrineReader"/> directly.
/// </summary>
/// <remarks>
/// Type mapping, both ways (the README repeats it):
/// None ↔ <c>null</c>; bool ↔ <see cref="bool"/>; int ↔ <see cref="long"/> when it fits, else
/// <see cref="System.Numerics.BigInteger"/> (every .NET integer type dumps); float ↔ <see cref="double"/>
/// (bit patterns kept, so −0.0 and NaN survive); complex ↔ <see cref="System.Numerics.Complex"/>;
/// bytes ↔ <c>byte[]</c> (also dumps <see cref="ReadOnlyMemory{T}"/>, <see cref="Memory{T}"/>,
/// <see cref="ArraySegment{T}"/>); str ↔ <see cref="string"/>; tuple ↔ <see cref="PyTuple"/>;
/// frozenset ↔ <see cref="PyFrozenSet"/>; slice ↔ <see cref="PySlice"/>; Ellipsis and
/// NotImplemented ↔ <see cref="PyEllipsis"/> and <see cref="PyNotImplemented"/>.
/// </remarks>
public static class Brine
{
    /// <summary>Whether <paramref name="value"/> is a brine value (can be sent by value).</summary>
    /// <param name="value">The value to test.</param>
    public static bool IsDumpable(object? value) => BrineWriter.IsDumpable(value);

    /// <summary>Serializes one value.</summary>
    /// <param name="value">A brine value.</param>
    /// <returns>The canonical encoding, byte for byte what Python's <c>brine.dump</c> writes.</returns>
    /// <exception cref="ArgumentException">The value is not a brine value.</exception>
    public static byte[] Dump(object? value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new BrineWriter(buffer);
        writer.Write(value);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Deserializes one value that fills the whole input.</summary>
    /// <param name="data">The encoded value.</param>
    /// <param name="maxDepth">The deepest nesting of tuples, frozensets and slices accepted.</param>
    /// <returns>The value, with the types listed on <see cref="Brine"/>.</returns>
    /// <exception cref="RpycProtocolException">The input is malformed, truncated, too deep, followed by extra bytes, or past a <see cref="BrineLimits.Default"/> limit.</exception>
    public static object? Load(ReadOnlyMemory<byte> data, int maxDepth = BrineLimits.DefaultMaxDepth) =>
        Load(new ReadOnlySequence<byte>(data), maxDepth);

    /// <summary>Deserializes one value that fills the whole input.</summary>
    /// <param name="data">The encoded value, possibly in several segments.</param>
    /// <param name="maxDepth">The deepest nesting of tuples, frozensets and slices accepted.</param>
    /// <returns>The value.</returns>
    /// <exception cref="RpycProtocolException">The input is malformed, truncated, too deep, followed by extra bytes, or past a <see cref="BrineLimits.Default"/> limit.</exception>
    public static object? Load(ReadOnlySequence<byte> data, int maxDepth = BrineLimits.DefaultMaxDepth) =>
        Load(data, LimitsWithDepth(maxDepth));

    // The message layer passes RpycConnectOptions.MaxBrineDepth on every message: keep the last
    // non-default limits rather than allocate them each time. A negative depth refuses every tuple, as before.
    private static BrineLimits LimitsWithDepth(int maxDepth)
    {
        maxDepth = Math.Max(maxDepth, 0);
        if (maxDepth == BrineLimits.DefaultMaxDepth)
        {
            return BrineLimits.Default;
        }
        BrineLimits? last = s_lastLimits;
        if (last is null || last.MaxDepth != maxDepth)
        {
            last = BrineLimits.Default with { MaxDepth = maxDepth };
            s_lastLimits = last;
        }
        return last;
    }

    private static volatile BrineLimits? s_lastLimits;

    /// <summary>Deserializes one value that fills the whole input, within the given limits.</summary>
    /// <param name="data">The encoded value.</param>
    /// <param name="limits">The bounds on depth, item count and int length.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="limits"/> is <c>null</c>.</exception>
    /// <exception cref="RpycProtocolException">The input is malformed, truncated, followed by extra bytes, or past a limit.</exception>
    public static object? Load(ReadOnlyMemory<byte> data, BrineLimits limits) =>
        Load(new ReadOnlySequence<byte>(data), limits);

    /// <summary>Deserializes one value that fills the whole input, within the given limits.</summary>
    /// <param name="data">The encoded value, possibly in several segments.</param>
    /// <param name="limits">The bounds on depth, item count and int length.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="limits"/> is <c>null</c>.</exception>
    /// <exception cref="RpycProtocolException">The input is malformed, truncated, followed by extra bytes, or past a limit.</exception>
    public static object? Load(ReadOnlySequence<byte> data, BrineLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var reader = new BrineReader(data, limits);
        object? value = reader.Read();
        // Python ignores trailing bytes; inside a frame they can only be corruption, so refuse them.
        if (reader.Remaining != 0)
        {
            throw ProtocolErrors.Brine($"{reader.Remaining} unexpected bytes after the value at offset {reader.Consumed}");
        }
        return value;
    }
}
