using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Rpyc.Protocol;

namespace Rpyc.IntegrationTests;

/// <summary>
/// The sessions recorded between stock Python peers (tests/vectors/session-*.jsonl, wire notes
/// section 13), replayed against the .NET client by a scripted server on loopback.
/// </summary>
public sealed class SessionReplayTests(ITestOutputHelper output)
{
    private const string RemoteTracebackHeader = "\n\n========= Remote Traceback (1) =========\n";

    private static RpycConnectOptions ClientOptions(RpycProtocolVersion version) => new()
    {
        ProtocolVersion = version,
        // As Python does, so the 5000-byte upload goes out compressed.
        CompressionThreshold = 3000,
        // A script mismatch must fail the test, not hang it.
        SyncRequestTimeout = TimeSpan.FromSeconds(10),
    };

    public static TheoryData<string> AllSessions => ["5.3", "6.x", "client5.3-server6.x", "client6.x-server5.3"];

    [Theory]
    [InlineData("5.3", RpycProtocolVersion.V5)]
    [InlineData("6.x", RpycProtocolVersion.V6)]
    public async Task Replay_RecordedSession_ClientResultsMatchRecordedSteps(string name, RpycProtocolVersion version)
    {
        RecordedSession session = RecordedSession.Load(name);
        await using var server = new SessionReplayServer(session, version);
        using RpycConnection conn = RpycConnection.Connect("127.0.0.1", server.Port, ClientOptions(version));
        var replay = new Replay(session, server, output);

        Netref root = null!;
        replay.Check("root", () =>
        {
            root = conn.RootNetref;
            return PyValue.Repr(root.RemoteTypeName);
        });
        Assert.Equal(session.Frames[0].Raw, server.Received[0]);
        dynamic r = root;
        replay.Check("root.get_service_name()", () => PyValue.Repr((object?)r.get_service_name()));
        replay.Check("root.ping()", () => PyValue.Repr((object?)r.ping()));
        replay.Check("conn.ping() [HANDLE_PING]", () =>
        {
            conn.Ping();
            return "'ping ok'";
        });

        const string Echo = "root.echo(b'hello\\x00\\xff')";
        object? echoArgument = server.RecordedArgument(Echo);
        Assert.Equal(new byte[] { (byte)'h', (byte)'e', (byte)'l', (byte)'l', (byte)'o', 0, 0xff }, echoArgument);
        replay.Check(Echo, () => PyValue.Repr((object?)r.echo(echoArgument)));
        const string EchoKw = "root.echo(data=b'kw') [kwargs]";
        Assert.Equal(new PyTuple(new PyTuple("data", "kw"u8.ToArray())), server.RecordedKwargs(EchoKw));
        replay.Check(EchoKw, () => PyValue.Repr((object?)r.echo(data: "kw"u8.ToArray())));

        const string Upload100 = "root.upload(100 bytes)";
        const string Upload5000 = "root.upload(5000 bytes) [compressed request]";
        byte[] small = Assert.IsType<byte[]>(server.RecordedArgument(Upload100));
        byte[] large = Assert.IsType<byte[]>(server.RecordedArgument(Upload5000));
        replay.Check(Upload100, () => PyValue.Repr((object?)r.upload(small)));
        int before = server.Received.Count;
        replay.Check(Upload5000, () => PyValue.Repr((object?)r.upload(large)));
        Assert.Equal(5000, large.Length);
        Assert.Equal(1, server.Received.Skip(before).Count(frame => frame[4] != 0));

        replay.Check("root.download(16)", () => PyValue.Repr((object?)r.download(16)));
        replay.Check("root.download(100000) [compressed reply]", () =>
        {
            byte[] data = r.download(100000);
            Assert.Equal(100000, data.Length);
            for (int i = 0; i < data.Length; i++)
            {
                Assert.True(data[i] == (byte)((i * 7) & 0xFF), $"byte {i} is {data[i]}");
            }
            return "'100000 bytes, verified'";
        });

        Netref obj = null!;
        replay.Check("obj = root.get_object()", () =>
        {
            obj = (Netref)r.get_object();
            return obj.IdPack.ToString();
        });
        dynamic o = obj;
        replay.Check("obj.method(21)", () => PyValue.Repr((object?)o.method(21)));
        replay.Check("repr(obj) [HANDLE_REPR]", () => PyValue.Repr(obj.Repr()));
        replay.CheckRaises("obj.secret [refused getattr]", () => { _ = o.secret; });
        replay.CheckRaises("obj.x = 1 [refused setattr]", () => { o.x = 1; });
        replay.Check("obj2 = root.get_object() [same object again]", () =>
        {
            var obj2 = (Netref)r.get_object();
            return $"({(ReferenceEquals(obj, obj2) ? "True" : "False")}, {obj2.RefCount})";
        });
        replay.Check("del obj, obj2 [HANDLE_DEL with refcount]", () =>
        {
            obj.Dispose();
            return "'deleted'";
        });

        replay.CheckRaises("root.fail('boom') [remote ValueError]", () => { _ = r.fail("boom"); });

        Netref list = null!;
        replay.Check("lst = root.get_list() [builtins.list by reference]", () =>
        {
            list = (Netref)r.get_list();
            return list.IdPack.ToString();
        });
        replay.Check("len(lst)", () => PyValue.Repr(list.Len()));
        replay.Check("[x for x in lst] [__iter__/__next__/StopIteration]", () => $"[{string.Join(", ", list.Select(PyValue.Repr))}]");
        replay.Check("del lst", () =>
        {
            list.Dispose();
            return "'deleted'";
        });

        int callbacks = 0;
        replay.Check("root.call_me(local_fn, 21) [server calls back into client]", () =>
        {
            var localFn = new Func<long, long>(x =>
            {
                Interlocked.Increment(ref callbacks);
                return x * 2;
            });
            return PyValue.Repr((object?)r.call_me(localFn, 21));
        });
        // The .NET client has no async_: a plain call reads the same recorded reply.
        replay.Check("rpyc.async_(root.echo)(b'async').value", () => PyValue.Repr((object?)r.echo("async"u8.ToArray())));
        Assert.Equal(1, callbacks);
        Assert.Equal(0, conn.LocalObjects.Count);

        replay.Check("close", () =>
        {
            conn.Close();
            return "'closed'";
        });
        await server.Completion.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(server.Failed, server.Failures);

        // CLOSE as recorded, up to the seq.
        byte[] close = Assert.IsType<byte[]>(server.CloseFrame);
        RecordedFrame recordedClose = session.Frames[^1];
        Assert.Equal(recordedClose.Message.Args, Frames.Decode(close, version).Message.Args);

        // The client's answers to the server's callback requests: byte-identical to the Python client's.
        foreach ((long serverSeq, RecordedFrame recorded) in server.RecordedClientReplies)
        {
            byte[]? reply = server.ClientReply(serverSeq);
            Assert.True(reply is not null, $"the client never answered the server's request seq {serverSeq}");
            Assert.Equal(Convert.ToHexString(recorded.Raw), Convert.ToHexString(reply));
        }
        Assert.Equal(2, server.RecordedClientReplies.Count);

        // The client released what Python released (proxies of the client's own method lookups aside).
        var expectedDels = session.Frames
            .Where(f => f.ClientToServer && f.Message.Kind == MessageKind.Request && Frames.Request(f.Message).Handler == HandlerId.Del)
            .Select(f => Frames.Request(f.Message).Box)
            .Where(box => Frames.Items(box)[0] is PyTuple { Count: 2 } target && target[1] is PyTuple id && !Equals(id[0], "builtins.method"))
            .Select(PyValue.Repr)
            .Order(StringComparer.Ordinal)
            .ToArray();
        string[] actualDels = [.. server.ClientDels.Select(PyValue.Repr).Order(StringComparer.Ordinal)];
        output.WriteLine($"DELs sent by the client: {string.Join("; ", actualDels)}");
        Assert.Equal(3, expectedDels.Length);
        Assert.Equal(expectedDels, actualDels);
    }

