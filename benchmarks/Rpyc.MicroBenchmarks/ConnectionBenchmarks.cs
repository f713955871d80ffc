using System.Buffers;
using BenchmarkDotNet.Attributes;
using Rpyc.Benchmarks;
using Rpyc.Channel;
using Rpyc.Protocol;

namespace Rpyc.MicroBenchmarks;

/// <summary>A client connection whose peer is a <see cref="ReplyingTransport"/> answering calls on the root.</summary>
internal sealed class ClientRig : IDisposable
{
    private static readonly object s_rootRef = new PyTuple(BoxLabel.RemoteRefBoxed, new PyTuple("MicroService", 1L, 2L));

    /// <summary>Room for a 64 MiB payload and its envelope: the default limit is exactly 64 MiB.</summary>
    internal const int MaxFrameLength = 65 * 1024 * 1024;

    // Each rig's connection has a budget of its own, so that what one benchmark class's other rig
    // keeps for its next message does not decide whether this one may keep its buffers.
    internal const long OwnBudget = 256L * 1024 * 1024;

    public ClientRig(int compressionThreshold = -1, int pooledBytesThreshold = 0)
    {
        var transport = new ReplyingTransport(
            handler => handler switch
            {
                HandlerId.GetRoot => s_rootRef,
                HandlerId.CallAttr => CallAttrReply,
                _ => null,
            },
            compressionThreshold);
        Connection = new RpycConnection(transport, new RpycConnectOptions { SyncRequestTimeout = TimeSpan.FromSeconds(5), PooledBytesThreshold = pooledBytesThreshold, MaxFrameLength = MaxFrameLength, MaxDecompressedLength = MaxFrameLength, MemoryBudget = new RpycMemoryBudget(OwnBudget) }, null, RpycProtocolVersion.V5);
        Root = Connection.RootNetref;
    }

    public RpycConnection Connection { get; }

    public Netref Root { get; }

    /// <summary>The boxed reply the peer sends to the next CALLATTR.</summary>
    public object? CallAttrReply { get; set; }

    public static void Check(bool ok, string what)
    {
        if (!ok)
        {
            throw new InvalidOperationException($"The benchmark call {what} returned a wrong value.");
        }
    }

    public void Dispose() => Connection.Dispose();
}

/// <summary>A server connection serving <see cref="MicroService"/> to a <see cref="ReplayTransport"/>.</summary>
internal sealed class ServerRig : IDisposable
{
    private readonly ReplayTransport _transport = new() { Capture = true };
    private readonly RpycConnection _server;
    private readonly PyTuple _rootRef;

    public ServerRig()
        : this(getRootFirst: true)
    {
    }

    private ServerRig(bool getRootFirst)
    {
        _server = new RpycConnection(_transport, new RpycConnectOptions { MaxFrameLength = ClientRig.MaxFrameLength, MemoryBudget = new RpycMemoryBudget(ClientRig.OwnBudget) }, new MicroService(), version: null);
        _rootRef = PyTuple.Empty;
        if (getRootFirst)
        {
            Message reply = Serve(GetRootRequest);
            _rootRef = new PyTuple(BoxLabel.LocalRefBoxed, ((PyTuple)reply.Args!)[1]);
        }
    }

    /// <summary>The GETROOT request frame a client sends first.</summary>
    public static byte[] GetRootRequest { get; } = Encode(0, new PyTuple((long)HandlerId.GetRoot, new PyTuple(BoxLabel.ValueBoxed, PyTuple.Empty)));

    /// <summary>A new server connection that has served nothing yet (its requests are the caller's, made by another rig).</summary>
    public static ServerRig Fresh() => new(getRootFirst: false);

    /// <summary>A CALLATTR request frame on the server's root.</summary>
    public byte[] CallAttr(string name, params object?[] args)
    {
        var boxed = new PyTuple(BoxLabel.TupleBoxed, new PyTuple(
            _rootRef,
            new PyTuple(BoxLabel.ValueBoxed, name),
            new PyTuple(BoxLabel.ValueBoxed, PyTuple.From(args)),
            new PyTuple(BoxLabel.ValueBoxed, PyTuple.Empty)));
        byte[] request = Encode(1000, new PyTuple((long)HandlerId.CallAttr, boxed));
        Message reply = Serve(request);
        if (reply.Kind != MessageKind.Reply)
        {
            throw new InvalidOperationException($"The server answered {name} with an exception: {PyValue.Repr(reply.Args)}.");
        }
        return request;
    }

