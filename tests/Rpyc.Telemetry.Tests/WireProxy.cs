using System.Buffers.Binary;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;

namespace Rpyc.Telemetry.Tests;

/// <summary>
/// A TCP relay on 127.0.0.1 between an RPyC client and a server that parses the 5-byte frame
/// headers ("!LB", then the body and the 0x0A flusher) in both directions and classifies every
/// frame from its envelope (message kind, seq, and the handler of requests), so tests can compare
/// the telemetry with what really crossed the wire. A frame is counted before its last byte is
/// forwarded: once the receiver has read a frame, the proxy has counted it.
/// </summary>
internal sealed class WireProxy : IDisposable
{
    private const long HandleClose = 2;
    private const long HandleDel = 15;

    private readonly TcpListener _listener;
    private readonly string _upstreamHost;
    private readonly int _upstreamPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private readonly List<Task> _pumps = [];
    private readonly object _lock = new();
    private readonly List<FrameInfo> _frames = [];
    private readonly Task _acceptLoop;

    public WireProxy(int upstreamPort, string upstreamHost = "127.0.0.1")
    {
        _upstreamHost = upstreamHost;
        _upstreamPort = upstreamPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _acceptLoop = Task.Run(AcceptLoop);
    }

    public int Port { get; }

    public enum Direction
    {
        ClientToServer,
        ServerToClient,
    }

