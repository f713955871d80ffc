using System.Buffers;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Rpyc.Channel;

namespace Rpyc.Tests;

/// <summary>Channel framing against the recorded <c>channel_frames</c> of <c>brine.json</c>.</summary>
public class FrameTests
{
    private static readonly ChannelLimits s_limits = new(64 << 20, 64 << 20, 256);

    public static TheoryData<string> FrameRows => VectorFile.Names("channel_frames");

    [Theory]
    [MemberData(nameof(FrameRows))]
    public void Payload_FromFormula_MatchesRecordedSha256(string name)
    {
        JsonElement row = VectorFile.Row("channel_frames", name);

        byte[] payload = Payload(row);

        Assert.Equal(row.GetProperty("payload_len").GetInt32(), payload.Length);
        Assert.Equal(row.GetProperty("payload_sha256").GetString(), Convert.ToHexStringLower(SHA256.HashData(payload)));
    }

    [Theory]
    [MemberData(nameof(FrameRows))]
    public void Encode_VectorPayload_MatchesPythonFrame(string name)
    {
        JsonElement row = VectorFile.Row("channel_frames", name);
        byte[] payload = Payload(row);
        bool compressed = row.GetProperty("compressed").GetBoolean();

        byte[] frame = FrameWriter.Encode(payload, FrameWriter.PythonCompressionThreshold);

        Assert.Equal(compressed ? 1 : 0, frame[4]);
        Assert.Equal(0x0A, frame[^1]);
        Assert.Equal(frame.Length - 6, (int)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(frame));
        if (!compressed)
        {
            Assert.Equal(row.GetProperty("frame_len").GetInt32(), frame.Length);
            Assert.Equal(row.GetProperty("header_hex").GetString(), Convert.ToHexStringLower(frame.AsSpan(0, 5)));
            if (row.TryGetProperty("frame_hex", out JsonElement full))
            {
                Assert.Equal(full.GetString(), Convert.ToHexStringLower(frame));
            }
            else
            {
                string head = row.GetProperty("frame_head_hex").GetString()!;
                string tail = row.GetProperty("frame_tail_hex").GetString()!;
                Assert.StartsWith(head, Convert.ToHexStringLower(frame), StringComparison.Ordinal);
                Assert.EndsWith(tail, Convert.ToHexStringLower(frame), StringComparison.Ordinal);
            }
        }
        else
        {
            // Any valid zlib stream will do: compare what it inflates to, with an independent inflater.
            Assert.Equal(payload, Inflate(frame.AsSpan(5, frame.Length - 6).ToArray()));
        }
    }

    [Theory]
    [MemberData(nameof(FrameRows))]
    public void TryReadFrame_EncodedFrame_YieldsPayload(string name)
    {
        byte[] payload = Payload(VectorFile.Row("channel_frames", name));
        var buffer = new ReadOnlySequence<byte>(FrameWriter.Encode(payload));

        Assert.True(FrameReader.TryReadFrame(ref buffer, s_limits, out ReadOnlySequence<byte> read));

        Assert.Equal(payload, read.ToArray());
        Assert.True(buffer.IsEmpty);
    }

    [Theory]
    [MemberData(nameof(FrameRows))]
    public void TryReadFrame_RecordedFrameInEveryShape_YieldsPayload(string name)
    {
        JsonElement row = VectorFile.Row("channel_frames", name);
        byte[] payload = Payload(row);
        byte[] frame = RecordedFrame(row, payload);

        foreach ((string shape, ReadOnlySequence<byte> sequence) in Shapes(frame, payload.Length))
        {
            ReadOnlySequence<byte> buffer = sequence;
            Assert.True(FrameReader.TryReadFrame(ref buffer, s_limits, out ReadOnlySequence<byte> read), shape);
            Assert.True(payload.AsSpan().SequenceEqual(read.ToArray()), $"{name}, {shape}: wrong payload");
            Assert.True(buffer.IsEmpty, shape);
        }
    }

    [Theory]
    [MemberData(nameof(FrameRows))]
    public void TryReadFrame_EveryStrictPrefix_ReturnsFalseAndKeepsBuffer(string name)
    {
        JsonElement row = VectorFile.Row("channel_frames", name);
        byte[] frame = RecordedFrame(row, Payload(row));

        for (int length = 0; length < frame.Length; length++)
        {
            ReadOnlySequence<byte> original = SequenceBuilder.Split(frame[..length], length / 2);
            ReadOnlySequence<byte> buffer = original;

            Assert.False(FrameReader.TryReadFrame(ref buffer, s_limits, out _), $"prefix of {length} bytes");
            Assert.Equal(original.Start, buffer.Start);
            Assert.Equal(original.End, buffer.End);
        }
    }