    // Setup only: decodes the reply (allocates).
    private Message Serve(byte[] request)
    {
        _transport.Capture = true;
        ServeOne(request);
        _transport.Capture = false;
        var buffer = new ReadOnlySequence<byte>(_transport.LastSent!);
        if (!FrameReader.TryReadFrame(ref buffer, new ChannelLimits(ClientRig.MaxFrameLength, ClientRig.MaxFrameLength, 256), out ReadOnlySequence<byte> payload))
        {
            throw new InvalidOperationException("The server sent an incomplete frame.");
        }
        return Envelope.Read(payload, RpycProtocolVersion.V5, 256);
    }

    private static byte[] Encode(long seq, object args)
    {
        var payload = new ArrayBufferWriter<byte>();
        Envelope.Write(payload, RpycProtocolVersion.V5, MessageKind.Request, seq, args);
        return FrameWriter.Encode(payload.WrittenSpan, compressionThreshold: -1);
    }

    /// <summary>Reads, dispatches and answers one request.</summary>
    public bool ServeOne(byte[] request)
    {
        _transport.Request = request;
        _transport.Arm();
        return _server.Serve(TimeSpan.FromSeconds(1)) ? true : throw new InvalidOperationException("The server did not handle the request.");
    }

    public void Dispose() => _server.Dispose();
}

/// <summary>
/// Allocation per <c>root.ping()</c> round trip, each side measured alone: the peer is played on the
/// same thread by the transport, so the Allocated column counts one connection.
/// </summary>
/// <example>dotnet run -c Release --project benchmarks/Rpyc.MicroBenchmarks -- --filter '*PingBenchmarks*' --job short</example>
[MemoryDiagnoser]
public class PingBenchmarks
{
    private static readonly object s_pong = new PyTuple(BoxLabel.ValueBoxed, "pong");
    private ClientRig _client = null!;
    private ServerRig _server = null!;
    private byte[] _ping = null!;

    [GlobalSetup]
    public void Setup()
    {
        _client = new ClientRig { CallAttrReply = s_pong };
        ClientRig.Check(Client_Ping() is "pong", "ping");
        _server = new ServerRig();
        _ping = _server.CallAttr("ping");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _server.Dispose();
    }

    /// <summary>The client: box, write and send the request, read and unbox the reply.</summary>
    [Benchmark]
    public object? Client_Ping() => _client.Root.CallMethod("ping");

    /// <summary>The server: read the request, dispatch it to the service, send the reply.</summary>
    [Benchmark]
    public bool Server_Ping() => _server.ServeOne(_ping);
}

/// <summary>
/// Allocation per connection lifetime on each side: open, GETROOT, one <c>root.ping()</c>, close.
/// What a connection keeps of its own (buffers, tables, queues) is garbage once it closes, and a
/// connect + first call benchmark's client and server collect it every few hundred connections:
/// those collections are where that benchmark's p99 lay (issue 11, goal 1).
/// </summary>
/// <example>dotnet run -c Release --project benchmarks/Rpyc.MicroBenchmarks -- --filter '*ConnectionLifetimeBenchmarks*' --job short</example>
[MemoryDiagnoser]
public class ConnectionLifetimeBenchmarks
{
    private static readonly object s_pong = new PyTuple(BoxLabel.ValueBoxed, "pong");
    private byte[] _ping = null!;

    [GlobalSetup]
    public void Setup()
    {
        using var rig = new ServerRig();
        _ping = rig.CallAttr("ping");
        ClientRig.Check(Client_OpenPingClose() is "pong", "ping");
        ClientRig.Check(Server_OpenPingClose(), "ping");
    }

    /// <summary>The client: connect (the root's netref comes with the first reply), ping, close.</summary>
    [Benchmark]
    public object? Client_OpenPingClose()
    {
        using var client = new ClientRig { CallAttrReply = s_pong };
        return client.Root.CallMethod("ping");
    }

    /// <summary>The server: a new connection serves GETROOT and ping, then closes.</summary>
    [Benchmark]
    public bool Server_OpenPingClose()
    {
        using ServerRig server = ServerRig.Fresh();
        return server.ServeOne(ServerRig.GetRootRequest) && server.ServeOne(_ping);
    }
}

/// <summary>
/// Allocation per large message on the client: sending <see cref="Size"/> bytes (<c>upload</c>),
/// receiving them (<c>download</c>) and both (<c>echo</c>), with the reply compressed or not (a
/// Python peer compresses anything over 3000 bytes). Without lending, the received payload is a
/// new array (on the large object heap from 85,000 bytes); the <c>_Lent</c> twins receive it as a
/// <see cref="PooledBytes"/> (<see cref="RpycConnectOptions.PooledBytesThreshold"/>) and give it
/// back, so nothing should be allocated per message in steady state.
/// </summary>
/// <example>dotnet run -c Release --project benchmarks/Rpyc.MicroBenchmarks -- --filter '*TransferBenchmarks*' --job short</example>
[MemoryDiagnoser]
public class ClientTransferBenchmarks
{
    private ClientRig _client = null!;
    private ClientRig _lending = null!;
    private byte[] _upload = null!;
    private object _uploadReply = null!;
    private object _downloadReply = null!;

