using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using Rpyc.Channel;
using Rpyc.Protocol;
using Rpyc.Transport;

namespace Rpyc.Tests;

/// <summary>
/// The receive side's memory: frames buffered as their bytes arrive (never at the size a header
/// announces), inflation bounded as it goes, a shared budget that closes the connection that would
/// exceed it, and buffers reused across messages.
/// </summary>
public class FrameMemoryTests
{
    private const int MiB = 1024 * 1024;
    private static readonly ChannelLimits s_limits = new(64 * MiB, 64 * MiB, 256);

    /// <summary>Serves scripted chunks, at most <see cref="MaxRead"/> bytes per receive; then times out, or ends the stream.</summary>
    private sealed class ScriptedTransport(bool endAfterScript = false) : Transport.Transport
    {
        private readonly Queue<ReadOnlyMemory<byte>> _chunks = new();

        public int MaxRead { get; init; } = int.MaxValue;

        public int Receives { get; private set; }

        public override string PeerName => "scripted";

        public void Add(ReadOnlyMemory<byte> bytes) => _chunks.Enqueue(bytes);

        public override int Receive(Span<byte> buffer, TimeSpan timeout)
        {
            Receives++;
            if (!_chunks.TryPeek(out ReadOnlyMemory<byte> next))
            {
                return endAfterScript ? 0 : -1;
            }
            int n = Math.Min(Math.Min(buffer.Length, next.Length), MaxRead);
            next.Span[..n].CopyTo(buffer);
            _chunks.Dequeue();
            if (n < next.Length)
            {
                // Keep the rest at the front.
                var rest = new Queue<ReadOnlyMemory<byte>>([next[n..], .. _chunks]);
                _chunks.Clear();
                foreach (ReadOnlyMemory<byte> chunk in rest)
                {
                    _chunks.Enqueue(chunk);
                }
            }
            return n;
        }

        public override void Send(ReadOnlySpan<byte> data)
        {
        }

        public override void Dispose()
        {
        }
    }

    private static byte[] Header(uint length, bool compressed = false)
    {
        byte[] header = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(header, length);
        header[4] = compressed ? (byte)1 : (byte)0;
        return header;
    }

