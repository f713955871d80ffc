using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;

namespace Rpyc.Brine;

/// <summary>
/// Reads one brine value. Strict where Python is lenient in ways that only corrupt data produces
/// (truncated byte strings); lenient where Python is (non-canonical ints, lengths and tuples).
/// Depth, item count and int digits are capped (<see cref="BrineLimits"/>) because the peer is
/// untrusted: every load takes time linear in its input.
/// </summary>
internal ref struct BrineReader
{
    private SequenceReader<byte> _reader;
    private readonly int _maxDepth;
    private readonly int _maxItems;
    private readonly int _maxIntDigits;
    private readonly BytesLender? _lender;
    private int _depth;
    private int _items;

    public BrineReader(ReadOnlySequence<byte> input, BrineLimits limits, BytesLender? lender = null)
    {
        _lender = lender;
        _reader = new SequenceReader<byte>(input);
        _maxDepth = limits.MaxDepth;
        _maxItems = limits.MaxItems;
        _maxIntDigits = limits.MaxIntDigits;
    }

    public readonly long Consumed => _reader.Consumed;

    public readonly long Remaining => _reader.Remaining;

    public object? Read()
    {
        long offset = _reader.Consumed;
        byte tag = ReadByte();
        switch (tag)
        {
            case BrineTag.None: return null;
            case BrineTag.EmptyStr: return Array.Empty<byte>();
            case BrineTag.EmptyTuple: return PyTuple.Empty;
            case BrineTag.True: return true;
            case BrineTag.False: return false;
            case BrineTag.NotImplemented: return PyNotImplemented.Instance;
            case BrineTag.Ellipsis: return PyEllipsis.Instance;
            case BrineTag.Unicode: return ReadUnicode();
            case >= BrineTag.Str1 and <= BrineTag.Str4: return ReadBytes(tag - BrineTag.Str1 + 1);
            case BrineTag.StrL1: return ReadBytes(ReadByte());
            case BrineTag.StrL4: return ReadLargeBytes(ReadLength());
            case >= BrineTag.Tup1 and <= BrineTag.Tup4: return ReadTuple(tag - BrineTag.Tup1 + 1);
            case BrineTag.TupL1: return ReadTuple(ReadByte());
            case BrineTag.TupL4: return ReadTuple(ReadLength());
            case BrineTag.IntL1: return ReadDecimal(ReadByte());
            case BrineTag.IntL4: return ReadDecimal(ReadLength());
            case BrineTag.Float: return ReadDouble();
            case BrineTag.Slice: return ReadSlice();
            case BrineTag.FrozenSet: return ReadFrozenSet();
            case BrineTag.Complex:
                double re = ReadDouble();
                return new Complex(re, ReadDouble());
            case >= BrineTag.ImmIntFirst and <= BrineTag.ImmIntLast: return s_immediateInts[tag - BrineTag.ImmIntFirst];
            default:
                throw ProtocolErrors.Brine($"unknown brine tag 0x{tag:x2} at offset {offset}");
        }
    }

    private byte ReadByte()
    {
        if (!_reader.TryRead(out byte b))
        {
            throw ProtocolErrors.Brine($"truncated: need 1 byte at offset {_reader.Consumed}");
        }
        return b;
    }

    // uint32 big-endian length of TAG_STR_L4 / TAG_TUP_L4 / TAG_INT_L4
    private int ReadLength()
    {
        if (!_reader.TryReadBigEndian(out int raw))
        {
            throw ProtocolErrors.Brine($"truncated: need 4 bytes at offset {_reader.Consumed}");
        }
        uint length = (uint)raw;
        // Every length counts at least one byte each; more than what is left cannot be valid.
        if (length > _reader.Remaining)
        {
            throw ProtocolErrors.Brine($"length {length} at offset {_reader.Consumed - 4} exceeds the {_reader.Remaining} bytes left in the message");
        }
        return (int)length;
    }

    private void Need(int count)
    {
        if (_reader.Remaining < count)
        {
            throw ProtocolErrors.Brine($"truncated: need {count} bytes at offset {_reader.Consumed}");
        }
    }

    private byte[] ReadBytes(int length)
    {
        Need(length);
        byte[] result = GC.AllocateUninitializedArray<byte>(length);
        _reader.TryCopyTo(result);
        _reader.Advance(length);
        return result;
    }

    // TAG_STR_L4 values may be lent from the pool instead (see BytesLender).
    private object ReadLargeBytes(int length)
    {
        if (_lender is null || !_lender.Lends(length))
        {
            return ReadBytes(length);
        }
        Need(length);
        PooledBytes lease = _lender.Lend(_reader.UnreadSequence.Slice(0, length));
        _reader.Advance(length);
        return lease;
    }

    private readonly ReadOnlySpan<byte> Gather(Span<byte> destination)
    {
        _reader.UnreadSequence.Slice(0, destination.Length).CopyTo(destination);
        return destination;
    }

    // A short string with a byte above 0x7f: decoded strictly on the stack, then looked up.
    private static string DecodeShort(ReadOnlySpan<byte> bytes)
    {
        Span<char> chars = stackalloc char[BrineStrings.MaxLength];
        return BrineStrings.Get(chars[..s_strictUtf8.GetChars(bytes, chars)]);
    }

    [SkipLocalsInit]
    private string ReadUnicode()
    {
        long offset = _reader.Consumed;
        byte tag = ReadByte();
        int length = tag switch
        {
            BrineTag.EmptyStr => 0,
            >= BrineTag.Str1 and <= BrineTag.Str4 => tag - BrineTag.Str1 + 1,
            BrineTag.StrL1 => ReadByte(),
            BrineTag.StrL4 => ReadLength(),
            _ => throw ProtocolErrors.Brine($"TAG_UNICODE not followed by a byte string (tag 0x{tag:x2} at offset {offset})"),
        };
        Need(length);
        try
        {
            if (length <= BrineStrings.MaxLength)
            {
                // A name: looked up, so a repeated one allocates nothing; read where it lies when it
                // is in one segment (nearly always), else gathered on the stack.
                ReadOnlySpan<byte> unread = _reader.UnreadSpan;
                Span<byte> gathered = stackalloc byte[BrineStrings.MaxLength];
                ReadOnlySpan<byte> bytes = unread.Length >= length ? unread[..length] : Gather(gathered[..length]);
                string name = BrineStrings.GetAscii(bytes) ?? DecodeShort(bytes);
                _reader.Advance(length);
                return name;
            }
            ReadOnlySequence<byte> slice = _reader.UnreadSequence.Slice(0, length);
            _reader.Advance(length);
            return s_strictUtf8.GetString(slice);
        }
        catch (DecoderFallbackException ex)
        {
            throw ProtocolErrors.Brine($"invalid UTF-8 in the string at offset {offset}: {ex.Message}");
        }
    }

    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // Boxed once: labels, handler codes, message kinds and small counts all travel as immediate ints.
    private static readonly object[] s_immediateInts = Enumerable.Range(BrineTag.ImmIntMin, BrineTag.ImmIntMax - BrineTag.ImmIntMin + 1).Select(i => (object)(long)i).ToArray();

    private PyTuple ReadTuple(int count)
    {
        if (count == 0)
        {
            return PyTuple.Empty;
        }
        EnterTuple(count);
        if (count == 2)
        {
            return ReadPair();
        }
        var items = new object?[count];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = Read();
        }
        _depth--;
        return PyTuple.Wrap(items);
    }

    // A boxed empty tuple, (label, ()), is the args and the kwargs of nearly every call: two tuples
    // of 64 B each per CALLATTR. Tuples are immutable, so those pairs are made once.
    private static readonly PyTuple[] s_smallIntWithEmpty = Enumerable.Range(0, 16).Select(i => PyTuple.Wrap([s_immediateInts[i - BrineTag.ImmIntMin], PyTuple.Empty])).ToArray();

    /// <summary>
    /// Enters the tuple that comes next, with the same checks and limits as <see cref="Read"/> (it
    /// counts one level and its items); the caller reads its items and then calls <see cref="ExitTuple"/>.
    /// False, consuming nothing, when the next value is not a tuple of at least one item.
    /// </summary>
    /// <remarks>For a caller that knows the shape it expects and builds its own objects (the
    /// connection unboxing while it reads) instead of the tuples <see cref="Read"/> would make.</remarks>
    public bool TryEnterTuple(out int count)
    {
        count = 0;
        if (!_reader.TryPeek(out byte tag) || tag is not ((>= BrineTag.Tup1 and <= BrineTag.Tup4) or BrineTag.TupL1 or BrineTag.TupL4))
        {
            return false;
        }
        _reader.Advance(1);
        count = tag switch
        {
            BrineTag.TupL1 => ReadByte(),
            BrineTag.TupL4 => ReadLength(),
            _ => tag - BrineTag.Tup1 + 1,
        };
        if (count == 0)
        {
            // TAG_TUP_L1 with a zero length: () as Read gives it, no level entered.
            throw ProtocolErrors.Brine($"an empty tuple where a tuple of items was expected, at offset {_reader.Consumed}");
        }
        EnterTuple(count);
        return true;
    }

    // A tuple of count (> 0) items: one level deeper, and its items counted before any array is
    // made for them, so a refused message allocates nothing. Read and TryEnterTuple both come here.
    private void EnterTuple(int count)
    {
        if (count > _reader.Remaining)
        {
            throw ProtocolErrors.Brine($"tuple of {count} items at offset {_reader.Consumed} exceeds the {_reader.Remaining} bytes left");
        }
        Enter();
        if (count > _maxItems - _items)
        {
            throw ProtocolErrors.Brine($"tuple of {count} items at offset {_reader.Consumed} takes the message past its limit of {_maxItems} items (BrineLimits.MaxItems)");
        }
        _items += count;
    }

    /// <summary>Leaves the tuple <see cref="TryEnterTuple"/> entered, once its items are read.</summary>
    public void ExitTuple() => _depth--;

    /// <summary>The unread bytes of the current segment: the rest of the message when it is one segment, as nearly always.</summary>
    public readonly ReadOnlySpan<byte> UnreadSpan => _reader.UnreadSpan;

    /// <summary>
    /// Skips the next <paramref name="length"/> bytes, which the caller knows to encode a tuple of
    /// <paramref name="items"/> values that are not tuples (it read the same bytes before), counting
    /// its level and items against the limits as reading it would.
    /// </summary>
    public void SkipFlatTuple(int length, int items)
    {
        EnterTuple(items);
        _depth--;
        _reader.Advance(length);
    }

    /// <summary>
    /// Reads the next value when it is an int that fits a long, without boxing it: an immediate, or
    /// TAG_INT_L1 with an optional '-' and at most 18 digits (and the limit's) in this segment. False, consuming nothing,
    /// otherwise: <see cref="Read"/> then reads it with every leniency and limit of the general path.
    /// </summary>
    public bool TryReadInt64(out long value)
    {
        if (TryReadImmediateInt(out value))
        {
            return true;
        }
        ReadOnlySpan<byte> unread = _reader.UnreadSpan;
        if (unread.Length < 3 || unread[0] != BrineTag.IntL1 || unread[1] == 0 || unread.Length < 2 + unread[1])
        {
            return false;
        }
        ReadOnlySpan<byte> digits = unread.Slice(2, unread[1]);
        bool negative = digits[0] == (byte)'-';
        int first = negative ? 1 : 0;
        // Past MaxIntDigits the general path refuses the int, with its message.
        if (digits.Length == first || digits.Length - first > 18 || (_maxIntDigits > 0 && digits.Length - first > _maxIntDigits))
        {
            return false;
        }
        long result = 0;
        for (int i = first; i < digits.Length; i++)
        {
            uint digit = (uint)(digits[i] - '0');
            if (digit > 9)
            {
                return false;
            }
            result = (result * 10) + digit;
        }
        value = negative ? -result : result;
        _reader.Advance(2 + digits.Length);
        return true;
    }

    /// <summary>Reads the next value when it is an immediate int (-48..159); false, consuming nothing, otherwise.</summary>
    public bool TryReadImmediateInt(out long value)
    {
        if (_reader.TryPeek(out byte tag) && tag is >= BrineTag.ImmIntFirst and <= BrineTag.ImmIntLast)
        {
            _reader.Advance(1);
            value = tag - BrineTag.ImmIntBias;
            return true;
        }
        value = 0;
        return false;
    }

    // The two items of a 2-tuple, read before its array is made so a (label, ()) needs none.
    private PyTuple ReadPair()
    {
        object? first = Read();
        object? second = Read();
        _depth--;
        if (ReferenceEquals(second, PyTuple.Empty) && first is long small && small >= 0 && small < s_smallIntWithEmpty.Length)
        {
            return s_smallIntWithEmpty[small];
        }
        return PyTuple.Wrap([first, second]);
    }

    private void Enter()
    {
        if (++_depth > _maxDepth)
        {
            throw ProtocolErrors.Brine($"nesting deeper than {_maxDepth} levels at offset {_reader.Consumed}");
        }
    }

    // ASCII decimal, optional sign, leading zeros allowed (Python's int(bytes)).
    private object ReadDecimal(int length)
    {
        long offset = _reader.Consumed;
        Need(length);
        // Text to BigInteger and back is quadratic in the digit count; Python 3.11 refuses the same.
        // Checked before the digits are copied or parsed, so a refused int costs nothing.
        if (_maxIntDigits > 0 && length > _maxIntDigits && _reader.TryPeek(out byte first))
        {
            int digitCount = first is (byte)'-' or (byte)'+' ? length - 1 : length;
            if (digitCount > _maxIntDigits)
            {
                throw ProtocolErrors.Brine($"int at offset {offset} has {digitCount} digits, over the limit of {_maxIntDigits} (BrineLimits.MaxIntDigits; Python's limit for integer string conversion is also 4300)");
            }
        }
        Span<byte> small = stackalloc byte[32];
        byte[]? rented = length > small.Length ? ArrayPool<byte>.Shared.Rent(length) : null;
        try
        {
            Span<byte> digits = rented is null ? small[..length] : rented.AsSpan(0, length);
            _reader.TryCopyTo(digits);
            _reader.Advance(length);
            if (!IsDecimalLiteral(digits))
            {
                throw ProtocolErrors.Brine($"invalid literal for int() with base 10: '{Encoding.ASCII.GetString(digits[..Math.Min(digits.Length, 64)])}' at offset {offset}");
            }
            if (long.TryParse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long small64))
            {
                return small64;
            }
            return BigInteger.Parse(Encoding.ASCII.GetString(digits), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private static bool IsDecimalLiteral(ReadOnlySpan<byte> s)
    {
        if (!s.IsEmpty && (s[0] == (byte)'-' || s[0] == (byte)'+'))
        {
            s = s[1..];
        }
        if (s.IsEmpty)
        {
            return false;
        }
        foreach (byte b in s)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }
        }
        return true;
    }

    private double ReadDouble()
    {
        if (!_reader.TryReadBigEndian(out long bits))
        {
            throw ProtocolErrors.Brine($"truncated: need 8 bytes at offset {_reader.Consumed}");
        }
        return BitConverter.Int64BitsToDouble(bits);
    }

    private PySlice ReadSlice()
    {
        Enter();
        long offset = _reader.Consumed;
        if (Read() is not PyTuple { Count: 3 } parts)
        {
            throw ProtocolErrors.Brine($"TAG_SLICE not followed by a 3-tuple at offset {offset}");
        }
        _depth--;
        return new PySlice(parts[0], parts[1], parts[2]);
    }

    private PyFrozenSet ReadFrozenSet()
    {
        Enter();
        long offset = _reader.Consumed;
        if (Read() is not PyTuple items)
        {
            throw ProtocolErrors.Brine($"TAG_FSET not followed by a tuple at offset {offset}");
        }
        _depth--;
        return new PyFrozenSet(items.AsSpan());
    }
}
