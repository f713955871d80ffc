using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Rpyc.Bench;

/// <summary>
/// The raw TCP benchmark server (wire format in <c>TcpRawProtocol</c>): a thread per connection,
/// OS-blocking sockets, the same operations as the benchmark service with no serialization at all.
/// The floor of every comparison, so each path is the fastest plain socket code: idle threads wait
/// in accept(2) themselves (a new connection costs no thread start and no hand-off), sockets have
/// 4 MiB buffers (<c>TcpRawProtocol.SetBuffers</c>), an upload is
/// read into a reused 256 KiB sink and counted, a download is one send(2) of a reply framed once
/// per size, and after each reply the thread polls briefly for the next request before it blocks
/// (while that pays: see <see cref="ReplySpin"/>).
/// </summary>
public sealed partial class TcpRawServer : IDisposable
{
    /// <summary>How long a connection's thread polls for the next request before blocking, by default.</summary>
    public static readonly TimeSpan DefaultReceiveSpin = TimeSpan.FromMicroseconds(50);

    private const int SinkLength = 256 * 1024;

    // Threads kept waiting in accept(2) after their connection ends: enough for the suite's
    // concurrent clients to reconnect without a thread start; an idle thread costs only its stack.
    private const int MaxIdleThreads = 16;

    // Framed download replies (length:u32 BE + payload), built once per size and shared read-only.
    private static readonly ConcurrentDictionary<int, byte[]> s_downloads = new();

    private readonly Socket _listener;
    private readonly HashSet<Socket> _clients = [];
    private readonly Lock _sync = new();
    private int _idleThreads;
    private int _threads;
    private volatile bool _stopped;

    /// <summary>Binds and starts accepting, with <see cref="DefaultReceiveSpin"/>.</summary>
    /// <param name="host">Address to bind, e.g. 127.0.0.1.</param>
    /// <param name="port">Port, 0 for a free one.</param>
    /// <exception cref="SocketException">The bind failed.</exception>
    public TcpRawServer(string host, int port)
        : this(host, port, DefaultReceiveSpin)
    {
    }