    private static byte[] Pattern(int length, int seed = 0)
    {
        byte[] data = new byte[length];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)((i * 7) + seed);
        }
        return data;
    }

    private static byte[] RawFrame(ReadOnlySpan<byte> body, bool compressed)
    {
        byte[] frame = new byte[5 + body.Length + 1];
        Header((uint)body.Length, compressed).CopyTo(frame, 0);
        body.CopyTo(frame.AsSpan(5));
        frame[^1] = FrameWriter.Flusher;
        return frame;
    }

    private static byte[] ZlibOfZeros(long length)
    {
        using var body = new MemoryStream();
        using (var zlib = new ZLibStream(body, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            byte[] zeros = new byte[MiB];
            for (long written = 0; written < length; written += zeros.Length)
            {
                zlib.Write(zeros, 0, (int)Math.Min(zeros.Length, length - written));
            }
        }
        return body.ToArray();
    }

    // Feeds the frame count times, reading each as it comes; returns the bytes this thread allocated meanwhile.
    private static long ReadRepeatedly(ScriptedTransport transport, FrameSource source, byte[] frame, int count)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < count; i++)
        {
            transport.Add(frame);
            Assert.Equal(FrameSource.Result.Frame, source.ReadFrame(TimeSpan.FromSeconds(5), out _));
        }
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void ReadFrame_HeaderAnnouncing60MiBThenFewBytes_HoldsMemoryForBytesReceivedOnly()
    {
        var budget = new RpycMemoryBudget(long.MaxValue);
        var transport = new ScriptedTransport();
        transport.Add(Header(60 * MiB));
        transport.Add(new byte[200 * 1024]);
        using var source = new FrameSource(transport, s_limits, budget);

        FrameSource.Result result = source.ReadFrame(TimeSpan.FromSeconds(1), out _);

        Assert.Equal(FrameSource.Result.Timeout, result);
        Assert.Equal(5 + (200 * 1024), source.Buffered);
        // Past the uncounted 64 KiB base: what arrived, at most doubled, never the 60 MiB announced.
        Assert.InRange(budget.InUse, 1, 2 * 200 * 1024);
        Assert.Equal(budget.InUse, budget.Peak);
    }

    [Fact]
    public void ReadFrame_ManyHeadersOf60MiB_NothingCountedUntilBytesArrive()
    {
        var budget = new RpycMemoryBudget(256L * MiB);
        var sources = new List<FrameSource>();
        for (int i = 0; i < 50; i++)
        {
            var transport = new ScriptedTransport();
            transport.Add(Header(60 * MiB));
            var source = new FrameSource(transport, s_limits, budget);
            Assert.Equal(FrameSource.Result.Timeout, source.ReadFrame(TimeSpan.FromSeconds(1), out _));
            sources.Add(source);
        }

        Assert.Equal(0, budget.InUse);
        Assert.Equal(0, budget.Refusals);
        sources.ForEach(s => s.Dispose());
    }

    public static TheoryData<int, int> SplitCases => new()
    {
        // Payload size, bytes per receive.
        { 10, 1 },
        { 3000, 1 },
        { 3000, 7 },
        { 100 * 1024, 4093 },
        { 100 * 1024, int.MaxValue },
        { MiB, 65_521 },
        { (8 * MiB) + 3, int.MaxValue },
    };

    [Theory]
    [MemberData(nameof(SplitCases))]
    public void ReadFrame_FramesInPieces_PayloadsIntactAndBudgetReturned(int size, int maxRead)
    {
        var budget = new RpycMemoryBudget(long.MaxValue);
        var transport = new ScriptedTransport(endAfterScript: true) { MaxRead = maxRead };
        byte[][] payloads = [Pattern(size, 1), Pattern(17, 2), Pattern(size, 3)];
        // Two frames in one chunk, the third compressed, so frames straddle receives and segments.
        transport.Add((byte[])[.. RawFrame(payloads[0], false), .. RawFrame(payloads[1], false)]);
        transport.Add(FrameWriter.Encode(payloads[2], compressionThreshold: 0));
        var source = new FrameSource(transport, s_limits, budget);

        foreach (byte[] expected in payloads)
        {
            Assert.Equal(FrameSource.Result.Frame, source.ReadFrame(Timeout.InfiniteTimeSpan, out ReadOnlySequence<byte> payload));
            Assert.Equal(expected, payload.ToArray());
        }
        Assert.Equal(FrameSource.Result.EndOfStream, source.ReadFrame(Timeout.InfiniteTimeSpan, out _));
        Assert.Equal(0, source.Buffered);

        source.Dispose();
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public void ReadFrame_RepeatedMegabyteFrames_ReuseTheirBuffers()
    {
        var budget = new RpycMemoryBudget(long.MaxValue);
        var transport = new ScriptedTransport();
        using var source = new FrameSource(transport, s_limits, budget);
        byte[] payload = Pattern(MiB);
        byte[] frame = RawFrame(payload, false);
        byte[] compressedFrame = FrameWriter.Encode(payload, compressionThreshold: 0);

        long afterFirst = 0;
        for (int i = 0; i < 20; i++)
        {
            transport.Add(i % 2 == 0 ? frame : compressedFrame);
            Assert.Equal(FrameSource.Result.Frame, source.ReadFrame(TimeSpan.FromSeconds(1), out ReadOnlySequence<byte> read));
            Assert.Equal(MiB, read.Length);
            if (i == 1)
            {
                afterFirst = budget.Peak;
                GC.Collect();
            }
        }
        long allocated = ReadRepeatedly(transport, source, frame, 10);

        // The segments of the first frames are reused: no new reservation, and no buffer allocated per frame.
        Assert.Equal(afterFirst, budget.Peak);
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated by 10 frames of 1 MiB.");
    }

    [Fact]
    public void ReadFrame_RepeatedFramesOverTheRetainLimit_ReuseTheirBuffersUntilSmallFramesFollow()
    {
        var budget = new RpycMemoryBudget(long.MaxValue);
        var transport = new ScriptedTransport();
        using var source = new FrameSource(transport, s_limits, budget);
        // Twice the 8 MiB a connection keeps for any message: kept too, while such frames keep coming.
        byte[] large = RawFrame(Pattern(16 * MiB), false);
        byte[] small = RawFrame(Pattern(100), false);

        for (int i = 0; i < 3; i++)
        {
            transport.Add(large);
            Assert.Equal(FrameSource.Result.Frame, source.ReadFrame(TimeSpan.FromSeconds(5), out ReadOnlySequence<byte> read));
            Assert.Equal(16 * MiB, read.Length);
        }
        long peak = budget.Peak;
        long allocated = ReadRepeatedly(transport, source, large, 5);
        Assert.Equal(peak, budget.Peak);
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated by 5 frames of 16 MiB.");

        // Small frames after the large ones: after a few, the connection keeps at most 8 MiB again.
        ReadRepeatedly(transport, source, small, 6);
        Assert.Equal(FrameSource.Result.Timeout, source.ReadFrame(TimeSpan.FromMilliseconds(10), out _));
        Assert.InRange(budget.InUse, 1, 8 * MiB);
    }

    [Fact]
    public void ReadFrame_BudgetMoreThanHalfUsed_IdleBuffersGivenBack()
    {
        var budget = new RpycMemoryBudget(4 * MiB);
        var transport = new ScriptedTransport();
        using var source = new FrameSource(transport, s_limits, budget);
        transport.Add(RawFrame(Pattern(MiB), false));
        Assert.Equal(FrameSource.Result.Frame, source.ReadFrame(TimeSpan.FromSeconds(1), out _));
        long held = budget.InUse;
        Assert.True(held > 0);

        // Another connection's frame in flight takes the budget past half.
        Assert.True(budget.TryReserve((2 * MiB) + 1));
        Assert.Equal(FrameSource.Result.Timeout, source.ReadFrame(TimeSpan.FromSeconds(1), out _));

        Assert.Equal((2 * MiB) + 1, budget.InUse);
        budget.Release((2 * MiB) + 1);
    }

    [Fact]
    public void ReadFrame_FrameBeyondBudget_ThrowsNamingTheBudgetAndHoldsNothingAfterDispose()
    {
        var budget = new RpycMemoryBudget(512 * 1024);
        var transport = new ScriptedTransport();
        transport.Add(RawFrame(Pattern(2 * MiB), false));
        var source = new FrameSource(transport, s_limits, budget);

        var ex = Assert.Throws<RpycProtocolException>(() => source.ReadFrame(TimeSpan.FromSeconds(1), out _));

        Assert.Contains("MemoryBudget", ex.Message, StringComparison.Ordinal);
        Assert.True(budget.Peak <= budget.Capacity);
        Assert.Equal(1, budget.Refusals);
        source.Dispose();
        Assert.Equal(0, budget.InUse);
    }

    [Fact]
    public void ReadFrame_ZlibBomb_RefusedPastLimitWithoutReservingIt()
    {
        var budget = new RpycMemoryBudget(long.MaxValue);
        var limits = new ChannelLimits(64 * MiB, 4 * MiB, 256);
        var transport = new ScriptedTransport();
        transport.Add(RawFrame(ZlibOfZeros(64L * MiB), compressed: true));
        using var source = new FrameSource(transport, limits, budget);

        var ex = Assert.Throws<RpycProtocolException>(() => source.ReadFrame(TimeSpan.FromSeconds(10), out _));

        Assert.Contains("MaxDecompressedLength", ex.Message, StringComparison.Ordinal);
        // The inflated bytes stop one step past the 4 MiB limit; the compressed body is ~64 KiB.
        Assert.InRange(budget.Peak, 4 * MiB, (4 * MiB) + (2 * SegmentedBuffer.MaxSegmentSize));
    }

    [Fact]
    public void ReadFrame_ZlibBombOverBudget_RefusedByTheBudget()
    {
        var budget = new RpycMemoryBudget(2 * MiB);
        var transport = new ScriptedTransport();
        transport.Add(RawFrame(ZlibOfZeros(16L * MiB), compressed: true));
        using var source = new FrameSource(transport, s_limits, budget);

        var ex = Assert.Throws<RpycProtocolException>(() => source.ReadFrame(TimeSpan.FromSeconds(10), out _));

        Assert.Contains("inflating a compressed frame", ex.Message, StringComparison.Ordinal);
        Assert.True(budget.Peak <= 2 * MiB);
    }

    [Fact]
    public void ReadFrame_PayloadExactlyAtDecompressedLimit_IsRead()
    {
        var limits = new ChannelLimits(64 * MiB, 3 * MiB, 256);
        var transport = new ScriptedTransport();
        byte[] payload = Pattern(3 * MiB);
        transport.Add(FrameWriter.Encode(payload, compressionThreshold: 0));
        using var source = new FrameSource(transport, limits, new RpycMemoryBudget(long.MaxValue));

        Assert.Equal(FrameSource.Result.Frame, source.ReadFrame(TimeSpan.FromSeconds(10), out ReadOnlySequence<byte> read));

        Assert.Equal(payload, read.ToArray());
    }

    [Fact]
    public void Decompress_TruncatedStream_ThrowsAdlerMismatchOrInvalid()
    {
        byte[] body = ZlibOfZeros(100_000);
        byte[] truncated = body[..^4];

        Assert.Throws<RpycProtocolException>(() => FrameReader.Decompress(new ReadOnlySequence<byte>(truncated), MiB));
    }

    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void Echo_LargePayloadsOverMemoryPair_RoundTripAndBudgetReturnedAtClose(RpycProtocolVersion version)
    {
        var budget = new RpycMemoryBudget(256L * MiB);
        var options = new RpycConnectOptions { MemoryBudget = budget, CompressionThreshold = 3000 };
        (MemoryTransport a, MemoryTransport b) = MemoryTransport.CreatePair();
        var server = new RpycConnection(a, options, new PairService(), version: null);
        var client = new RpycConnection(b, new RpycConnectOptions { ProtocolVersion = version, MemoryBudget = budget, SyncRequestTimeout = TimeSpan.FromSeconds(30) }, null, version);
        var serverThread = new Thread(server.ServeAll) { IsBackground = true };
        serverThread.Start();
        try
        {
            foreach (int size in new[] { 100 * 1024, MiB, 8 * MiB })
            {
                byte[] data = Pattern(size, size);
                object? echo = client.RootNetref.CallMethod("echo", data);
                Assert.Equal(data, Assert.IsType<byte[]>(echo));
            }
            Assert.True(budget.InUse > 0, "The connections keep their grown buffers while the budget has room.");
        }
        finally
        {
            client.Dispose();
            Assert.True(serverThread.Join(TimeSpan.FromSeconds(10)), "The server connection did not end after the client closed.");
            server.Dispose();
        }

        Assert.Equal(0, budget.InUse);
    }
}
