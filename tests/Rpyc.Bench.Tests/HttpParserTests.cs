using System.Buffers;
using System.Text;

namespace Rpyc.Bench.Tests;

// HttpResponseParser and ChunkedBodyDecoder over bytes only: whole, split at every position, one
// byte per segment, and malformed input.
public class HttpParserTests
{
    private const string KestrelPing = "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Type: text/plain\r\nDate: Sat, 05 Dec 2026 06:00:00 GMT\r\n\r\npong";

    [Fact]
    public void TryParseHead_KestrelResponse_ParsesStatusLengthKeepAlive()
    {
        ReadOnlySequence<byte> buffer = Sequence(KestrelPing);
        Assert.True(HttpResponseParser.TryParseHead(ref buffer, out HttpResponseHead head));
        Assert.Equal(new HttpResponseHead(200, 1, HttpBodyFraming.ContentLength, 4, KeepAlive: true), head);
        Assert.Equal("pong", Encoding.ASCII.GetString(buffer.ToArray()));
    }

    [Theory]
    [InlineData("HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n", 0, nameof(HttpBodyFraming.ContentLength), 3L, false)]
    [InlineData("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n", 0, nameof(HttpBodyFraming.ContentLength), 3L, true)]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 3\r\n\r\n", 1, nameof(HttpBodyFraming.ContentLength), 3L, false)]
    [InlineData("HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n", 1, nameof(HttpBodyFraming.Chunked), -1L, true)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n", 1, nameof(HttpBodyFraming.Chunked), -1L, true)]
    [InlineData("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", 1, nameof(HttpBodyFraming.UntilClose), -1L, false)]
    [InlineData("HTTP/1.1 204 No Content\r\n\r\n", 1, nameof(HttpBodyFraming.ContentLength), 0L, true)]
    [InlineData("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", 1, nameof(HttpBodyFraming.ContentLength), 0L, true)]
    [InlineData("HTTP/1.1 100 Continue\r\n\r\n", 1, nameof(HttpBodyFraming.ContentLength), 0L, true)]
    [InlineData("HTTP/1.1 200\r\nContent-Length:7\r\n\r\n", 1, nameof(HttpBodyFraming.ContentLength), 7L, true)]
    [InlineData("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n", 1, nameof(HttpBodyFraming.ContentLength), 0L, true)]
    [InlineData("HTTP/1.1 200 OK\r\nConnection: Upgrade, close\r\nContent-Length: 1\r\n\r\n", 1, nameof(HttpBodyFraming.ContentLength), 1L, false)]
    public void TryParseHead_Variants_FramesTheBody(string text, int minor, string framing, long contentLength, bool keepAlive)
    {
        ReadOnlySequence<byte> buffer = Sequence(text);
        Assert.True(HttpResponseParser.TryParseHead(ref buffer, out HttpResponseHead head));
        Assert.Equal(minor, head.MinorVersion);
        Assert.Equal(framing, head.Framing.ToString());
        Assert.Equal(contentLength, head.ContentLength);
        Assert.Equal(keepAlive, head.KeepAlive);
        Assert.True(buffer.IsEmpty);
    }

    [Fact]
    public void TryParseHead_EveryPrefix_NeedsMoreDataAndConsumesNothing()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(KestrelPing);
        int headLength = KestrelPing.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        for (int cut = 0; cut < headLength; cut++)
        {
            var buffer = new ReadOnlySequence<byte>(bytes, 0, cut);
            Assert.False(HttpResponseParser.TryParseHead(ref buffer, out _), $"prefix of {cut} bytes");
            Assert.Equal(cut, buffer.Length);
        }
    }

