using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using Rpyc.Protocol;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// A ThreadedServer and a ForkingServer that accept compressed frames inflating to at most
/// <see cref="MaxDecompressed"/> bytes, shared by the <see cref="BadInputTests"/>.
/// </summary>
public sealed class BadInputServersFixture : IDisposable
{
    public const int MaxDecompressed = 1024 * 1024;

    private static RpycServerOptions Options => new()
    {
        Host = "127.0.0.1",
        Port = 0,
        ConnectionOptions = new RpycConnectOptions { MaxDecompressedLength = MaxDecompressed },
    };

    private readonly Lazy<RpycServer> _threaded = new(() => TestServers.Start<InteropService>(ServerKind.Threaded, Options));
    private readonly Lazy<RpycServer> _forking = new(() => TestServers.Start<InteropService>(ServerKind.Forking, Options));

    public RpycServer Server(ServerKind kind) => kind == ServerKind.Threaded ? _threaded.Value : _forking.Value;

    public void Dispose()
    {
        if (_threaded.IsValueCreated)
        {
            _threaded.Value.Dispose();
        }
        if (_forking.IsValueCreated)
        {
            _forking.Value.Dispose();
        }
    }
}

/// <summary>
/// Malformed and hostile input from a raw-socket client against a real listening server. Each
/// time that connection gets a clear error reply, or is closed with a logged reason; the server
/// survives, memory stays bounded, and a well-behaved client on another connection keeps working
/// before, during (on another thread, while the bad connection is open) and after.
/// </summary>
[Collection(DotNetServersCollection.Name)]
public sealed class BadInputTests(BadInputServersFixture servers, ITestOutputHelper output) : IClassFixture<BadInputServersFixture>
{
    private const long MemoryBudget = 200L * 1024 * 1024;
    private static readonly TimeSpan s_closeTimeout = TimeSpan.FromSeconds(10);
    private static readonly Lazy<byte[]> s_zlibBomb = new(BuildZlibBomb);

