using System.Globalization;
using System.Numerics;
using System.Text;

namespace Rpyc;

/// <summary>Python semantics for brine values: equality, hashing, <c>repr</c> and <c>str</c>.</summary>
public static class PyValue
{
    /// <summary>
    /// Python equality: numbers compare by value across types (<c>1 == 1.0 == True == 1+0j</c>,
    /// ints exactly against floats, <c>-0.0 == 0.0</c>), bytes by content, tuples, slices and
    /// frozensets structurally. Unlike Python's <c>==</c>, a NaN equals any NaN, so that a value
    /// equals its own round trip; inside a <see cref="PyFrozenSet"/> NaNs stay distinct, as in a Python set.
    /// </summary>
    /// <param name="a">A value.</param>
    /// <param name="b">Another value.</param>
    public static bool Equal(object? a, object? b) => PyEquality.Equal(a, b, setSemantics: false);

    /// <summary>A hash consistent with <see cref="Equal"/>, seeded per process as .NET string hashes are.</summary>
    /// <param name="value">The value.</param>
    public static int Hash(object? value) => PyEquality.Hash(value, setSemantics: false);

    internal static bool TryInteger(object value, out BigInteger result)
    {
        switch (value)
        {
            case long l: result = l; return true;
            case int i: result = i; return true;
            case BigInteger b: result = b; return true;
            case short s: result = s; return true;
            case sbyte sb: result = sb; return true;
            case byte u8: result = u8; return true;
            case ushort u16: result = u16; return true;
            case uint u32: result = u32; return true;
            case ulong u64: result = u64; return true;
            default: result = default; return false;
        }
    }

    /// <summary>Python's <c>str()</c> of a brine value (strings unquoted, everything else as <see cref="Repr"/>).</summary>
    /// <param name="value">The value.</param>
    public static string Str(object? value) => value is string s ? s : Repr(value);

    /// <summary>Python's <c>repr()</c> of a brine value, e.g. <c>(1, 'a', b'\x00', None)</c>.</summary>
    /// <param name="value">The value.</param>
    public static string Repr(object? value)
    {
        var sb = new StringBuilder();
        AppendRepr(sb, value);
        return sb.ToString();
    }