    /// <summary>Binds and starts accepting.</summary>
    /// <param name="host">Address to bind, e.g. 127.0.0.1.</param>
    /// <param name="port">Port, 0 for a free one.</param>
    /// <param name="receiveSpin">How long a connection's thread polls for the next request before it blocks; zero blocks at once.</param>
    /// <exception cref="SocketException">The host does not resolve, or the bind failed.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="receiveSpin"/> is negative or above <see cref="RpycConnectOptions.MaxReceiveSpin"/>.</exception>
    public TcpRawServer(string host, int port, TimeSpan receiveSpin)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(receiveSpin, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(receiveSpin, RpycConnectOptions.MaxReceiveSpin);
        ReceiveSpin = receiveSpin;
        IPAddress address = RpycServer.ResolveBindAddress(host);
        _listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // SO_REUSEADDR alone (rebinding over TIME_WAIT): .NET's ReuseAddress also sets SO_REUSEPORT
            // on Linux, which let a second server bind a busy port and take half its clients.
            if (OperatingSystem.IsLinux())
            {
                _listener.SetRawSocketOption(1, 2, [1, 0, 0, 0]);
            }
            TcpRawProtocol.SetBuffers(_listener);
            _listener.Bind(new IPEndPoint(address, port));
            _listener.Listen(512);
        }
        catch
        {
            _listener.Dispose();
            throw;
        }
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        StartThread();
    }

    /// <summary>The bound port.</summary>
    public int Port { get; }

    /// <summary>How long a connection's thread polls for the next request before it blocks.</summary>
    public TimeSpan ReceiveSpin { get; }

    private void StartThread()
    {
        if (_stopped)
        {
            return;
        }
        Interlocked.Increment(ref _idleThreads);
        Interlocked.Increment(ref _threads);
        new Thread(Run) { IsBackground = true, Name = "tcp-raw-conn" }.Start();
    }

    // Each thread accepts a connection, serves it to the end, then accepts again; the kernel wakes
    // one waiting thread per connection. A thread that takes the last idle slot has a new one
    // started by the thread pool, off this connection's path; surplus idle threads exit.
    private void Run()
    {
        // Created on the first connection, then reused by every later one this thread serves.
        Connection? connection = null;
        try
        {
            while (!_stopped)
            {
                Socket client;
                try
                {
                    client = _listener.Accept();
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    if (_stopped)
                    {
                        return;
                    }
                    continue;
                }
                if (Interlocked.Decrement(ref _idleThreads) == 0 && !_stopped)
                {
                    ThreadPool.UnsafeQueueUserWorkItem(static server => server.StartThread(), this, preferLocal: false);
                }
                Serve(client, connection ??= new Connection(ReceiveSpin));
                if (Interlocked.Increment(ref _idleThreads) > MaxIdleThreads)
                {
                    Interlocked.Decrement(ref _idleThreads);
                    return;
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _threads);
        }
    }

    private void Serve(Socket client, Connection connection)
    {
        lock (_sync)
        {
            if (_stopped)
            {
                client.Dispose();
                return;
            }
            _clients.Add(client);
        }
        try
        {
            client.NoDelay = true;
            connection.Serve(client, this);
        }
        catch (Exception ex) when (ex is SocketException or EndOfStreamException or ObjectDisposedException or InvalidDataException or ArgumentException)
        {
            // The client went away, or sent garbage: drop this connection only.
        }
        finally
        {
            lock (_sync)
            {
                _clients.Remove(client);
            }
            client.Dispose();
        }
    }

    // length:u32 BE + payload(n), cached per size (a few sizes per run; the cache is reset if a
    // client asks for many different ones).
    private static byte[] FramedDownload(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, 64 * 1024 * 1024);
        if (s_downloads.TryGetValue(n, out byte[]? framed))
        {
            return framed;
        }
        if (s_downloads.Count > 64)
        {
            s_downloads.Clear();
        }
        return s_downloads.GetOrAdd(n, static n =>
        {
            byte[] reply = new byte[TcpRawProtocol.ReplyHeaderLength + n];
            BinaryPrimitives.WriteInt32BigEndian(reply, n);
            Payload.Get(n).Span.CopyTo(reply.AsSpan(TcpRawProtocol.ReplyHeaderLength));
            return reply;
        });
    }

    /// <summary>Stops accepting and closes every connection.</summary>
    public void Dispose()
    {
        _stopped = true;
        _listener.Dispose();
        lock (_sync)
        {
            foreach (Socket client in _clients)
            {
                client.Dispose();
            }
            _clients.Clear();
        }
        SpinWait.SpinUntil(() => Volatile.Read(ref _threads) == 0, TimeSpan.FromSeconds(2));
    }

    // A serving thread's connection state, kept from one connection to the next so that a new
    // connection allocates nothing: the receive buffer (requests are read through it, so a client
    // that pipelines is served correctly), the body of a large request, the reply scratch.
    private sealed partial class Connection(TimeSpan receiveSpin)
    {
        private readonly byte[] _in = new byte[SinkLength];
        private readonly byte[] _reply = new byte[TcpRawProtocol.ReplyHeaderLength + TcpRawProtocol.CopyThreshold];
        private readonly ArraySegment<byte>[] _segments = new ArraySegment<byte>[2];
        private readonly byte[] _count = new byte[8];
        private byte[] _body = [];
        private Socket _socket = null!;
        // Polls for the next request while that pays (the suite's clients wait for replies alike).
        private ReplySpin _spin;
        private int _start;
        private int _end;

        public void Serve(Socket socket, TcpRawServer server)
        {
            _socket = socket;
            _start = _end = 0;
            _spin = new ReplySpin(receiveSpin);
            try
            {
                Run(server);
            }
            finally
            {
                _socket = null!;
            }
        }

        private void Run(TcpRawServer server)
        {
            Socket socket = _socket;
            while (!server._stopped)
            {
                if (!Buffer(TcpRawProtocol.RequestHeaderLength))
                {
                    return;
                }
                byte op = _in[_start];
                int length = BinaryPrimitives.ReadInt32BigEndian(_in.AsSpan(_start + 1));
                _start += TcpRawProtocol.RequestHeaderLength;
                if (length < 0 || length > TcpRawProtocol.MaxBody)
                {
                    throw new InvalidDataException($"A raw TCP request announced {length} bytes.");
                }
                if (op >= TcpRawProtocol.BinaryAppend && op <= TcpRawProtocol.BinaryDownload)
                {
                    ServeBinary(op, length);
                    continue;
                }
                if (op == TcpRawProtocol.Upload)
                {
                    Discard(length);
                    BinaryPrimitives.WriteInt64BigEndian(_count, length);
                    Reply(_count.AsSpan());
                    continue;
                }
                ArraySegment<byte> body = ReadBody(length);
                ReadOnlySpan<byte> arg = body;
                switch (op)
                {
                    case TcpRawProtocol.Ping:
                        Reply("pong"u8);
                        break;
                    case TcpRawProtocol.Echo:
                        Reply(body);
                        break;
                    case TcpRawProtocol.Download:
                        TcpRawProtocol.SendAll(socket, FramedDownload(ReadInt32(arg)));
                        break;
                    case TcpRawProtocol.Compute:
                        object sum = BenchOperations.Compute(ReadInt32(arg));
                        Reply(Encoding.ASCII.GetBytes(Convert.ToString(sum, CultureInfo.InvariantCulture)!).AsSpan());
                        break;
                    case TcpRawProtocol.Sleep:
                        if (arg.Length != 8)
                        {
                            throw new InvalidDataException($"sleep takes an 8-byte double, not {arg.Length} bytes.");
                        }
                        Thread.Sleep(TimeSpan.FromSeconds(Math.Max(0, BinaryPrimitives.ReadDoubleBigEndian(arg))));
                        Reply(arg);
                        break;
                    default:
                        throw new InvalidDataException($"Unknown raw TCP op {op}.");
                }
            }
        }

        private static int ReadInt32(ReadOnlySpan<byte> arg) => arg.Length == 4
            ? BinaryPrimitives.ReadInt32BigEndian(arg)
            : throw new InvalidDataException($"The argument is a 4-byte integer, not {arg.Length} bytes.");

        // Ensures count bytes are buffered from _start; false on a clean close between requests.
        private bool Buffer(int count)
        {
            if (_end - _start >= count)
            {
                return true;
            }
            if (_start == _end)
            {
                _start = _end = 0;
            }
            else if (_start > 0)
            {
                _in.AsSpan(_start, _end - _start).CopyTo(_in);
                _end -= _start;
                _start = 0;
            }
            while (_end < count)
            {
                if (_end == 0)
                {
                    _spin.BeforeReceive(_socket);
                }
                int n = _socket.Receive(_in.AsSpan(_end), SocketFlags.None);
                if (n == 0)
                {
                    if (_end == 0)
                    {
                        return false;
                    }
                    throw new EndOfStreamException("The client closed the connection inside a request.");
                }
                _end += n;
            }
            return true;
        }

        // An upload's body: counted, not kept. Each recv(2) fills the whole sink; bytes past the
        // body (a pipelined next request) stay buffered.
        private void Discard(int length)
        {
            int buffered = Math.Min(length, _end - _start);
            _start += buffered;
            int remaining = length - buffered;
            while (remaining > 0)
            {
                int n = _socket.Receive(_in, SocketFlags.None);
                if (n == 0)
                {
                    throw new EndOfStreamException($"The client closed the connection {remaining} bytes before the end of an upload.");
                }
                if (n > remaining)
                {
                    _start = remaining;
                    _end = n;
                    return;
                }
                remaining -= n;
                _start = _end = 0;
            }
        }

        // A body that fits the receive buffer is used in place; a larger one is read straight into
        // _body, grown once per larger size.
        private ArraySegment<byte> ReadBody(int length)
        {
            if (length <= _in.Length - TcpRawProtocol.RequestHeaderLength)
            {
                Buffer(length);
                var inPlace = new ArraySegment<byte>(_in, _start, length);
                _start += length;
                return inPlace;
            }
            if (_body.Length < length)
            {
                _body = new byte[length];
            }
            int buffered = _end - _start;
            _in.AsSpan(_start, buffered).CopyTo(_body);
            _start = _end = 0;
            TcpRawProtocol.ReceiveExactly(_socket, _body.AsSpan(buffered, length - buffered));
            return new ArraySegment<byte>(_body, 0, length);
        }

        // Small replies are copied behind their header (one send(2)); a large echo is a two-buffer
        // sendmsg(2) of the header and the body where it lies.
        private void Reply(ArraySegment<byte> data)
        {
            if (data.Count <= TcpRawProtocol.CopyThreshold)
            {
                Reply(data.AsSpan());
                return;
            }
            BinaryPrimitives.WriteInt32BigEndian(_reply, data.Count);
            TcpRawProtocol.SendAll(_socket, _segments, new ArraySegment<byte>(_reply, 0, TcpRawProtocol.ReplyHeaderLength), data);
        }

        private void Reply(ReadOnlySpan<byte> data)
        {
            if (data.Length > TcpRawProtocol.CopyThreshold)
            {
                throw new InvalidOperationException($"A {data.Length}-byte reply does not fit the reply scratch buffer.");
            }
            BinaryPrimitives.WriteInt32BigEndian(_reply, data.Length);
            data.CopyTo(_reply.AsSpan(TcpRawProtocol.ReplyHeaderLength));
            TcpRawProtocol.SendAll(_socket, _reply.AsSpan(0, TcpRawProtocol.ReplyHeaderLength + data.Length));
        }
    }
}