    // 128 MiB of zeros in a ~130 KB zlib stream: past both the 1 MiB limit here and the 64 MiB default.
    private static byte[] BuildZlibBomb()
    {
        using var body = new MemoryStream();
        using (var zlib = new ZLibStream(body, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            byte[] zeros = new byte[1024 * 1024];
            for (int i = 0; i < 128; i++)
            {
                zlib.Write(zeros);
            }
        }
        return Frame(body.ToArray(), compressed: true);
    }

    private static byte[] Frame(ReadOnlySpan<byte> body, bool compressed)
    {
        byte[] frame = new byte[5 + body.Length + 1];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)body.Length);
        frame[4] = compressed ? (byte)1 : (byte)0;
        body.CopyTo(frame.AsSpan(5));
        frame[^1] = 0x0A;
        return frame;
    }

    // A 5.x request (1, 0, args) whose args are 1,000,000 nested one-tuples around None.
    private static byte[] DeepNesting()
    {
        const int Depth = 1_000_000;
        byte[] payload = new byte[3 + Depth + 1];
        payload[0] = 0x12; // TAG_TUP3
        payload[1] = 0x51; // msg 1 (immediate int)
        payload[2] = 0x50; // seq 0
        payload.AsSpan(3, Depth).Fill(0x10); // TAG_TUP1
        payload[^1] = 0x00; // None
        return Frame(payload, compressed: false);
    }

    private static byte[] Ping(long seq, string data, RpycProtocolVersion version = RpycProtocolVersion.V5) =>
        RawConnection.EncodeMessage(version, MessageKind.Request, seq, RawConnection.Request(HandlerId.Ping, data));

    public static TheoryData<ServerKind> BothServers => new() { ServerKind.Threaded, ServerKind.Forking };

    [Theory]
    [MemberData(nameof(BothServers))]
    public async Task TruncatedHeader_ThreeBytesThenClose_ConnectionClosedWithLoggedReason(ServerKind kind)
    {
        await RunClosingCaseAsync(kind, [0x00, 0x00, 0x00], shutdownAfterSend: true, reasonKeywords: ["truncat", "incomplete", "mid-frame", "partial"]);
    }

    [Theory]
    [MemberData(nameof(BothServers))]
    public async Task FourGiBLength_HeaderOnly_ClosedWithMaxFrameLengthLogged(ServerKind kind)
    {
        List<Message> messages = await RunClosingCaseAsync(kind, [0xFF, 0xFF, 0xFF, 0xFF, 0x00], shutdownAfterSend: false, reasonKeywords: ["MaxFrameLength"]);
        Assert.DoesNotContain(messages, m => m.Kind != MessageKind.Request);
    }

    [Theory]
    [MemberData(nameof(BothServers))]
    public async Task ZlibBomb_InflatesPastLimit_ClosedWithMaxDecompressedLengthLogged(ServerKind kind)
    {
        byte[] bomb = s_zlibBomb.Value;
        output.WriteLine($"zlib bomb: {bomb.Length} bytes on the wire, 128 MiB inflated, limit {BadInputServersFixture.MaxDecompressed} bytes");
        await using MemorySampler memory = MemorySampler.Start();
        await RunClosingCaseAsync(kind, bomb, shutdownAfterSend: false, reasonKeywords: ["MaxDecompressedLength"]);
        AssertMemoryBounded(memory.Stop(), kind, "zlib bomb");
    }

    [Theory]
    [MemberData(nameof(BothServers))]
    public async Task DeepNesting_MillionTupleLevels_ClosedWithDepthLimitLogged(ServerKind kind)
    {
        await using MemorySampler memory = MemorySampler.Start();
        await RunClosingCaseAsync(kind, DeepNesting(), shutdownAfterSend: false, reasonKeywords: ["nesting deeper than"]);
        AssertMemoryBounded(memory.Stop(), kind, "deep nesting");
    }

    public static TheoryData<ServerKind, string> GarbageCases => new()
    {
        // "GARB" announces a 1.2 GB body.
        { ServerKind.Threaded, "oversized" },
        { ServerKind.Forking, "oversized" },
        // A well-formed frame whose payload is no brine value (0xFF is no tag).
        { ServerKind.Threaded, "undecodable" },
    };

    [Theory]
    [MemberData(nameof(GarbageCases))]
    public async Task GarbageAfterValidFrame_ValidFrameAnswered_ThenClosedWithLoggedReason(ServerKind kind, string garbage)
    {
        (byte[] tail, string keyword) = garbage == "oversized"
            ? ("GARBAGE!"u8.ToArray(), "MaxFrameLength")
            : (Frame([0xFF, 0xFF, 0xFF], compressed: false), "Malformed");
        byte[] bytes = [.. Ping(0, "valid frame first"), .. tail];
        List<Message> messages = await RunClosingCaseAsync(kind, bytes, shutdownAfterSend: false, reasonKeywords: [keyword]);
        Message reply = Assert.Single(messages, m => m.Kind == MessageKind.Reply);
        Assert.Equal(0L, reply.Seq);
        Assert.Equal("valid frame first", Boxes.Payload(reply.Args));
        Assert.DoesNotContain(messages, m => m.Kind == MessageKind.Exception);
    }

    [Theory]
    [InlineData(ServerKind.Threaded, RpycProtocolVersion.V5)]
    [InlineData(ServerKind.Threaded, RpycProtocolVersion.V6)]
    [InlineData(ServerKind.Forking, RpycProtocolVersion.V5)]
    public async Task UnknownHandler_Code99_KeyErrorReplyAndConnectionStaysUsable(ServerKind kind, RpycProtocolVersion version)
    {
        RpycServer server = servers.Server(kind);
        await using GoodClient good = await GoodClient.StartAsync(server, output);
        using RawConnection bad = await RawConnection.ConnectAsync(server.Port);
        await good.WaitForMoreCallsAsync("while the raw client is connected");

        var unknown = new PyTuple(99L, new PyTuple(BoxLabel.Value, PyTuple.Empty));
        await bad.SendMessageAsync(version, MessageKind.Request, 7, unknown);
        (Message Message, RpycProtocolVersion Version) error = await ReadAsync(bad);
        Assert.Equal(version, error.Version);
        Assert.Equal(MessageKind.Exception, error.Message.Kind);
        Assert.Equal(7L, error.Message.Seq);
        Assert.Equal("builtins.KeyError", Boxes.ExceptionType(error.Message.Args));
        output.WriteLine($"unknown handler 99 -> {Boxes.ExceptionType(error.Message.Args)}{PyValue.Repr(Boxes.ExceptionArgs(error.Message.Args))}");

        // The same socket still works.
        await bad.SendAsync(Ping(8, "still here", version));
        (Message Message, RpycProtocolVersion Version) pong = await ReadAsync(bad);
        Assert.Equal(MessageKind.Reply, pong.Message.Kind);
        Assert.Equal(8L, pong.Message.Seq);
        Assert.Equal("still here", Boxes.Payload(pong.Message.Args));

        await good.WaitForMoreCallsAsync("after the error reply");
        good.AssertNoFailures();
    }

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public async Task RefusedNames_NonExposedAndUnderscore_AttributeErrorRepliesConnectionUsable(ServerKind kind)
    {
        RpycServer server = servers.Server(kind);
        await using GoodClient good = await GoodClient.StartAsync(server, output);
        using RawConnection bad = await RawConnection.ConnectAsync(server.Port);
        long seq = 0;
        await bad.SendMessageAsync(RpycProtocolVersion.V5, MessageKind.Request, seq, RawConnection.Request(HandlerId.GetRoot));
        Message root = (await ReadAsync(bad)).Message;
        Assert.Equal(BoxLabel.RemoteRef, Boxes.Label(root.Args));
        var rootRef = new PyTuple(BoxLabel.LocalRef, Boxes.Payload(root.Args));
        await good.WaitForMoreCallsAsync("while the raw client is connected");

        // getattr for each refused name, then callattr for it: both must be AttributeError.
        foreach (string name in new[] { "not_exposed", "NotExposed", "_connection", "__class__", "__init__", "__dict__", "_ping" })
        {
            foreach (HandlerId handler in new[] { HandlerId.GetAttr, HandlerId.CallAttr })
            {
                seq++;
                object?[] boxed = handler == HandlerId.GetAttr
                    ? [rootRef, new PyTuple(BoxLabel.Value, name)]
                    : [rootRef, new PyTuple(BoxLabel.Value, name), new PyTuple(BoxLabel.Value, PyTuple.Empty), new PyTuple(BoxLabel.Value, PyTuple.Empty)];
                var request = new PyTuple((long)handler, new PyTuple(BoxLabel.Tuple, PyTuple.From(boxed)));
                await bad.SendMessageAsync(RpycProtocolVersion.V5, MessageKind.Request, seq, request);
                Message reply = (await ReadAsync(bad)).Message;
                Assert.True(reply.Kind == MessageKind.Exception, $"{handler} '{name}' was answered with {PyValue.Repr(reply.Args)}");
                Assert.Equal(seq, reply.Seq);
                Assert.Equal("builtins.AttributeError", Boxes.ExceptionType(reply.Args));
                string message = Assert.IsType<string>(Boxes.ExceptionArgs(reply.Args)[0]);
                Assert.Contains(name, message, StringComparison.Ordinal);
                output.WriteLine($"{handler} '{name}' -> AttributeError: {message}");
            }
        }

        // The exposed name works on the same connection.
        seq++;
        var ping = new PyTuple((long)HandlerId.CallAttr, new PyTuple(BoxLabel.Tuple, new PyTuple(
            rootRef, new PyTuple(BoxLabel.Value, "ping"), new PyTuple(BoxLabel.Value, PyTuple.Empty), new PyTuple(BoxLabel.Value, PyTuple.Empty))));
        await bad.SendMessageAsync(RpycProtocolVersion.V5, MessageKind.Request, seq, ping);
        Message pong = (await ReadAsync(bad)).Message;
        Assert.Equal(MessageKind.Reply, pong.Kind);
        Assert.Equal("pong", Boxes.Payload(pong.Args));
        await good.WaitForMoreCallsAsync("after the refusals");
        good.AssertNoFailures();
    }

    [Theory]
    [MemberData(nameof(BothServers))]
    public async Task SilentClient_NeverSends_OthersServedAndClosedAtStop(ServerKind kind)
    {
        // Its own server: the test ends by stopping it.
        RpycServer server = TestServers.Start<InteropService>(kind);
        try
        {
            int activeBefore;
            using RawConnection silent = await RawConnection.ConnectAsync(server.Port);
            await using (GoodClient good = await GoodClient.StartAsync(server, output))
            {
                Assert.True(await Eventually.TrueAsync(() => server.ActiveConnections == 2, TimeSpan.FromSeconds(30)),
                    $"The server serves {server.ActiveConnections} connections, expected the silent one and the good one.");
                activeBefore = server.ActiveConnections;
                await good.WaitForMoreCallsAsync("while a client sits silent", count: 200);
                good.AssertNoFailures();
            }
            Assert.True(await Eventually.TrueAsync(() => server.ActiveConnections == 1, TimeSpan.FromSeconds(10)), "The good client's connection was not released.");
            output.WriteLine($"active with the silent client: {activeBefore}, after the good client left: {server.ActiveConnections}");
            var watch = Stopwatch.StartNew();
            server.Stop();
            List<Message> messages = await silent.ReadUntilClosedAsync(null, s_closeTimeout);
            output.WriteLine($"the silent connection was closed {watch.ElapsedMilliseconds} ms after Stop, with {messages.Count} message(s): {string.Join(", ", messages.Select(m => PyValue.Repr(m.Args)))}");
            Assert.DoesNotContain(messages, m => m.Kind != MessageKind.Request);
            Assert.Equal(0, server.ActiveConnections);
        }
        finally
        {
            server.Dispose();
        }
    }

    // The cases whose connection must end: send, read until EOF, check the log, the other client and the server.
    private async Task<List<Message>> RunClosingCaseAsync(ServerKind kind, byte[] bytes, bool shutdownAfterSend, string[] reasonKeywords)
    {
        RpycServer server = servers.Server(kind);
        using var log = new LogCapture(output);
        await using GoodClient good = await GoodClient.StartAsync(server, output);
        await good.WaitForMoreCallsAsync("before the bad client");
        int activeBefore = server.ActiveConnections;

        using RawConnection bad = await RawConnection.ConnectAsync(server.Port);
        await good.WaitForMoreCallsAsync("while the bad client is connected");
        var watch = Stopwatch.StartNew();
        await bad.SendAsync(bytes);
        if (shutdownAfterSend)
        {
            bad.ShutdownSend();
        }
        List<Message> messages = await bad.ReadUntilClosedAsync(null, s_closeTimeout);
        output.WriteLine($"{bytes.Length} bad bytes: closed after {watch.ElapsedMilliseconds} ms{(bad.SawReset ? " (reset)" : "")}, " +
            $"{messages.Count} message(s) first: {string.Join(", ", messages.Select(m => $"{m.Kind} seq {m.Seq} {Abbreviate(m.Args)}"))}");

        // A close sent before hanging up is fine; a reply to nothing is not.
        Assert.All(messages.Where(m => m.Kind == MessageKind.Request), m => Assert.Equal((long)HandlerId.Close, ((PyTuple)m.Args!)[0]));

        string peer = bad.PeerNameOnServer;
        string line = await log.WaitForAsync(
            l => l.Contains(peer, StringComparison.Ordinal) && reasonKeywords.Any(k => l.Contains(k, StringComparison.OrdinalIgnoreCase)),
            TimeSpan.FromSeconds(10),
            $"naming {peer} and one of [{string.Join(", ", reasonKeywords)}]");
        output.WriteLine($"logged reason: {line}");

        await good.WaitForMoreCallsAsync("after the bad client");
        good.AssertNoFailures();
        Assert.False(server.IsStopped);
        Assert.True(await Eventually.TrueAsync(() => server.ActiveConnections <= activeBefore, TimeSpan.FromSeconds(10)),
            $"{server.ActiveConnections} connections active after the bad one closed, {activeBefore} before it.");

        // The server still accepts and serves new connections.
        using RpycConnection fresh = TestServers.Connect(server);
        Assert.Equal("pong", fresh.RootNetref.CallMethod("ping"));
        return messages;
    }

    private static async Task<(Message Message, RpycProtocolVersion Version)> ReadAsync(RawConnection connection)
    {
        (Message Message, RpycProtocolVersion Version)? next = await connection.ReadMessageAsync(null, TimeSpan.FromSeconds(15));
        Assert.True(next is not null, "The server closed the connection instead of replying.");
        return next.Value;
    }

    private void AssertMemoryBounded(MemorySampler.Result result, ServerKind kind, string what)
    {
        const double MiB = 1024 * 1024;
        output.WriteLine($"{what} ({kind}): working set {result.Before / MiB:0.0} MiB before, peak {result.Peak / MiB:0.0} MiB, " +
            $"{result.After / MiB:0.0} MiB after; growth {(result.Peak - result.Before) / MiB:0.0} MiB ({result.Samples} samples)");
        Assert.True(result.Peak - result.Before < MemoryBudget,
            $"The working set grew by {(result.Peak - result.Before) / MiB:0} MiB during the {what}, over the {MemoryBudget / MiB:0} MiB budget.");
    }

    private static string Abbreviate(object? value)
    {
        string repr = PyValue.Repr(value);
        return repr.Length <= 100 ? repr : repr[..100] + "...";
    }
}

