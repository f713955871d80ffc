using System.Buffers;
using System.Globalization;
using System.Text;

namespace Rpyc.Bench;

/// <summary>How the body of an HTTP/1.x response is delimited (RFC 9112 §6.3).</summary>
internal enum HttpBodyFraming
{
    /// <summary>Exactly <see cref="HttpResponseHead.ContentLength"/> bytes (zero for 1xx, 204 and 304).</summary>
    ContentLength,

    /// <summary>Transfer-Encoding: chunked; decode with <see cref="ChunkedBodyDecoder"/>.</summary>
    Chunked,

    /// <summary>No length: the body ends when the server closes the connection.</summary>
    UntilClose,
}

/// <summary>The parsed status line and the headers that frame an HTTP/1.x response.</summary>
/// <param name="StatusCode">The three-digit status code.</param>
/// <param name="MinorVersion">0 for HTTP/1.0, 1 for HTTP/1.1.</param>
/// <param name="Framing">How the body ends.</param>
/// <param name="ContentLength">The body length when <paramref name="Framing"/> is <see cref="HttpBodyFraming.ContentLength"/>, else -1.</param>
/// <param name="KeepAlive">Whether the connection stays open after the body.</param>
internal readonly record struct HttpResponseHead(int StatusCode, int MinorVersion, HttpBodyFraming Framing, long ContentLength, bool KeepAlive);

/// <summary>
/// A pure HTTP/1.x response-head parser over bytes: it never reads a socket. <see cref="TryParseHead"/>
/// returns <c>false</c> when the head is not complete yet and throws <see cref="InvalidReplyException"/>
/// only on malformed input, as Kestrel's <c>HttpParser</c> does for requests. Strict where a lenient
/// reading could hide a broken server: CRLF line ends, no obsolete line folding, one Content-Length.
/// </summary>
internal static class HttpResponseParser
{
    /// <summary>The longest head accepted (status line and headers).</summary>
    public const int MaxHeadLength = 64 * 1024;

    /// <summary>The most header fields accepted.</summary>
    public const int MaxHeaderCount = 100;

    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;