    [Fact]
    public void TryReadFrame_TwoFramesBackToBack_ReadsBoth()
    {
        byte[] first = [0x12, 0x51, 0x50];
        byte[] second = Enumerable.Range(0, 5000).Select(i => (byte)(i % 7)).ToArray();
        byte[] both = [.. FrameWriter.Encode(first), .. FrameWriter.Encode(second)];

        foreach ((string shape, ReadOnlySequence<byte> sequence) in SomeShapes(both))
        {
            ReadOnlySequence<byte> buffer = sequence;
            Assert.True(FrameReader.TryReadFrame(ref buffer, s_limits, out ReadOnlySequence<byte> one), shape);
            Assert.Equal(first, one.ToArray());
            Assert.True(FrameReader.TryReadFrame(ref buffer, s_limits, out ReadOnlySequence<byte> two), shape);
            Assert.Equal(second, two.ToArray());
            Assert.True(buffer.IsEmpty, shape);
            Assert.False(FrameReader.TryReadFrame(ref buffer, s_limits, out _), shape);
        }
    }

    [Fact]
    public void TryReadFrame_NonZeroFlagAndAnyTrailer_AreAcceptedAsPythonDoes()
    {
        byte[] payload = new byte[100];
        byte[] body = Deflate(payload);
        byte[] frame = [0, 0, 0, (byte)body.Length, 0x02, .. body, 0xFF];
        var buffer = new ReadOnlySequence<byte>(frame);

        Assert.True(FrameReader.TryReadFrame(ref buffer, s_limits, out ReadOnlySequence<byte> read));
        Assert.Equal(payload, read.ToArray());
    }