    /// <summary>Payload bytes.</summary>
    [Params(100 * 1024, BenchmarkData.OneMiB, 8 * BenchmarkData.OneMiB, 64 * BenchmarkData.OneMiB)]
    public int Size { get; set; }

    /// <summary>Whether the peer compresses its replies.</summary>
    [Params(false, true)]
    public bool Compressed { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _client = new ClientRig(Compressed ? FrameWriter.PythonCompressionThreshold : -1);
        _lending = new ClientRig(Compressed ? FrameWriter.PythonCompressionThreshold : -1, pooledBytesThreshold: 64 * 1024);
        _upload = BenchmarkData.RandomBytes(Size);
        _uploadReply = new PyTuple(BoxLabel.ValueBoxed, (long)Size);
        _downloadReply = new PyTuple(BoxLabel.ValueBoxed, BenchmarkData.RepeatingBytes(Size));
        ClientRig.Check(Upload() is long n && n == Size, "upload");
        ClientRig.Check(Download() is byte[] b && b.AsSpan().SequenceEqual(BenchmarkData.RepeatingBytes(Size)), "download");
        _lending.CallAttrReply = _downloadReply;
        using (var lease = (PooledBytes)_lending.Root.CallMethod("download", Size)!)
        {
            ClientRig.Check(lease.Span.SequenceEqual(BenchmarkData.RepeatingBytes(Size)), "download (lent)");
        }
        ClientRig.Check(Download_Lent() == Size && Echo() == Size && Echo_Lent() == Size, "echo");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Dispose();
        _lending.Dispose();
    }

    /// <summary>Send <see cref="Size"/> bytes; the reply is a small int.</summary>
    [Benchmark]
    public object? Upload()
    {
        _client.CallAttrReply = _uploadReply;
        return _client.Root.CallMethod("upload", _upload);
    }

    /// <summary>Receive <see cref="Size"/> bytes.</summary>
    [Benchmark]
    public object? Download()
    {
        _client.CallAttrReply = _downloadReply;
        return _client.Root.CallMethod("download", Size);
    }

    /// <summary>Receive <see cref="Size"/> bytes lent from the pool, and give them back.</summary>
    [Benchmark]
    public int Download_Lent()
    {
        _lending.CallAttrReply = _downloadReply;
        using var lease = (PooledBytes)_lending.Root.CallMethod("download", Size)!;
        return lease.Length;
    }

    /// <summary>Send <see cref="Size"/> bytes and receive as many: one round trip each way.</summary>
    [Benchmark]
    public int Echo()
    {
        _client.CallAttrReply = _downloadReply;
        return ((byte[])_client.Root.CallMethod("echo", _upload)!).Length;
    }

    /// <summary><see cref="Echo"/> with the reply lent from the pool.</summary>
    [Benchmark]
    public int Echo_Lent()
    {
        _lending.CallAttrReply = _downloadReply;
        using var lease = (PooledBytes)_lending.Root.CallMethod("echo", _upload)!;
        return lease.Length;
    }
}

/// <summary>Allocation per large message on a server connection: an <c>upload</c> request received, a <c>download</c> reply sent.</summary>
[MemoryDiagnoser]
public class ServerTransferBenchmarks
{
    private ServerRig _server = null!;
    private byte[] _upload = null!;
    private byte[] _uploadMemory = null!;
    private byte[] _download = null!;

    /// <summary>Payload bytes.</summary>
    [Params(10 * 1024, 100 * 1024, BenchmarkData.OneMiB, 8 * BenchmarkData.OneMiB, 64 * BenchmarkData.OneMiB)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _server = new ServerRig();
        _upload = _server.CallAttr("upload", BenchmarkData.RandomBytes(Size));
        _uploadMemory = _server.CallAttr("upload_memory", BenchmarkData.RandomBytes(Size));
        _download = _server.CallAttr("download", (long)Size);
    }

    [GlobalCleanup]
    public void Cleanup() => _server.Dispose();

    /// <summary>Receive <see cref="Size"/> bytes and call a handler taking <c>byte[]</c> (its array is inherent).</summary>
    [Benchmark]
    public bool Upload() => _server.ServeOne(_upload);

    /// <summary>Receive <see cref="Size"/> bytes and call a handler taking <c>ReadOnlyMemory&lt;byte&gt;</c>: lent from the pool.</summary>
    [Benchmark]
    public bool Upload_Memory() => _server.ServeOne(_uploadMemory);

    /// <summary>Send <see cref="Size"/> bytes as the reply.</summary>
    [Benchmark]
    public bool Download() => _server.ServeOne(_download);
}