    [Theory]
    [InlineData("5.3", RpycProtocolVersion.V5)]
    [InlineData("6.x", RpycProtocolVersion.V6)]
    public async Task GetRoot_FirstRequest_IsByteIdenticalToRecording(string name, RpycProtocolVersion version)
    {
        RecordedSession session = RecordedSession.Load(name);
        RecordedFrame request = session.Frames[0];
        RecordedFrame reply = session.Frames[1];
        await using var peer = new ScriptedPeer();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Task<byte[]?> script = Task.Run(async () =>
        {
            await peer.AcceptAsync(timeout.Token);
            byte[]? first = await peer.ReadFrameAsync(timeout.Token);
            // Both are seq 0: the recorded reply goes out byte for byte.
            await peer.SendAsync(reply.Raw, timeout.Token);
            return first;
        });

        using RpycConnection conn = RpycConnection.Connect("127.0.0.1", peer.Port, ClientOptions(version));
        Netref root = conn.RootNetref;
        byte[]? sent = await script.WaitAsync(timeout.Token);

        output.WriteLine($"recorded {Convert.ToHexString(request.Raw)}, sent {(sent is null ? "nothing" : Convert.ToHexString(sent))}");
        Assert.Equal(Convert.ToHexString(request.Raw), Convert.ToHexString(Assert.IsType<byte[]>(sent)));
        Assert.Equal("__main__.DemoService", root.RemoteTypeName);
        Assert.Equal(version, conn.ProtocolVersion);
    }