    [Fact]
    public void TryParseHead_SplitAtEveryPosition_SameHead()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(KestrelPing);
        for (int split = 0; split <= bytes.Length; split++)
        {
            ReadOnlySequence<byte> buffer = Segments(bytes[..split], bytes[split..]);
            Assert.True(HttpResponseParser.TryParseHead(ref buffer, out HttpResponseHead head), $"split at {split}");
            Assert.Equal(200, head.StatusCode);
            Assert.Equal(4, head.ContentLength);
            Assert.Equal("pong", Encoding.ASCII.GetString(buffer.ToArray()));
        }
    }

    [Fact]
    public void TryParseHead_OneBytePerSegment_SameHead()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(KestrelPing);
        ReadOnlySequence<byte> buffer = Segments(bytes.Select(b => new[] { b }).ToArray());
        Assert.True(HttpResponseParser.TryParseHead(ref buffer, out HttpResponseHead head));
        Assert.Equal(new HttpResponseHead(200, 1, HttpBodyFraming.ContentLength, 4, true), head);
        Assert.Equal("pong", Encoding.ASCII.GetString(buffer.ToArray()));
    }

    [Theory]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n", "does not start with 'HTTP/1.'")]
    [InlineData("\0\0\0\u0004pong", "does not start with 'HTTP/1.'")]
    [InlineData("HTTP/2 200\r\n\r\n", "malformed status line")]
    [InlineData("HTTP/1.2 200 OK\r\n\r\n", "malformed status line")]
    [InlineData("HTTP/1.1 2000 OK\r\n\r\n", "malformed status line")]
    [InlineData("HTTP/1.1 20x OK\r\n\r\n", "malformed status line")]
    [InlineData("HTTP/1.1  200 OK\r\n\r\n", "malformed status line")]
    [InlineData("HTTP/1.1 099 Odd\r\n\r\n", "not a valid code")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n", "two different Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: -4\r\n\r\n", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 4, 4\r\n\r\n", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n", "invalid Content-Length")]
    [InlineData("HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\n\r\n", "obsolete line folding")]
    [InlineData("HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "malformed header line")]
    [InlineData("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n", "malformed header line")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length : 4\r\n\r\n", "malformed header line")]
    [InlineData("HTTP/1.1 200 OK\r\n: empty\r\n\r\n", "malformed header line")]
    [InlineData("HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n", "control character")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "Transfer-Encoding")]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "Transfer-Encoding")]
    public void TryParseHead_Malformed_ThrowsInvalidReplyNamingTheFault(string text, string fault)
    {
        ReadOnlySequence<byte> buffer = Sequence(text);
        var ex = Assert.Throws<InvalidReplyException>(() => HttpResponseParser.TryParseHead(ref buffer, out _));
        Assert.StartsWith("Malformed HTTP response: ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(fault, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParseHead_NonHttpPrefix_ThrowsBeforeTheHeadIsComplete()
    {
        // A raw TCP reply (length:u32 BE, "pong") is recognised as garbage at once, not after 64 KiB.
        ReadOnlySequence<byte> buffer = Sequence("\0\0");
        Assert.Throws<InvalidReplyException>(() => HttpResponseParser.TryParseHead(ref buffer, out _));
        ReadOnlySequence<byte> partial = Sequence("HTTP/");
        Assert.False(HttpResponseParser.TryParseHead(ref partial, out _));
    }

    [Fact]
    public void TryParseHead_EndlessHead_ThrowsPastTheLimit()
    {
        string text = "HTTP/1.1 200 OK\r\n" + string.Concat(Enumerable.Repeat("X-Filler: 0123456789012345678901234567890123456789\r\n", 2000));
        ReadOnlySequence<byte> buffer = Sequence(text);
        var ex = Assert.Throws<InvalidReplyException>(() => HttpResponseParser.TryParseHead(ref buffer, out _));
        Assert.Contains($"{HttpResponseParser.MaxHeadLength}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParseHead_TooManyFields_Throws()
    {
        string text = "HTTP/1.1 200 OK\r\n" + string.Concat(Enumerable.Range(0, 101).Select(i => $"X-{i}: v\r\n")) + "\r\n";
        ReadOnlySequence<byte> buffer = Sequence(text);
        Assert.Throws<InvalidReplyException>(() => HttpResponseParser.TryParseHead(ref buffer, out _));
    }

    private const string Chunked = "4\r\nWiki\r\n6;name=value\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n000\r\nX-Trailer: 1\r\n\r\nNEXT";
    private const string ChunkedBody = "Wikipedia in \r\n\r\nchunks.";

    [Fact]
    public void ChunkedDecoder_Whole_DecodesBodyAndStopsAtTheEnd()
    {
        ReadOnlySequence<byte> buffer = Sequence(Chunked);
        (string body, bool complete) = Decode(ref buffer);
        Assert.True(complete);
        Assert.Equal(ChunkedBody, body);
        Assert.Equal("NEXT", Encoding.ASCII.GetString(buffer.ToArray()));
    }

    [Fact]
    public void ChunkedDecoder_SplitAtEveryPosition_SameBody()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(Chunked);
        for (int split = 0; split <= bytes.Length; split++)
        {
            // As a receive loop feeds it: the first part, then what is left of it plus the rest.
            var decoder = new ChunkedBodyDecoder();
            var body = new List<byte>();
            var first = new ReadOnlySequence<byte>(bytes, 0, split);
            while (decoder.TryRead(ref first, out ReadOnlySequence<byte> data))
            {
                body.AddRange(data.ToArray());
            }
            Assert.False(decoder.IsComplete && split < bytes.Length - 4, $"complete early at split {split}");
            ReadOnlySequence<byte> rest = Segments(first.ToArray(), bytes[split..]);
            while (decoder.TryRead(ref rest, out ReadOnlySequence<byte> data))
            {
                body.AddRange(data.ToArray());
            }
            Assert.True(decoder.IsComplete, $"split at {split}");
            Assert.Equal(ChunkedBody, Encoding.ASCII.GetString(body.ToArray()));
            Assert.Equal(ChunkedBody.Length, decoder.BodyLength);
            Assert.Equal("NEXT", Encoding.ASCII.GetString(rest.ToArray()));
        }
    }

    [Fact]
    public void ChunkedDecoder_OneBytePerSegment_SameBody()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(Chunked);
        ReadOnlySequence<byte> buffer = Segments(bytes.Select(b => new[] { b }).ToArray());
        (string body, bool complete) = Decode(ref buffer);
        Assert.True(complete);
        Assert.Equal(ChunkedBody, body);
    }

    [Fact]
    public void ChunkedDecoder_OneByteAtATime_SameBody()
    {
        byte[] bytes = Encoding.ASCII.GetBytes(Chunked);
        var decoder = new ChunkedBodyDecoder();
        var body = new List<byte>();
        byte[] pending = [];
        foreach (byte b in bytes)
        {
            ReadOnlySequence<byte> buffer = Sequence([.. pending, b]);
            while (decoder.TryRead(ref buffer, out ReadOnlySequence<byte> data))
            {
                body.AddRange(data.ToArray());
            }
            pending = buffer.ToArray();
            if (decoder.IsComplete)
            {
                break;
            }
        }
        Assert.True(decoder.IsComplete);
        Assert.Equal(ChunkedBody, Encoding.ASCII.GetString(body.ToArray()));
    }

    [Theory]
    [InlineData("x\r\n", "invalid chunk size")]
    [InlineData("\r\n", "invalid chunk size")]
    [InlineData("-4\r\nWiki\r\n0\r\n\r\n", "invalid chunk size")]
    [InlineData("1FFFFFFFF\r\n", "invalid chunk size")]
    [InlineData("4\r\nWikiXX0\r\n\r\n", "not followed by CRLF")]
    [InlineData("0\r\nno colon\r\n\r\n", "malformed trailer")]
    [InlineData("4\u0001\r\nWiki\r\n", "byte 0x01")]
    public void ChunkedDecoder_Malformed_ThrowsInvalidReply(string text, string fault)
    {
        ReadOnlySequence<byte> buffer = Sequence(text);
        var ex = Assert.Throws<InvalidReplyException>(() => Decode(ref buffer));
        Assert.Contains(fault, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChunkedDecoder_EndlessSizeLine_Throws()
    {
        ReadOnlySequence<byte> buffer = Sequence("1" + new string(';', ChunkedBodyDecoder.MaxLineLength + 10));
        Assert.Throws<InvalidReplyException>(() => Decode(ref buffer));
    }

    private static (string Body, bool Complete) Decode(ref ReadOnlySequence<byte> buffer)
    {
        var decoder = new ChunkedBodyDecoder();
        var body = new List<byte>();
        while (decoder.TryRead(ref buffer, out ReadOnlySequence<byte> data))
        {
            body.AddRange(data.ToArray());
        }
        return (Encoding.ASCII.GetString(body.ToArray()), decoder.IsComplete);
    }

    private static ReadOnlySequence<byte> Sequence(string text) => new(Encoding.Latin1.GetBytes(text));

    private static ReadOnlySequence<byte> Sequence(byte[] bytes) => new(bytes);

    // A multi-segment sequence (empty parts included, as a pipe can produce).
    private static ReadOnlySequence<byte> Segments(params byte[][] parts)
    {
        var first = new Segment(parts[0], 0);
        Segment last = first;
        foreach (byte[] part in parts.Skip(1))
        {
            last = last.Append(part);
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