/// <summary>
/// A well-behaved .NET client calling <c>add(i, 1)</c> in a loop on its own thread, counting
/// calls and failures, so a test can wait for calls before, during and after something happens.
/// </summary>
internal sealed class GoodClient : IAsyncDisposable
{
    private readonly RpycConnection _connection;
    private readonly ITestOutputHelper _output;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private long _calls;
    private Exception? _failure;

    private GoodClient(RpycConnection connection, ITestOutputHelper output)
    {
        _connection = connection;
        _output = output;
        _loop = Task.Factory.StartNew(Loop, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    public static async Task<GoodClient> StartAsync(RpycServer server, ITestOutputHelper output)
    {
        RpycConnection connection = await RpycConnection.ConnectAsync("127.0.0.1", server.Port, new RpycConnectOptions { SyncRequestTimeout = TimeSpan.FromSeconds(30) });
        return new GoodClient(connection, output);
    }

    public long Calls => Interlocked.Read(ref _calls);

    private void Loop()
    {
        Netref root;
        try
        {
            root = _connection.RootNetref;
        }
        catch (Exception ex) when (ex is RpycException)
        {
            _failure = ex;
            return;
        }
        long i = 0;
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                object? result = root.CallMethod("add", i, 1L);
                if (result is not long sum || sum != i + 1)
                {
                    throw new InvalidDataException($"add({i}, 1) returned {PyValue.Repr(result)}.");
                }
            }
            catch (Exception ex) when (ex is RpycException or InvalidDataException)
            {
                _failure = ex;
                return;
            }
            i++;
            Interlocked.Increment(ref _calls);
        }
    }