    public readonly record struct FrameInfo(Direction Direction, long Bytes, int Kind, long Seq, long Handler);

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            client.NoDelay = true;
            await upstream.ConnectAsync(_upstreamHost, _upstreamPort, _stop.Token);
            lock (_lock)
            {
                _sockets.Add(client);
                _sockets.Add(upstream);
                _pumps.Add(Task.Run(() => Pump(client, upstream, Direction.ClientToServer)));
                _pumps.Add(Task.Run(() => Pump(upstream, client, Direction.ServerToClient)));
            }
        }
    }

    private async Task Pump(Socket from, Socket to, Direction direction)
    {
        var parser = new FrameParser(direction, Record);
        byte[] buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                int n = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (n == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                parser.Feed(buffer.AsSpan(0, n));
                await to.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private void Record(FrameInfo frame)
    {
        lock (_lock)
        {
            _frames.Add(frame);
        }
    }

    public IReadOnlyList<FrameInfo> Frames
    {
        get
        {
            lock (_lock)
            {
                return [.. _frames];
            }
        }
    }

    /// <summary>What crossed the wire so far, in the telemetry's terms (seen from the client).</summary>
    public WireCounts Counts()
    {
        IReadOnlyList<FrameInfo> frames = Frames;
        var clientRequests = frames.Where(f => f.Direction == Direction.ClientToServer && f.Kind == 1).ToList();
        var oneWaySeqs = clientRequests.Where(f => f.Handler is HandleDel or HandleClose).Select(f => f.Seq).ToHashSet();
        var fromServer = frames.Where(f => f.Direction == Direction.ServerToClient).ToList();
        return new WireCounts
        {
            FramesSent = frames.Count(f => f.Direction == Direction.ClientToServer),
            FramesReceived = fromServer.Count,
            BytesSent = frames.Where(f => f.Direction == Direction.ClientToServer).Sum(f => f.Bytes),
            BytesReceived = fromServer.Sum(f => f.Bytes),
            RoundTrips = clientRequests.Count(f => f.Handler is not (HandleDel or HandleClose)),
            OneWayMessages = clientRequests.Count(f => f.Handler is HandleDel or HandleClose),
            IncomingRequests = fromServer.Count(f => f.Kind == 1),
            RepliesToOneWay = fromServer.Count(f => f.Kind != 1 && oneWaySeqs.Contains(f.Seq)),
            RepliesToOneWayBytes = fromServer.Where(f => f.Kind != 1 && oneWaySeqs.Contains(f.Seq)).Sum(f => f.Bytes),
            ClientHandlers = clientRequests.GroupBy(f => f.Handler).ToDictionary(g => g.Key, g => g.Count()),
            ServerHandlers = fromServer.Where(f => f.Kind == 1).GroupBy(f => f.Handler).ToDictionary(g => g.Key, g => g.Count()),
        };
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_lock)
        {
            foreach (Socket socket in _sockets)
            {
                socket.Dispose();
            }
        }
        try
        {
            Task.WaitAll([_acceptLoop, .. _pumps], TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }

    /// <summary>Incremental frame splitter for one direction.</summary>
    private sealed class FrameParser(Direction direction, Action<FrameInfo> record)
    {
        private readonly List<byte> _pending = [];

        public void Feed(ReadOnlySpan<byte> data)
        {
            _pending.AddRange(data);
            while (_pending.Count >= 5)
            {
                byte[] header = [.. _pending.GetRange(0, 5)];
                long bodyLength = BinaryPrimitives.ReadUInt32BigEndian(header);
                long total = 5 + bodyLength + 1;
                if (_pending.Count < total)
                {
                    return;
                }
                byte[] body = [.. _pending.GetRange(5, (int)bodyLength)];
                _pending.RemoveRange(0, (int)total);
                if (header[4] != 0)
                {
                    using var inflater = new ZLibStream(new MemoryStream(body), CompressionMode.Decompress);
                    using var plain = new MemoryStream();
                    inflater.CopyTo(plain);
                    body = plain.ToArray();
                }
                (int kind, long seq, long handler) = Classify(body);
                record(new FrameInfo(direction, total, kind, seq, handler));
            }
        }

        // 5.x: TUP3 (0x12), msg as an immediate int, seq, args. 6.x: msg byte, TUP2 (0x11), seq, args.
        // A request's args are TUP2 (0x11) with the handler code as an immediate int first.
        private static (int Kind, long Seq, long Handler) Classify(byte[] payload)
        {
            int kind;
            int offset;
            if (payload[0] == 0x12)
            {
                kind = payload[1] - 0x50;
                offset = 2;
            }
            else
            {
                kind = payload[0];
                if (payload[1] != 0x11)
                {
                    throw new InvalidDataException($"unexpected 6.x envelope byte 0x{payload[1]:x2}");
                }
                offset = 2;
            }
            long seq = ReadInt(payload, ref offset);
            long handler = 0;
            if (kind == 1)
            {
                if (payload[offset] != 0x11)
                {
                    throw new InvalidDataException($"request args start with 0x{payload[offset]:x2}, not TUP2");
                }
                offset++;
                handler = ReadInt(payload, ref offset);
            }
            return (kind, seq, handler);
        }

        // brine.py: immediate ints 0x20..0xEF are value + 0x50; TAG_INT_L1 / TAG_INT_L4 are ASCII decimal.
        private static long ReadInt(byte[] data, ref int offset)
        {
            byte tag = data[offset++];
            if (tag is >= 0x20 and <= 0xEF)
            {
                return tag - 0x50;
            }
            int length;
            if (tag == 0x16)
            {
                length = data[offset++];
            }
            else if (tag == 0x17)
            {
                length = (int)BinaryPrimitives.ReadUInt32BigEndian(data.AsSpan(offset));
                offset += 4;
            }
            else
            {
                throw new InvalidDataException($"expected a brine int, got tag 0x{tag:x2}");
            }
            long value = long.Parse(System.Text.Encoding.ASCII.GetString(data, offset, length), System.Globalization.CultureInfo.InvariantCulture);
            offset += length;
            return value;
        }
    }
}

/// <summary>Frames and bytes that crossed the proxy, classified from the client's point of view.</summary>
internal sealed class WireCounts
{
    public long FramesSent { get; init; }
    public long FramesReceived { get; init; }
    public long BytesSent { get; init; }
    public long BytesReceived { get; init; }
    public long RoundTrips { get; init; }
    public long OneWayMessages { get; init; }
    public long IncomingRequests { get; init; }
    public long RepliesToOneWay { get; init; }
    public long RepliesToOneWayBytes { get; init; }
    public required Dictionary<long, int> ClientHandlers { get; init; }
    public required Dictionary<long, int> ServerHandlers { get; init; }

    public override string ToString() =>
        $"sent {FramesSent} frames / {BytesSent} B, received {FramesReceived} frames / {BytesReceived} B; " +
        $"round trips {RoundTrips}, one-way {OneWayMessages}, incoming {IncomingRequests}, replies to one-way {RepliesToOneWay} ({RepliesToOneWayBytes} B); " +
        $"client handlers [{string.Join(", ", ClientHandlers.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}:{kv.Value}"))}], " +
        $"server handlers [{string.Join(", ", ServerHandlers.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}:{kv.Value}"))}]";
}
