using System.Buffers;
using System.Text.Json;
using Rpyc.Channel;
using Rpyc.Protocol;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// Replays the client side of the recorded sessions (tests/vectors/session-5.3.jsonl and
/// session-6.x.jsonl, stock Python on both ends) against the .NET ThreadedServer serving
/// <see cref="DemoService"/>, and compares each reply with the recorded one by meaning: kind, seq,
/// by-value results, references where the recording has references, exception types and args.
/// Object ids differ: the recorded server id_packs are mapped to ours in order of appearance.
/// </summary>
[Collection(DotNetServersCollection.Name)]
public sealed class SessionReplayServerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_replyTimeout = TimeSpan.FromSeconds(15);

    private sealed record Frame(int Index, bool ClientToServer, string Step, Message Message)
    {
        public HandlerId? Handler => Message.Kind == MessageKind.Request && Message.Args is PyTuple { Count: 2 } r && r[0] is long h ? (HandlerId)h : null;

        public override string ToString() => $"frame {Index} ({(ClientToServer ? "c2s" : "s2c")} {Message.Kind} seq {Message.Seq}{(Handler is { } h ? " " + h : "")}, step \"{Step}\")";
    }

    private static (RpycProtocolVersion Version, List<Frame> Frames) Load(string session)
    {
        string path = RepoPaths.TestFile("vectors", $"session-{session}.jsonl");
        var frames = new List<Frame>();
        RpycProtocolVersion? version = null;
        foreach (string line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement root = doc.RootElement;
            JsonElement decoded = root.GetProperty("decoded");
            RpycProtocolVersion wire = decoded.GetProperty("wire").GetString() == "6" ? RpycProtocolVersion.V6 : RpycProtocolVersion.V5;
            version ??= wire;
            Assert.Equal(version, wire);
            byte[] raw = Convert.FromHexString(root.GetProperty("raw_hex").GetString()!);
            var buffer = new ReadOnlySequence<byte>(raw);
            Assert.True(FrameReader.TryReadFrame(ref buffer, ChannelLimits.Default, out ReadOnlySequence<byte> payload), $"frame {root.GetProperty("i")} is incomplete");
            Assert.True(buffer.IsEmpty);
            Message message = Envelope.Read(new ReadOnlySequence<byte>(payload.ToArray()), wire, 256);
            frames.Add(new Frame(root.GetProperty("i").GetInt32(), root.GetProperty("dir").GetString() == "c2s", root.GetProperty("step").GetString()!, message));
        }
        return (version!.Value, frames);
    }

    [Theory]
    [InlineData("5.3")]
    [InlineData("6.x")]
    public async Task Replay_RecordedClientFrames_RepliesMatchRecording(string session)
    {
        using var log = new LogCapture(output);
        using var server = new ThreadedServer(() => new DemoService(), new RpycServerOptions { Host = "127.0.0.1", Port = 0 });
        server.Start();
        ReplayReport report = await ReplayAsync(session, server.Port);
        Assert.True(report.ComparedReplies >= 60, $"only {report.ComparedReplies} replies compared");
        Assert.True(await Eventually.TrueAsync(() => server.ActiveConnections == 0, TimeSpan.FromSeconds(20)), "The server kept the replayed connection after CLOSE.");
    }

    [Fact]
    public async Task Replay_BothEnvelopesConcurrentlyOnOneServer_EachConnectionDetectsItsOwn()
    {
        using var server = new ThreadedServer(() => new DemoService(), new RpycServerOptions { Host = "127.0.0.1", Port = 0 });
        server.Start();
        ReplayReport[] reports = await Task.WhenAll(
            Task.Run(() => ReplayAsync("5.3", server.Port)),
            Task.Run(() => ReplayAsync("6.x", server.Port)),
            Task.Run(() => ReplayAsync("5.3", server.Port)),
            Task.Run(() => ReplayAsync("6.x", server.Port)));
        Assert.All(reports, r => Assert.True(r.ComparedReplies >= 60));
    }

    private sealed record ReplayReport(int ComparedReplies, int ServerRequests);

    private async Task<ReplayReport> ReplayAsync(string session, int port)
    {
        (RpycProtocolVersion version, List<Frame> frames) = Load(session);
        using RawConnection conn = await RawConnection.ConnectAsync(port);
        var ids = new Dictionary<PyTuple, PyTuple>();
        var requestHandlers = new Dictionary<long, HandlerId>();
        var serverSeqs = new Dictionary<long, long>();
        var pending = new List<Message>();
        int compared = 0;
        int serverRequests = 0;

        // Reads until a message satisfying match arrives; answers DEL requests of the server itself
        // (when a .NET netref is collected is up to its GC) and fails on any other unexpected request.
        async Task<Message> ReceiveAsync(Func<Message, bool> match, Frame expected)
        {
            while (true)
            {
                int index = pending.FindIndex(m => match(m));
                if (index >= 0)
                {
                    Message hit = pending[index];
                    pending.RemoveAt(index);
                    return hit;
                }
                (Message Message, RpycProtocolVersion Version)? next;
                try
                {
                    next = await conn.ReadMessageAsync(expected: null, s_replyTimeout);
                }
                catch (TimeoutException ex)
                {
                    throw new Xunit.Sdk.XunitException($"session-{session}: no answer for {expected} within {s_replyTimeout.TotalSeconds} s: {ex.Message}");
                }
                Assert.True(next is not null, $"session-{session}: the server closed the connection while {expected} was awaited.");
                Assert.True(next.Value.Version == version, $"session-{session}: the server answered in the {next.Value.Version} envelope on a {version} connection.");
                Message message = next.Value.Message;
                if (message.Kind == MessageKind.Request && HandlerOf(message) == HandlerId.Del && !match(message))
                {
                    output.WriteLine($"session-{session}: the server released a callback early (DEL seq {message.Seq}); answered.");
                    await conn.SendMessageAsync(version, MessageKind.Reply, message.Seq, new PyTuple(BoxLabel.Value, null));
                    continue;
                }
                pending.Add(message);
                if (message.Kind == MessageKind.Request && !match(message))
                {
                    throw new Xunit.Sdk.XunitException($"session-{session}: unexpected request from the server while {expected} was awaited: {PyValue.Repr(message.Args)}");
                }
            }
        }

        foreach (Frame frame in frames)
        {
            Message recorded = frame.Message;
            if (frame.ClientToServer)
            {
                if (recorded.Kind == MessageKind.Request)
                {
                    HandlerId handler = frame.Handler!.Value;
                    requestHandlers[recorded.Seq] = handler;
                    await conn.SendMessageAsync(version, MessageKind.Request, recorded.Seq, MapIds(recorded.Args, ids));
                    if (handler == HandlerId.Close)
                    {
                        // Nobody answers CLOSE: the server must close the socket promptly, without a reply.
                        List<Message> after = await conn.ReadUntilClosedAsync(version, TimeSpan.FromSeconds(5));
                        Assert.DoesNotContain(after, m => m.Kind != MessageKind.Request);
                    }
                    continue;
                }
                // The client's answer to a server request (the callback): under the seq our server used.
                if (!serverSeqs.TryGetValue(recorded.Seq, out long ours))
                {
                    output.WriteLine($"session-{session}: skipped {frame}: it answers a server DEL that this server did not send at that point.");
                    continue;
                }
                await conn.SendMessageAsync(version, recorded.Kind, ours, MapIds(recorded.Args, ids));
                continue;
            }

            if (recorded.Kind == MessageKind.Request)
            {
                HandlerId handler = frame.Handler!.Value;
                if (handler == HandlerId.Del)
                {
                    // The recorded server released the callback as soon as Python's refcount dropped;
                    // a .NET netref is released when it is disposed or collected, so it may come later.
                    continue;
                }
                Message request = await ReceiveAsync(m => m.Kind == MessageKind.Request && HandlerOf(m) == handler, frame);
                serverRequests++;
                // Client-side ids are the recorded ones (we replay the client); server ids are mapped.
                object? expectedArgs = MapIds(recorded.Args, ids);
                Assert.True(PyValue.Equal(expectedArgs, request.Args) || DeepEqual(expectedArgs, request.Args),
                    $"session-{session}: {frame}: the server sent {PyValue.Repr(request.Args)}, the recording has {PyValue.Repr(expectedArgs)}");
                serverSeqs[recorded.Seq] = request.Seq;
                continue;
            }

            Message reply = await ReceiveAsync(m => m.Kind != MessageKind.Request && m.Seq == recorded.Seq, frame);
            HandlerId replyTo = requestHandlers[recorded.Seq];
            CompareReply(session, frame, replyTo, recorded, reply, ids);
            compared++;
        }
        Assert.Empty(pending);
        Assert.True(conn.SawEndOfStream, $"session-{session}: the connection is still open after CLOSE.");
        output.WriteLine($"session-{session}: {compared} replies and {serverRequests} server requests matched the recording; {ids.Count} server ids mapped.");
        return new ReplayReport(compared, serverRequests);
    }

    private void CompareReply(string session, Frame frame, HandlerId replyTo, Message recorded, Message reply, Dictionary<PyTuple, PyTuple> ids)
    {
        string where = $"session-{session}: {frame} ({replyTo})";
        if (reply.Kind == MessageKind.Exception && recorded.Kind == MessageKind.Reply)
        {
            throw new Xunit.Sdk.XunitException($"{where}: the server raised {Boxes.ExceptionType(reply.Args)} {PyValue.Repr(Boxes.ExceptionArgs(reply.Args))} where the recording has a reply.");
        }
        Assert.True(recorded.Kind == reply.Kind, $"{where}: got {reply.Kind} {PyValue.Repr(reply.Args)}, the recording has {recorded.Kind}");
        Assert.Equal(recorded.Seq, reply.Seq);
        if (recorded.Kind == MessageKind.Exception)
        {
            string expectedType = Boxes.ExceptionType(recorded.Args);
            Assert.True(expectedType == Boxes.ExceptionType(reply.Args), $"{where}: exception {Boxes.ExceptionType(reply.Args)}, the recording has {expectedType}");
            Assert.True(PyValue.Equal(Boxes.ExceptionArgs(recorded.Args), Boxes.ExceptionArgs(reply.Args)),
                $"{where}: exception args {PyValue.Repr(Boxes.ExceptionArgs(reply.Args))}, the recording has {PyValue.Repr(Boxes.ExceptionArgs(recorded.Args))}");
            output.WriteLine($"{where}: {expectedType} {PyValue.Repr(Boxes.ExceptionArgs(reply.Args))} as recorded");
            return;
        }
        if (replyTo == HandlerId.Inspect)
        {
            // The recorded list names Python's own methods; ours must have the same shape.
            Assert.Equal(BoxLabel.Value, Boxes.Label(reply.Args));
            PyTuple pairs = Assert.IsType<PyTuple>(Boxes.Payload(reply.Args));
            Assert.All(pairs, p =>
            {
                PyTuple pair = Assert.IsType<PyTuple>(p);
                Assert.Equal(2, pair.Count);
                Assert.IsType<string>(pair[0]);
                Assert.True(pair[1] is null or string, $"{where}: doc {PyValue.Repr(pair[1])} is neither None nor str");
            });
            output.WriteLine($"{where}: INSPECT {PyValue.Repr(pairs)}");
            return;
        }
        CompareBox(where, recorded.Args, reply.Args, ids);
    }

    private void CompareBox(string where, object? recorded, object? ours, Dictionary<PyTuple, PyTuple> ids)
    {
        long label = Boxes.Label(recorded);
        Assert.True(label == Boxes.Label(ours), $"{where}: box label {Boxes.Label(ours)} ({PyValue.Repr(ours)}), the recording has {label} ({Abbreviate(recorded)})");
        switch (label)
        {
            case BoxLabel.Value:
                Assert.True(DeepEqual(Boxes.Payload(recorded), Boxes.Payload(ours)), $"{where}: value {Abbreviate(ours)}, the recording has {Abbreviate(recorded)}");
                output.WriteLine($"{where}: {Abbreviate(ours)} as recorded");
                break;
            case BoxLabel.RemoteRef:
                var recordedId = (PyTuple)Boxes.Payload(recorded)!;
                PyTuple ourId = Assert.IsType<PyTuple>(Boxes.Payload(ours));
                Assert.Equal(3, ourId.Count);
                Assert.IsType<string>(ourId[0]);
                Assert.NotEqual(0L, ourId[2]);
                if (ids.TryGetValue(recordedId, out PyTuple? mapped))
                {
                    // The recording returned this object before: ours must be the same object again.
                    Assert.True(mapped.Equals(ourId), $"{where}: the recorded object {recordedId} came back as {ourId}, earlier as {mapped}");
                }
                else
                {
                    Assert.DoesNotContain(ourId, ids.Values);
                    ids[recordedId] = ourId;
                }
                output.WriteLine($"{where}: reference {recordedId[0]} -> ours {ourId}");
                break;
            case BoxLabel.Tuple:
                var recordedItems = (PyTuple)Boxes.Payload(recorded)!;
                PyTuple ourItems = Assert.IsType<PyTuple>(Boxes.Payload(ours));
                Assert.Equal(recordedItems.Count, ourItems.Count);
                for (int i = 0; i < recordedItems.Count; i++)
                {
                    CompareBox($"{where}[{i}]", recordedItems[i], ourItems[i], ids);
                }
                break;
            default:
                throw new Xunit.Sdk.XunitException($"{where}: the recording has box label {label}, which a server reply never uses.");
        }
    }

    private static HandlerId? HandlerOf(Message message) =>
        message.Args is PyTuple { Count: 2 } r && r[0] is long h ? (HandlerId)h : null;

    // Rewrites every recorded server id_pack inside a client frame to the one our server returned.
    private static object? MapIds(object? value, Dictionary<PyTuple, PyTuple> ids)
    {
        if (value is not PyTuple tuple)
        {
            return value;
        }
        if (tuple.Count == 3 && tuple[0] is string && tuple[1] is long && tuple[2] is long && ids.TryGetValue(tuple, out PyTuple? ours))
        {
            return ours;
        }
        var items = new object?[tuple.Count];
        bool changed = false;
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = MapIds(tuple[i], ids);
            changed |= !ReferenceEquals(items[i], tuple[i]);
        }
        return changed ? new PyTuple(items) : tuple;
    }

    // Brine values by content: bytes by bytes, floats by bit pattern, tuples item by item.
    private static bool DeepEqual(object? a, object? b) => (a, b) switch
    {
        (null, null) => true,
        (byte[] x, byte[] y) => x.AsSpan().SequenceEqual(y),
        (double x, double y) => BitConverter.DoubleToInt64Bits(x) == BitConverter.DoubleToInt64Bits(y),
        (PyTuple x, PyTuple y) => x.Count == y.Count && x.Zip(y).All(p => DeepEqual(p.First, p.Second)),
        (bool x, bool y) => x == y,
        (bool, _) or (_, bool) => false,
        _ => PyValue.Equal(a, b),
    };

    private static string Abbreviate(object? value)
    {
        string repr = PyValue.Repr(value);
        return repr.Length <= 120 ? repr : $"{repr[..100]}... ({repr.Length} chars)";
    }
}