    /// <summary>Parses a response head from the start of <paramref name="buffer"/>.</summary>
    /// <param name="buffer">Received bytes; on success, advanced past the head's final empty line.</param>
    /// <param name="head">The parsed head.</param>
    /// <returns><c>false</c> when more bytes are needed (nothing is consumed).</returns>
    /// <exception cref="InvalidReplyException">The bytes are not a valid HTTP/1.x response head.</exception>
    public static bool TryParseHead(ref ReadOnlySequence<byte> buffer, out HttpResponseHead head)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> raw, HeadEnd, advancePastDelimiter: true))
        {
            if (buffer.Length > MaxHeadLength)
            {
                Throw($"no end of the response head within {MaxHeadLength} bytes");
            }
            CheckStart(buffer);
            head = default;
            return false;
        }
        if (raw.Length > MaxHeadLength)
        {
            Throw($"the response head is {raw.Length} bytes, more than {MaxHeadLength}");
        }
        if (raw.IsSingleSegment)
        {
            head = Parse(raw.FirstSpan);
        }
        else
        {
            byte[] copy = ArrayPool<byte>.Shared.Rent((int)raw.Length);
            try
            {
                raw.CopyTo(copy);
                head = Parse(copy.AsSpan(0, (int)raw.Length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        }
        buffer = buffer.Slice(reader.Position);
        return true;
    }

    // Garbage (e.g. a server that does not speak HTTP) fails as soon as its first bytes are in,
    // rather than after 64 KiB or a timeout.
    private static void CheckStart(ReadOnlySequence<byte> buffer)
    {
        ReadOnlySpan<byte> prefix = "HTTP/1."u8;
        int n = (int)Math.Min(buffer.Length, prefix.Length);
        Span<byte> start = stackalloc byte[prefix.Length];
        buffer.Slice(0, n).CopyTo(start);
        if (!start[..n].SequenceEqual(prefix[..n]))
        {
            Throw($"the response does not start with 'HTTP/1.' but '{Printable(start[..n])}'");
        }
    }

    // status-line = HTTP-version SP status-code SP [ reason-phrase ], then field-line CRLF pairs
    // (RFC 9112 §4, §5); head excludes the final CRLF CRLF.
    private static HttpResponseHead Parse(ReadOnlySpan<byte> head)
    {
        int lineEnd = head.IndexOf("\r\n"u8);
        ReadOnlySpan<byte> statusLine = lineEnd < 0 ? head : head[..lineEnd];
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || (statusLine[7] != (byte)'0' && statusLine[7] != (byte)'1')
            || statusLine[8] != (byte)' ' || !IsDigits(statusLine.Slice(9, 3)) || (statusLine.Length > 12 && statusLine[12] != (byte)' '))
        {
            Throw($"malformed status line '{Printable(statusLine)}'");
        }
        int minor = statusLine[7] - '0';
        int status = ((statusLine[9] - '0') * 100) + ((statusLine[10] - '0') * 10) + (statusLine[11] - '0');
        if (status < 100)
        {
            Throw($"status code {status} in '{Printable(statusLine)}' is not a valid code");
        }
        bool keepAlive = minor == 1;
        long contentLength = -1;
        bool chunked = false;
        bool otherCoding = false;
        int fields = 0;
        ReadOnlySpan<byte> rest = lineEnd < 0 ? default : head[(lineEnd + 2)..];
        while (!rest.IsEmpty)
        {
            int next = rest.IndexOf("\r\n"u8);
            ReadOnlySpan<byte> line = next < 0 ? rest : rest[..next];
            rest = next < 0 ? default : rest[(next + 2)..];
            if (++fields > MaxHeaderCount)
            {
                Throw($"more than {MaxHeaderCount} header fields");
            }
            int colon = line.IndexOf((byte)':');
            if (colon <= 0 || !IsToken(line[..colon]))
            {
                Throw(line.Length > 0 && (line[0] == (byte)' ' || line[0] == (byte)'\t')
                    ? $"obsolete line folding in header line '{Printable(line)}'"
                    : $"malformed header line '{Printable(line)}'");
            }
            ReadOnlySpan<byte> name = line[..colon];
            ReadOnlySpan<byte> value = line[(colon + 1)..].Trim(" \t"u8);
            if (value.IndexOfAny((byte)'\r', (byte)'\n', (byte)0) >= 0)
            {
                Throw($"a control character in the value of header '{Printable(name)}'");
            }
            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                if (!IsDigits(value) || value.Length > 18)
                {
                    Throw($"invalid Content-Length '{Printable(value)}'");
                }
                long length = long.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
                if (contentLength >= 0 && contentLength != length)
                {
                    Throw($"two different Content-Length values, {contentLength} and {length}");
                }
                contentLength = length;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                // The last coding says how the body ends; only chunked is understood.
                int comma = value.LastIndexOf((byte)',');
                ReadOnlySpan<byte> last = (comma < 0 ? value : value[(comma + 1)..]).Trim(" \t"u8);
                chunked = Ascii.EqualsIgnoreCase(last, "chunked"u8);
                otherCoding |= comma >= 0 || !chunked;
            }
            else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                foreach (Range token in value.Split((byte)','))
                {
                    ReadOnlySpan<byte> option = value[token].Trim(" \t"u8);
                    if (Ascii.EqualsIgnoreCase(option, "close"u8))
                    {
                        keepAlive = false;
                    }
                    else if (Ascii.EqualsIgnoreCase(option, "keep-alive"u8))
                    {
                        keepAlive = true;
                    }
                }
            }
        }
        if (otherCoding)
        {
            Throw("a Transfer-Encoding other than plain 'chunked', which this client does not decode");
        }
        // RFC 9112 §6.3: 1xx, 204 and 304 never have a body; then chunked wins over Content-Length.
        HttpBodyFraming framing;
        if (status < 200 || status == 204 || status == 304)
        {
            (framing, contentLength) = (HttpBodyFraming.ContentLength, 0);
        }
        else if (chunked)
        {
            (framing, contentLength) = (HttpBodyFraming.Chunked, -1);
        }
        else if (contentLength >= 0)
        {
            framing = HttpBodyFraming.ContentLength;
        }
        else
        {
            (framing, keepAlive) = (HttpBodyFraming.UntilClose, false);
        }
        return new HttpResponseHead(status, minor, framing, contentLength, keepAlive);
    }

    private static bool IsDigits(ReadOnlySpan<byte> text) => !text.IsEmpty && !text.ContainsAnyExceptInRange((byte)'0', (byte)'9');

    // token = 1*tchar (RFC 9110 §5.6.2)
    private static bool IsToken(ReadOnlySpan<byte> text)
    {
        foreach (byte b in text)
        {
            if (b <= 0x20 || b >= 0x7f || "\"(),/:;<=>?@[\\]{}"u8.Contains(b))
            {
                return false;
            }
        }
        return true;
    }

    internal static string Printable(ReadOnlySpan<byte> text)
    {
        var builder = new StringBuilder(Math.Min(text.Length, 80));
        foreach (byte b in text[..Math.Min(text.Length, 80)])
        {
            builder.Append(b is >= 0x20 and < 0x7f ? (char)b : '.');
        }
        return text.Length > 80 ? builder.Append("...").ToString() : builder.ToString();
    }

    [System.Diagnostics.CodeAnalysis.DoesNotReturn]
    internal static void Throw(string what) => throw new InvalidReplyException($"Malformed HTTP response: {what}.");
}

/// <summary>
/// Decodes a chunked body (RFC 9112 §7.1) from bytes as they arrive, without reading a socket:
/// <c>chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF</c>, ended by a zero-size chunk, optional
/// trailer fields and an empty line. Create one per response.
/// </summary>
internal struct ChunkedBodyDecoder
{
    /// <summary>The longest chunk-size line or trailer line accepted.</summary>
    public const int MaxLineLength = 4096;

    /// <summary>The largest chunk accepted.</summary>
    public const long MaxChunkLength = int.MaxValue;