    [Theory]
    [MemberData(nameof(AllSessions))]
    public void RecordedFrames_EveryFrame_DecodesWithFrameReaderAndEnvelope(string name)
    {
        RecordedSession session = RecordedSession.Load(name);
        int comparedReprs = 0;
        foreach (RecordedFrame frame in session.Frames)
        {
            JsonElement decoded = frame.Decoded;
            (Message message, byte[] payload, bool compressed) = Frames.Decode(frame.Raw, frame.Wire);

            Assert.Equal(decoded.GetProperty("compressed").GetBoolean(), compressed);
            Assert.Equal(decoded.GetProperty("payload_len").GetInt32(), payload.Length);
            Assert.Equal(decoded.GetProperty("msg").GetString(), "MSG_" + message.Kind.ToString().ToUpperInvariant());
            Assert.Equal(decoded.GetProperty("seq").GetInt64(), message.Seq);
            if (decoded.TryGetProperty("payload_sha256", out JsonElement sha))
            {
                Assert.Equal(sha.GetString(), Convert.ToHexStringLower(SHA256.HashData(payload)));
            }
            if (decoded.TryGetProperty("handler", out JsonElement handler))
            {
                Assert.Equal(handler.GetString(), "HANDLE_" + Frames.Request(message).Handler.ToString().ToUpperInvariant());
            }
            // Python's repr of the decoded envelope, where the recorder did not shorten it.
            string python = decoded.GetProperty("python").GetString()!;
            if (!python.Contains("...", StringComparison.Ordinal) && !python.Contains("<cut>", StringComparison.Ordinal))
            {
                PyTuple envelope = frame.Wire == RpycProtocolVersion.V5
                    ? new PyTuple((long)message.Kind, message.Seq, message.Args)
                    : new PyTuple(message.Seq, message.Args);
                Assert.Equal(python, PyValue.Repr(envelope));
                comparedReprs++;
            }
        }
        output.WriteLine($"session-{name}: {session.Frames.Count} frames decoded, {comparedReprs} reprs compared with Python's");
        Assert.True(comparedReprs > 0);
    }

    [Theory]
    [MemberData(nameof(AllSessions))]
    public void RecordedFrames_EveryPayload_ReencodesByteIdentical(string name)
    {
        RecordedSession session = RecordedSession.Load(name);
        foreach (RecordedFrame frame in session.Frames)
        {
            (Message message, byte[] payload, bool compressed) = Frames.Decode(frame.Raw, frame.Wire);

            byte[] reencoded = Frames.EncodePayload(frame.Wire, message.Kind, message.Seq, message.Args);

            Assert.True(payload.AsSpan().SequenceEqual(reencoded), $"{frame}: brine re-encoding differs from Python's at offset {payload.AsSpan().CommonPrefixLength(reencoded)}");
            if (!compressed)
            {
                // Uncompressed frames are fully determined by the payload.
                Assert.Equal(Convert.ToHexString(frame.Raw), Convert.ToHexString(Channel.FrameWriter.Encode(reencoded)));
            }
        }
    }

    [Fact]
    public void RecordedFrames_CompressedDownloadReply_DecodesWhole()
    {
        foreach (string name in new[] { "5.3", "6.x" })
        {
            RecordedSession session = RecordedSession.Load(name);
            RecordedFrame frame = session.Frames.Single(f => !f.ClientToServer && f.Step == "root.download(100000) [compressed reply]" && f.Compressed);

            Message message = Frames.Decode(frame.Raw, frame.Wire).Message;

            Assert.Equal(MessageKind.Reply, message.Kind);
            PyTuple box = Assert.IsType<PyTuple>(message.Args);
            Assert.Equal(BoxLabel.Value, box[0]);
            byte[] data = Assert.IsType<byte[]>(box[1]);
            Assert.Equal(100000, data.Length);
            Assert.True(Enumerable.Range(0, data.Length).All(i => data[i] == (byte)((i * 7) & 0xFF)), "the inflated bytes differ from (i * 7) & 0xFF");
            output.WriteLine($"session-{name}: {frame.Raw.Length}-byte frame inflated to {data.Length} bytes");
        }
    }