    [Fact]
    public void TryReadFrame_HeaderAnnouncingFourGiB_ThrowsImmediately()
    {
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0xFF, 0xFF, 0xFF, 0xFF, 0x00 });

        Assert.Throws<RpycProtocolException>(() => FrameReader.TryReadFrame(ref buffer, s_limits, out _));
    }

    [Fact]
    public void TryReadFrame_BodyOverMaxFrameLength_ThrowsFromHeader()
    {
        var limits = new ChannelLimits(1000, 1 << 20, 256);
        var buffer = new ReadOnlySequence<byte>(new byte[] { 0x00, 0x00, 0x03, 0xE9, 0x00 });

        Assert.Throws<RpycProtocolException>(() => FrameReader.TryReadFrame(ref buffer, limits, out _));
    }

    [Fact]
    public void TryReadFrame_ZlibBomb_ThrowsProtocolException()
    {
        byte[] body = Deflate(new byte[10 << 20]);
        byte[] frame = Frame(body, flag: 1);
        var limits = new ChannelLimits(64 << 20, 1 << 20, 256);
        var buffer = new ReadOnlySequence<byte>(frame);

        Assert.Throws<RpycProtocolException>(() => FrameReader.TryReadFrame(ref buffer, limits, out _));
    }

    [Fact]
    public void TryReadFrame_PayloadExactlyAtDecompressedLimit_IsRead()
    {
        byte[] payload = new byte[1 << 20];
        var limits = new ChannelLimits(64 << 20, payload.Length, 256);
        var buffer = new ReadOnlySequence<byte>(Frame(Deflate(payload), flag: 1));

        Assert.True(FrameReader.TryReadFrame(ref buffer, limits, out ReadOnlySequence<byte> read));
        Assert.Equal(payload.Length, read.Length);
    }

    [Theory]
    [InlineData("ffffffffffffffff")]
    [InlineData("7801ffffffffffff")]
    [InlineData("00")]
    public void TryReadFrame_GarbageCompressedBody_ThrowsProtocolException(string bodyHex)
    {
        var buffer = new ReadOnlySequence<byte>(Frame(Convert.FromHexString(bodyHex), flag: 1));

        Assert.Throws<RpycProtocolException>(() => FrameReader.TryReadFrame(ref buffer, s_limits, out _));
    }

    [Theory]
    [InlineData(2)] // half the stream
    [InlineData(4)] // all but the Adler-32 trailer
    public void TryReadFrame_TruncatedZlibStream_ThrowsProtocolException(int cut)
    {
        byte[] payload = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray();
        byte[] body = Deflate(payload);
        body = cut == 2 ? body[..(body.Length / 2)] : body[..^4];
        var buffer = new ReadOnlySequence<byte>(Frame(body, flag: 1));

        // zlib.decompress raises "incomplete or truncated stream"; a partial payload must not pass.
        Assert.Throws<RpycProtocolException>(() => FrameReader.TryReadFrame(ref buffer, s_limits, out _));
    }

    [Fact]
    public void TryReadFrame_CorruptAdler32_ThrowsProtocolException()
    {
        byte[] body = Deflate(Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray());
        body[^1] ^= 0xFF;
        var buffer = new ReadOnlySequence<byte>(Frame(body, flag: 1));

        Assert.Throws<RpycProtocolException>(() => FrameReader.TryReadFrame(ref buffer, s_limits, out _));
    }

    [Fact]
    public void Encode_NegativeThreshold_NeverCompresses()
    {
        byte[] payload = new byte[1 << 20];

        byte[] frame = FrameWriter.Encode(payload, compressionThreshold: -1);

        Assert.Equal(payload.Length + 6, frame.Length);
        Assert.Equal("0010000000", Convert.ToHexStringLower(frame.AsSpan(0, 5)));
        Assert.Equal(0x0A, frame[^1]);
    }

    [Theory]
    [InlineData(3000, 0)]
    [InlineData(3001, 1)]
    public void Encode_AtPythonThreshold_CompressesOnlyLongerPayloads(int length, int flag)
    {
        byte[] frame = FrameWriter.Encode(new byte[length]);

        Assert.Equal(flag, frame[4]);
    }

    private static byte[] Payload(JsonElement row)
    {
        string name = row.GetProperty("name").GetString()!;
        if (row.GetProperty("payload_formula").ValueKind == JsonValueKind.Null)
        {
            // The empty and GETROOT rows: the payload is the recorded frame's body.
            byte[] frame = VectorFile.Hex(row, "frame_hex");
            Assert.Equal(0, frame[4]);
            return frame[5..^1];
        }
        Assert.Equal("bytes(i % 251 for i in range(payload_len))", row.GetProperty("payload_formula").GetString());
        int length = row.GetProperty("payload_len").GetInt32();
        Assert.False(string.IsNullOrEmpty(name));
        return Enumerable.Range(0, length).Select(i => (byte)(i % 251)).ToArray();
    }

    // The recorded bytes where brine.json holds them whole; otherwise (3000 bytes, uncompressed)
    // the frame is the header, the payload and the flusher, checked against head and tail.
    private static byte[] RecordedFrame(JsonElement row, byte[] payload)
    {
        if (row.TryGetProperty("frame_hex", out _))
        {
            byte[] recorded = VectorFile.Hex(row, "frame_hex");
            Assert.Equal(row.GetProperty("frame_len").GetInt32(), recorded.Length);
            return recorded;
        }
        byte[] frame = [.. VectorFile.Hex(row, "header_hex"), .. payload, 0x0A];
        Assert.Equal(row.GetProperty("frame_len").GetInt32(), frame.Length);
        return frame;
    }

    // Whole, every split, one byte per segment; for a frame inflating to more than 10 kB, every
    // 97th split only (each split inflates the whole payload again).
    private static IEnumerable<(string, ReadOnlySequence<byte>)> Shapes(byte[] frame, int payloadLength)
    {
        int step = payloadLength > 10_000 ? 97 : 1;
        foreach ((string shape, ReadOnlySequence<byte> sequence) in SequenceBuilder.AllShapes(frame))
        {
            if (step == 1 || !shape.StartsWith("split at ", StringComparison.Ordinal) || int.Parse(shape[9..], System.Globalization.CultureInfo.InvariantCulture) % step == 0)
            {
                yield return (shape, sequence);
            }
        }
    }

    private static IEnumerable<(string, ReadOnlySequence<byte>)> SomeShapes(byte[] data)
    {
        yield return ("whole", new ReadOnlySequence<byte>(data));
        foreach (int at in new[] { 1, 5, 8, 9, 10, data.Length / 2, data.Length - 1 })
        {
            yield return ($"split at {at}", SequenceBuilder.Split(data, at));
        }
        yield return ("one byte per segment", SequenceBuilder.OneBytePerSegment(data));
    }

    private static byte[] Frame(byte[] body, byte flag)
    {
        byte[] frame = new byte[body.Length + 6];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)body.Length);
        frame[4] = flag;
        body.CopyTo(frame, 5);
        frame[^1] = 0x0A;
        return frame;
    }

    private static byte[] Deflate(byte[] payload)
    {
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(payload);
        }
        return output.ToArray();
    }

    private static byte[] Inflate(byte[] body)
    {
        using var zlib = new ZLibStream(new MemoryStream(body), CompressionMode.Decompress);
        using var output = new MemoryStream();
        zlib.CopyTo(output);
        return output.ToArray();
    }
}