    private static readonly SearchValues<char> s_hexDigits = SearchValues.Create("0123456789abcdefABCDEF");
    private State _state;
    private long _remaining;

    private enum State
    {
        Size,
        Data,
        DataEnd,
        Trailer,
        Done,
    }

    /// <summary>Whether the last chunk and the trailer section have been consumed.</summary>
    public readonly bool IsComplete => _state == State.Done;

    /// <summary>Body bytes returned so far.</summary>
    public long BodyLength { get; private set; }

    /// <summary>
    /// Consumes framing from <paramref name="buffer"/> until it reaches body bytes, needs more input,
    /// or the body is complete.
    /// </summary>
    /// <param name="buffer">Received bytes; advanced past what was consumed.</param>
    /// <param name="data">Body bytes (a slice of the input, consumed) when the result is <c>true</c>.</param>
    /// <returns><c>true</c> with body bytes; <c>false</c> when more input is needed or <see cref="IsComplete"/>.</returns>
    /// <exception cref="InvalidReplyException">Malformed chunk framing.</exception>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> data)
    {
        data = default;
        while (true)
        {
            switch (_state)
            {
                case State.Done:
                    return false;
                case State.Data:
                    if (buffer.IsEmpty)
                    {
                        return false;
                    }
                    long take = Math.Min(_remaining, buffer.Length);
                    data = buffer.Slice(0, take);
                    buffer = buffer.Slice(take);
                    _remaining -= take;
                    BodyLength += take;
                    if (_remaining == 0)
                    {
                        _state = State.DataEnd;
                    }
                    return true;
                case State.DataEnd:
                    if (buffer.Length < 2)
                    {
                        return false;
                    }
                    if (!IsCrlf(buffer.Slice(0, 2)))
                    {
                        HttpResponseParser.Throw($"chunk data not followed by CRLF but '{HttpResponseParser.Printable(buffer.Slice(0, 2).ToArray())}'");
                    }
                    buffer = buffer.Slice(2);
                    _state = State.Size;
                    break;
                case State.Size:
                    if (!TryReadLine(ref buffer, "chunk-size line", out string? line))
                    {
                        return false;
                    }
                    _remaining = ParseSize(line!);
                    _state = _remaining == 0 ? State.Trailer : State.Data;
                    break;
                case State.Trailer:
                    if (!TryReadLine(ref buffer, "trailer line", out string? trailer))
                    {
                        return false;
                    }
                    if (trailer!.Length == 0)
                    {
                        _state = State.Done;
                    }
                    else if (trailer.IndexOf(':', StringComparison.Ordinal) <= 0)
                    {
                        HttpResponseParser.Throw($"malformed trailer line '{trailer}'");
                    }
                    break;
            }
        }
    }

    private static bool IsCrlf(ReadOnlySequence<byte> two)
    {
        Span<byte> bytes = stackalloc byte[2];
        two.CopyTo(bytes);
        return bytes.SequenceEqual("\r\n"u8);
    }

    // chunk-size = 1*HEXDIG, then an optional ";" chunk-ext (ignored).
    private static long ParseSize(string line)
    {
        int semicolon = line.IndexOf(';', StringComparison.Ordinal);
        ReadOnlySpan<char> hex = (semicolon < 0 ? line : line[..semicolon]).AsSpan().TrimEnd(" \t");
        ReadOnlySpan<char> significant = hex.TrimStart('0');
        if (hex.IsEmpty || hex.ContainsAnyExcept(s_hexDigits) || significant.Length > 8)
        {
            HttpResponseParser.Throw($"invalid chunk size line '{HttpResponseParser.Printable(Encoding.ASCII.GetBytes(line))}'");
        }
        long size = significant.IsEmpty ? 0 : long.Parse(significant, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        if (size > MaxChunkLength)
        {
            HttpResponseParser.Throw($"a chunk of {size} bytes, more than {MaxChunkLength}");
        }
        return size;
    }

    // A CRLF-terminated line (at most MaxLineLength bytes of visible ASCII, SP and HTAB), consumed
    // with its CRLF.
    private static bool TryReadLine(ref ReadOnlySequence<byte> buffer, string what, out string? line)
    {
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> raw, "\r\n"u8, advancePastDelimiter: true))
        {
            if (buffer.Length > MaxLineLength)
            {
                HttpResponseParser.Throw($"a {what} longer than {MaxLineLength} bytes");
            }
            line = null;
            return false;
        }
        if (raw.Length > MaxLineLength)
        {
            HttpResponseParser.Throw($"a {what} longer than {MaxLineLength} bytes");
        }
        byte[] bytes = raw.ToArray();
        foreach (byte b in bytes)
        {
            if ((b < 0x20 && b != (byte)'\t') || b >= 0x7f)
            {
                HttpResponseParser.Throw($"byte 0x{b:x2} in a {what} '{HttpResponseParser.Printable(bytes)}'");
            }
        }
        line = Encoding.ASCII.GetString(bytes);
        buffer = buffer.Slice(reader.Position);
        return true;
    }
}