    /// <summary>Waits until <paramref name="count"/> more calls succeeded.</summary>
    public async Task WaitForMoreCallsAsync(string when, int count = 5)
    {
        long target = Calls + count;
        bool reached = await Eventually.TrueAsync(() => Calls >= target || _failure is not null || _loop.IsCompleted, TimeSpan.FromSeconds(30), pollMilliseconds: 2);
        AssertNoFailures();
        Assert.True(reached && Calls >= target, $"The good client made only {Calls} calls (wanted {target}) {when}.");
        _output.WriteLine($"good client: {Calls} calls {when}");
    }

    public void AssertNoFailures()
    {
        if (_failure is not null)
        {
            throw new Xunit.Sdk.XunitException($"The well-behaved client failed after {Calls} calls: {_failure}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.WaitAsync(TimeSpan.FromSeconds(30));
        _connection.Dispose();
        _stop.Dispose();
    }
}

/// <summary>Samples this process's working set until stopped (after a full GC for the baseline).</summary>
internal sealed class MemorySampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly long _before;
    private readonly Task _loop;
    private long _peak;
    private int _samples;

    public sealed record Result(long Before, long Peak, long After, int Samples);

    private MemorySampler()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using (var self = Process.GetCurrentProcess())
        {
            _before = self.WorkingSet64;
        }
        _peak = _before;
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                Sample();
                try
                {
                    await Task.Delay(5, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        });
    }

    public static MemorySampler Start() => new();

    private void Sample()
    {
        long now = Environment.WorkingSet;
        long peak;
        do
        {
            peak = Interlocked.Read(ref _peak);
        }
        while (now > peak && Interlocked.CompareExchange(ref _peak, now, peak) != peak);
        Interlocked.Increment(ref _samples);
    }

    public Result Stop()
    {
        _stop.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(5));
        Sample();
        using var self = Process.GetCurrentProcess();
        return new Result(_before, Interlocked.Read(ref _peak), self.WorkingSet64, _samples);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop.WaitAsync(TimeSpan.FromSeconds(5));
        _stop.Dispose();
    }
}
