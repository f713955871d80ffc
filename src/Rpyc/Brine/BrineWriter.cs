using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Rpyc.Brine;

/// <summary>Writes brine values (rpyc/core/brine.py) in Python's canonical encoding.</summary>
internal ref struct BrineWriter
{
    private readonly IBufferWriter<byte> _output;

    public BrineWriter(IBufferWriter<byte> output) => _output = output;

    public static bool IsDumpable(object? value) => value switch
    {
        null or bool or string or double or float or Complex or BigInteger => true,
        long or int or short or sbyte or ulong or uint or ushort or byte => true,
        byte[] or ReadOnlyMemory<byte> or Memory<byte> or ArraySegment<byte> or PooledBytes => true,
        PyEllipsis or PyNotImplemented => true,
        PyTuple t => AllDumpable(t.AsSpan()),
        PyFrozenSet s => AllDumpable(s.AsSpan()),
        PySlice s => IsDumpable(s.Start) && IsDumpable(s.Stop) && IsDumpable(s.Step),
        _ => false,
    };

    private static bool AllDumpable(ReadOnlySpan<object?> items)
    {
        foreach (object? item in items)
        {
            if (!IsDumpable(item))
            {
                return false;
            }
        }
        return true;
    }

    public void Write(object? value)
    {
        switch (value)
        {
            case null: WriteTag(BrineTag.None); break;
            case bool b: WriteTag(b ? BrineTag.True : BrineTag.False); break;
            case int i: WriteInt(i); break;
            case long l: WriteInt(l); break;
            case string s: WriteString(s); break;
            case byte[] bytes: WriteBytes(bytes); break;
            case ReadOnlyMemory<byte> rom: WriteBytes(rom.Span); break;
            case Memory<byte> mem: WriteBytes(mem.Span); break;
            case ArraySegment<byte> seg: WriteBytes(seg); break;
            case PooledBytes pooled: WriteBytes(pooled.Span); break;
            case PyTuple t: WriteTuple(t.AsSpan()); break;
            case double d: WriteFloat(d); break;
            case float f: WriteFloat(f); break;
            case short i16: WriteInt(i16); break;
            case sbyte i8: WriteInt(i8); break;
            case byte u8: WriteInt(u8); break;
            case ushort u16: WriteInt(u16); break;
            case uint u32: WriteInt(u32); break;
            case ulong u64: WriteBigInt(u64); break;
            case BigInteger big: WriteBigInt(big); break;
            case Complex c: WriteComplex(c); break;
            case PyFrozenSet fs: WriteFrozenSet(fs); break;
            case PySlice sl: WriteSlice(sl); break;
            case PyEllipsis: WriteTag(BrineTag.Ellipsis); break;
            case PyNotImplemented: WriteTag(BrineTag.NotImplemented); break;
            default: throw new ArgumentException($"Cannot dump a value of type {value.GetType()}: it is not a brine value and must be passed by reference.", nameof(value));
        }
    }

    public void WriteTag(byte tag)
    {
        _output.GetSpan(1)[0] = tag;
        _output.Advance(1);
    }

    // brine.py: imm int 0x20..0xEF, else TAG_INT_L1 | uint8 len | ascii, or TAG_INT_L4 | uint32 len | ascii
    public void WriteInt(long value)
    {
        if (value >= BrineTag.ImmIntMin && value <= BrineTag.ImmIntMax)
        {
            WriteTag((byte)(value + BrineTag.ImmIntBias));
            return;
        }
        // A long has at most 20 characters, always an L1 length.
        Span<byte> span = _output.GetSpan(22);
        value.TryFormat(span[2..], out int written, default, System.Globalization.CultureInfo.InvariantCulture);
        span[0] = BrineTag.IntL1;
        span[1] = (byte)written;
        _output.Advance(written + 2);
    }

    public void WriteBigInt(BigInteger value)
    {
        if (value >= long.MinValue && value <= long.MaxValue)
        {
            WriteInt((long)value);
            return;
        }
        string digits = value.ToString(System.Globalization.CultureInfo.InvariantCulture);
        WriteLengthPrefixed(BrineTag.IntL1, BrineTag.IntL4, digits.Length);
        Span<byte> span = _output.GetSpan(digits.Length);
        int n = Encoding.ASCII.GetBytes(digits, span);
        _output.Advance(n);
    }

    // brine.py TAG_FLOAT: 8 bytes IEEE-754 binary64, big-endian
    public void WriteFloat(double value)
    {
        Span<byte> span = _output.GetSpan(9);
        span[0] = BrineTag.Float;
        BinaryPrimitives.WriteDoubleBigEndian(span[1..], value);
        _output.Advance(9);
    }

    // brine.py TAG_COMPLEX: real then imaginary, each binary64 big-endian
    public void WriteComplex(Complex value)
    {
        Span<byte> span = _output.GetSpan(17);
        span[0] = BrineTag.Complex;
        BinaryPrimitives.WriteDoubleBigEndian(span[1..], value.Real);
        BinaryPrimitives.WriteDoubleBigEndian(span[9..], value.Imaginary);
        _output.Advance(17);
    }

    // brine.py TAG_EMPTY_STR | TAG_STR1..4 + bytes | TAG_STR_L1 uint8 + bytes | TAG_STR_L4 uint32 + bytes
    public void WriteBytes(scoped ReadOnlySpan<byte> value)
    {
        WriteBytesHeader(value.Length);
        WriteRaw(value);
    }

    // TAG_EMPTY_STR | TAG_STR1..4 | TAG_STR_L1 uint8 len | TAG_STR_L4 uint32 len: the bytes follow.
    private void WriteBytesHeader(int n)
    {
        if (n == 0)
        {
            WriteTag(BrineTag.EmptyStr);
        }
        else if (n <= 4)
        {
            WriteTag((byte)(BrineTag.Str1 + n - 1));
        }
        else
        {
            WriteLengthPrefixed(BrineTag.StrL1, BrineTag.StrL4, n);
        }
    }

    // brine.py TAG_UNICODE + the bytes encoding of the UTF-8 form
    public void WriteString(string value)
    {
        WriteTag(BrineTag.Unicode);
        // Names are ASCII: their UTF-8 length is known before encoding, so the header is written
        // first and the characters are narrowed straight into the output.
        if (value.Length is > 0 and <= 1024 && System.Text.Ascii.IsValid(value))
        {
            WriteBytesHeader(value.Length);
            Span<byte> span = _output.GetSpan(value.Length);
            System.Text.Ascii.FromUtf16(value, span, out int written);
            _output.Advance(written);
            return;
        }
        int max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (max <= 1024)
        {
            Span<byte> scratch = stackalloc byte[max];
            WriteBytes(scratch[..EncodeUtf8(value, scratch)]);
            return;
        }
        byte[] rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            WriteBytes(rented.AsSpan(0, EncodeUtf8(value, rented)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static int EncodeUtf8(string value, Span<byte> destination)
    {
        try
        {
            return s_strictUtf8.GetBytes(value, destination);
        }
        catch (EncoderFallbackException ex)
        {
            // Python cannot encode lone surrogates either; refuse rather than send U+FFFD silently.
            throw new ArgumentException("The string contains a lone surrogate and has no UTF-8 form.", nameof(value), ex);
        }
    }

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // brine.py TAG_EMPTY_TUPLE | TAG_TUP1..4 | TAG_TUP_L1 uint8 count | TAG_TUP_L4 uint32 count, then the items
    public void WriteTuple(ReadOnlySpan<object?> items)
    {
        WriteTupleHeader(items.Length);
        foreach (object? item in items)
        {
            Write(item);
        }
    }

    public void WriteTupleHeader(int count)
    {
        if (count == 0)
        {
            WriteTag(BrineTag.EmptyTuple);
        }
        else if (count <= 4)
        {
            WriteTag((byte)(BrineTag.Tup1 + count - 1));
        }
        else
        {
            WriteLengthPrefixed(BrineTag.TupL1, BrineTag.TupL4, count);
        }
    }

    // brine.py TAG_FSET + tuple of the elements
    private void WriteFrozenSet(PyFrozenSet set)
    {
        WriteTag(BrineTag.FrozenSet);
        WriteTuple(set.AsSpan());
    }

    // brine.py TAG_SLICE + 3-tuple (start, stop, step)
    private void WriteSlice(PySlice slice)
    {
        WriteTag(BrineTag.Slice);
        WriteTupleHeader(3);
        Write(slice.Start);
        Write(slice.Stop);
        Write(slice.Step);
    }

    private void WriteLengthPrefixed(byte tagL1, byte tagL4, int length)
    {
        if (length < 256)
        {
            Span<byte> span = _output.GetSpan(2);
            span[0] = tagL1;
            span[1] = (byte)length;
            _output.Advance(2);
        }
        else
        {
            Span<byte> span = _output.GetSpan(5);
            span[0] = tagL4;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)length);
            _output.Advance(5);
        }
    }

    /// <summary>Writes a value that is already brine (a constant dumped once), as it is.</summary>
    public void WriteEncoded(scoped ReadOnlySpan<byte> brine) => WriteRaw(brine);

    private void WriteRaw(scoped ReadOnlySpan<byte> bytes)
    {
        // One copy into the output: large payloads ask for one big span rather than many small ones.
        Span<byte> span = _output.GetSpan(bytes.Length);
        bytes.CopyTo(span);
        _output.Advance(bytes.Length);
    }
}