    private static void AppendRepr(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case null: sb.Append("None"); break;
            case bool b: sb.Append(b ? "True" : "False"); break;
            case string s: AppendStringRepr(sb, s); break;
            case byte[] bytes: AppendBytesRepr(sb, bytes); break;
            case PooledBytes { IsDisposed: false } pooled: AppendBytesRepr(sb, pooled.ToArray()); break;
            case double d: sb.Append(FloatRepr(d)); break;
            case float f: sb.Append(FloatRepr(f)); break;
            case Complex c: sb.Append(ComplexRepr(c)); break;
            case PyTuple t:
                sb.Append('(');
                AppendItems(sb, t);
                sb.Append(t.Count == 1 ? ",)" : ")");
                break;
            case PyFrozenSet fs:
                if (fs.Count == 0)
                {
                    sb.Append("frozenset()");
                    break;
                }
                sb.Append("frozenset({");
                AppendItems(sb, fs);
                sb.Append("})");
                break;
            case PySlice s:
                sb.Append("slice(");
                AppendRepr(sb, s.Start);
                sb.Append(", ");
                AppendRepr(sb, s.Stop);
                sb.Append(", ");
                AppendRepr(sb, s.Step);
                sb.Append(')');
                break;
            case PyEllipsis: sb.Append("Ellipsis"); break;
            case PyNotImplemented: sb.Append("NotImplemented"); break;
            default:
                if (TryInteger(value, out BigInteger i))
                {
                    sb.Append(i.ToString(CultureInfo.InvariantCulture));
                }
                else
                {
                    sb.Append(value.ToString());
                }
                break;
        }
    }

    private static void AppendItems(StringBuilder sb, IEnumerable<object?> items)
    {
        bool first = true;
        foreach (object? item in items)
        {
            if (!first)
            {
                sb.Append(", ");
            }
            first = false;
            AppendRepr(sb, item);
        }
    }

    // Python's float repr: the shortest round-trip digits, in fixed notation when the decimal
    // exponent is in [-4, 16) and in exponent notation otherwise ("1e+16", "5e-324").
    private static string FloatRepr(double d, bool forceDecimalPoint = true)
    {
        if (double.IsNaN(d))
        {
            return "nan";
        }
        if (double.IsInfinity(d))
        {
            return d > 0 ? "inf" : "-inf";
        }
        string sign = double.IsNegative(d) ? "-" : "";
        if (d == 0)
        {
            return sign + (forceDecimalPoint ? "0.0" : "0");
        }
        // "E16" is not shortest; "R" is, in either notation: normalise it to digits and exponent.
        string r = Math.Abs(d).ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOf('E', StringComparison.Ordinal);
        int exponent = e < 0 ? 0 : int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        string mantissa = e < 0 ? r : r[..e];
        int dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        string digits = dot < 0 ? mantissa : mantissa.Remove(dot, 1);
        int pointAt = (dot < 0 ? mantissa.Length : dot) + exponent;
        int leadingZeros = digits.Length - digits.TrimStart('0').Length;
        digits = digits.Trim('0');
        pointAt -= leadingZeros;
        int sci = pointAt - 1;
        if (sci is >= -4 and < 16)
        {
            string whole = pointAt <= 0 ? "0" : digits.PadRight(pointAt, '0')[..pointAt];
            string fraction = pointAt < 0 ? new string('0', -pointAt) + digits : digits.Length > pointAt ? digits[pointAt..] : "";
            return sign + whole + (fraction.Length > 0 ? "." + fraction : forceDecimalPoint ? ".0" : "");
        }
        string head = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
        return $"{sign}{head}e{(sci < 0 ? '-' : '+')}{Math.Abs(sci):00}";
    }

    // Python's complex repr: "2j" when the real part is +0.0, else "(re+imj)", parts without a forced ".0".
    private static string ComplexRepr(Complex c)
    {
        string imaginary = FloatRepr(c.Imaginary, forceDecimalPoint: false);
        if (c.Real == 0 && !double.IsNegative(c.Real))
        {
            return imaginary + "j";
        }
        string joiner = imaginary.StartsWith('-') ? "" : "+";
        return $"({FloatRepr(c.Real, forceDecimalPoint: false)}{joiner}{imaginary}j)";
    }

    // unicodeobject.c unicode_repr: code points that are not printable (str.isprintable) are
    // escaped as \xhh, \uhhhh or \Uhhhhhhhh, the shortest that holds them; a lone surrogate too.
    private static void AppendStringRepr(StringBuilder sb, string s)
    {
        char quote = s.Contains('\'') && !s.Contains('"') ? '"' : '\'';
        sb.Append(quote);
        for (int i = 0; i < s.Length;)
        {
            if (Rune.DecodeFromUtf16(s.AsSpan(i), out Rune rune, out int used) != System.Buffers.OperationStatus.Done)
            {
                AppendEscape(sb, s[i]);
                i++;
                continue;
            }
            i += used;
            switch (rune.Value)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (rune.Value == quote)
                    {
                        sb.Append('\\').Append(quote);
                    }
                    else if (IsPrintable(rune))
                    {
                        sb.Append(s, i - used, used);
                    }
                    else
                    {
                        AppendEscape(sb, rune.Value);
                    }
                    break;
            }
        }
        sb.Append(quote);
    }

    // Python's Py_UNICODE_ISPRINTABLE: not "Other" (Cc, Cf, Cs, Co, Cn) nor "Separator" (Zl, Zp,
    // Zs) except the ASCII space. The categories are .NET's Unicode version's, which may differ
    // from the peer's Python for code points assigned since.
    private static bool IsPrintable(Rune rune) => rune.Value == ' ' || Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
            or UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            or UnicodeCategory.SpaceSeparator => false,
        _ => true,
    };

    private static void AppendEscape(StringBuilder sb, int codePoint)
    {
        (string prefix, string format) = codePoint switch
        {
            < 0x100 => ("\\x", "x2"),
            < 0x10000 => ("\\u", "x4"),
            _ => ("\\U", "x8"),
        };
        sb.Append(prefix).Append(codePoint.ToString(format, CultureInfo.InvariantCulture));
    }

    private static void AppendBytesRepr(StringBuilder sb, byte[] bytes)
    {
        char quote = Array.IndexOf(bytes, (byte)'\'') >= 0 && Array.IndexOf(bytes, (byte)'"') < 0 ? '"' : '\'';
        sb.Append('b').Append(quote);
        foreach (byte b in bytes)
        {
            switch (b)
            {
                case (byte)'\\': sb.Append("\\\\"); break;
                case (byte)'\n': sb.Append("\\n"); break;
                case (byte)'\r': sb.Append("\\r"); break;
                case (byte)'\t': sb.Append("\\t"); break;
                default:
                    if (b == quote)
                    {
                        sb.Append('\\').Append((char)b);
                    }
                    else if (b < 0x20 || b >= 0x7f)
                    {
                        sb.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append((char)b);
                    }
                    break;
            }
        }
        sb.Append(quote);
    }
}