    [Theory]
    [InlineData("client5.3-server6.x", RpycProtocolVersion.V5, "6.x")]
    [InlineData("client6.x-server5.3", RpycProtocolVersion.V6, "5.x")]
    public async Task CrossVersion_PeerSendsOtherEnvelopeClose_FailsWithEnvelopeMismatch(string name, RpycProtocolVersion version, string peerVersion)
    {
        RecordedSession session = RecordedSession.Load(name);
        RecordedFrame request = session.Frames[0];
        RecordedFrame close = session.Frames[1];
        await using var peer = new ScriptedPeer();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        Task<List<byte[]>> script = Task.Run(async () =>
        {
            await peer.AcceptAsync(timeout.Token);
            var received = new List<byte[]>();
            byte[]? first = await peer.ReadFrameAsync(timeout.Token);
            if (first is null)
            {
                return received;
            }
            received.Add(first);
            // The recorded CLOSE request is the server's own seq 0: sent exactly as recorded.
            await peer.SendAsync(close.Raw, timeout.Token);
            while (await peer.ReadFrameAsync(timeout.Token) is { } frame)
            {
                received.Add(frame);
            }
            return received;
        });
        using RpycConnection conn = RpycConnection.Connect("127.0.0.1", peer.Port, ClientOptions(version));

        var watch = Stopwatch.StartNew();
        Exception? error = Record.Exception(() => conn.RootNetref);
        List<byte[]> received = await script.WaitAsync(timeout.Token);

        Assert.NotNull(error);
        string messages = string.Join(" | ", Chain(error).Select(e => $"{e.GetType().Name}: {e.Message}"));
        output.WriteLine($"after {watch.Elapsed.TotalMilliseconds:0} ms: {messages}");
        output.WriteLine($"the client sent {received.Count} frame(s): {string.Join(", ", received.Select(Convert.ToHexString))}");
        Assert.Equal(Convert.ToHexString(request.Raw), Convert.ToHexString(received[0]));
        Assert.True(error is RpycProtocolException or RpycConnectionException, $"expected a protocol or connection error, got {messages}");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"the client took {watch.Elapsed} to give up");
        Assert.True(conn.IsClosed);
        Assert.True(
            Chain(error).Any(e => e.Message.Contains(peerVersion, StringComparison.Ordinal) || e.Message.Contains("envelope", StringComparison.OrdinalIgnoreCase)),
            $"the error should name the envelope mismatch (\"{peerVersion}\" or \"envelope\"), but says: {messages}");
    }

    private static IEnumerable<Exception> Chain(Exception error)
    {
        for (Exception? e = error; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }

    // Runs one recorded step against the client and compares with what the Python client saw.
    private sealed class Replay(RecordedSession session, SessionReplayServer server, ITestOutputHelper output)
    {
        public void Check(string step, Func<string> action)
        {
            RecordedStep recorded = session.Step(step);
            Assert.True(recorded.Ok, $"step \"{step}\" raised in the recording");
            server.Step = step;
            string actual;
            try
            {
                actual = action();
            }
            catch (Exception ex) when (server.Failed)
            {
                throw new Xunit.Sdk.XunitException($"step \"{step}\": {ex.GetType().Name}: {ex.Message}\nThe scripted server reported:\n{server.Failures}");
            }
            output.WriteLine($"{step} -> {actual}");
            Assert.False(server.Failed, server.Failures);
            Assert.Equal(recorded.Result, actual);
        }

        public void CheckRaises(string step, Action action)
        {
            RecordedStep recorded = session.Step(step);
            Assert.False(recorded.Ok, $"step \"{step}\" did not raise in the recording");
            server.Step = step;
            Exception? error = Record.Exception(action);
            Assert.False(server.Failed, server.Failures);
            RpycRemoteException remote = Assert.IsType<RpycRemoteException>(error);
            string pythonStr = PyValue.Str(remote.RemoteArgs[0]) + RemoteTracebackHeader + remote.RemoteTraceback;
            output.WriteLine($"{step} -> {remote.RemoteTypeName}: {PyValue.Repr(remote.RemoteArgs)}");
            Assert.Equal(recorded.ExceptionType, remote.RemoteTypeName);
            Assert.Equal(recorded.ExceptionStr, pythonStr);
            Assert.EndsWith(recorded.ExceptionStr!, remote.Message, StringComparison.Ordinal);
        }
    }
}
