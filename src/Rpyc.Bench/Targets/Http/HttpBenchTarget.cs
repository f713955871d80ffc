using System.Buffers;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Rpyc.Bench;

/// <summary>
/// An HTTP server with the benchmark routes (Kestrel or Flask): <c>GET /ping</c>, <c>POST /echo</c>,
/// <c>POST /upload</c>, <c>GET /download?n=</c>, <c>GET /compute?n=</c>, <c>GET /sleep?s=</c>.
/// </summary>
/// <param name="name">The report key.</param>
/// <param name="host">Server host.</param>
/// <param name="port">Server port.</param>
/// <param name="receiveSpin">How long the client polls for a reply before it blocks (<see cref="SuiteOptions.ReceiveSpin"/>); zero blocks at once.</param>
public sealed class HttpBenchTarget(string name, string host, int port, TimeSpan receiveSpin = default)
    : BenchTarget(name, "http", host, port)
{
    /// <summary>What <see cref="HttpBenchTarget"/> reports as its client.</summary>
    public const string LeanClientDescription = "rpycbench lean HTTP/1.1 client (one blocking socket, keep-alive)";

    /// <inheritdoc />
    public override string ClientDescription => receiveSpin > TimeSpan.Zero
        ? $"{LeanClientDescription}, polls {receiveSpin.TotalMicroseconds:0} us for a reply"
        : LeanClientDescription;

    /// <inheritdoc />
    public override BenchClient Connect() => new HttpBenchClient(Host, Port, receiveSpin);
}

/// <summary>
/// A lean HTTP/1.1 keep-alive client over one socket, as <c>wrk</c> is, so the load generator costs
/// little next to the server it measures: a request is one send(2) (header and body copied together
/// up to 16 KiB) or one two-buffer sendmsg(2); responses are parsed in place by the pure
/// <see cref="HttpResponseParser"/> (Content-Length, chunked, or until close), and a Content-Length
/// body is received straight into a reused buffer. The connection is reopened if the server closes it.
/// </summary>
public sealed class HttpBenchClient : BenchClient, IHttpGetClient
{
    private const int CopyThreshold = 16 * 1024;
    private readonly string _host;
    private readonly int _port;
    private readonly string _hostHeader;
    private readonly byte[] _pingRequest;
    private Socket? _socket;
    // Buffers start small, so that opening a connection (which the connection benchmark times)
    // costs no large allocation, and grow once to the sizes in use.
    private byte[] _buffer = new byte[4096];
    private int _start;
    private int _end;
    private byte[] _body = new byte[1024];
    private byte[] _send = new byte[1024];
    private readonly ArraySegment<byte>[] _segments = new ArraySegment<byte>[2];
    private (bool Post, string Route, long Arg, byte[] Bytes) _lastHeader = (false, "", 0, []);
    private long _roundTrips;
    private long _connectionsOpened;
    private long _bytes;
    private ReplySpin _spin;

    /// <summary>Opens the TCP connection.</summary>
    /// <param name="host">Server host.</param>
    /// <param name="port">Server port.</param>
    /// <param name="receiveSpin">How long to poll for a response before blocking; zero blocks at once.</param>
    /// <exception cref="SocketException">The connect failed.</exception>
    public HttpBenchClient(string host, int port, TimeSpan receiveSpin = default)
    {
        _spin = new ReplySpin(receiveSpin);
        _host = host;
        _port = port;
        _hostHeader = RemoteEndpoint.HostPort(host, port);
        _pingRequest = Encoding.ASCII.GetBytes($"GET /ping HTTP/1.1\r\nHost: {_hostHeader}\r\n\r\n");
        _socket = Open();
    }

    /// <inheritdoc />
    public override long RoundTrips => _roundTrips;

    /// <inheritdoc />
    public override long? ConnectionsOpened => _connectionsOpened;

    /// <summary>Request and response bytes so far, headers included.</summary>
    public long Bytes => _bytes;

    /// <summary>GETs a path (with its query) and returns the body of a 200 reply (the decision scenarios' requests).</summary>
    /// <param name="pathAndQuery">e.g. <c>/list?n=100</c>.</param>
    /// <returns>A copy of the body.</returns>
    /// <exception cref="InvalidReplyException">Another status, or a malformed response.</exception>
    public byte[] Get(string pathAndQuery)
    {
        ReadOnlySpan<byte> body = Exchange(GetHeader(pathAndQuery), null, out int status);
        if (status != 200)
        {
            Invalid($"GET {pathAndQuery} returned status {status}.");
        }
        return body.ToArray();
    }

    private Socket Open()
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        // The kernel's timeouts, as the RPyC client uses (Transport.KernelTimeouts): Socket.ReceiveTimeout
        // would make .NET emulate blocking calls in its epoll engine and wake its threads on every reply,
        // a cost the compared targets must not pay unequally.
        Rpyc.Transport.KernelTimeouts.SetReceive(socket, 30_000);
        Rpyc.Transport.KernelTimeouts.SetSend(socket, 30_000);
        try
        {
            socket.Connect(_host, _port);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _connectionsOpened++;
        _start = _end = 0;
        return socket;
    }

    /// <inheritdoc />
    public override void Ping()
    {
        ReadOnlySpan<byte> body = Exchange(_pingRequest, null, out int status);
        if (status != 200 || !body.SequenceEqual("pong"u8))
        {
            Invalid($"GET /ping answered {status} with {body.Length} bytes, expected 200 'pong'.");
        }
    }

    /// <inheritdoc />
    public override void Echo(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        ReadOnlySpan<byte> body = Exchange(PostHeader("/echo", data.Length), data, out int status);
        if (status != 200 || !body.SequenceEqual(data))
        {
            Invalid($"POST /echo of {data.Length} bytes answered {status} with {body.Length} different bytes.");
        }
    }

    /// <inheritdoc />
    public override void Upload(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        ReadOnlySpan<byte> body = Exchange(PostHeader("/upload", data.Length), data, out int status);
        if (status != 200 || !long.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n != data.Length)
        {
            Invalid($"POST /upload of {data.Length} bytes answered {status} '{Text(body)}'.");
        }
    }

    /// <inheritdoc />
    public override void Download(int length)
    {
        ReadOnlySpan<byte> body = Exchange(GetHeader("/download?n=", length), null, out int status);
        if (status != 200 || body.Length != length || !Payload.Matches(body))
        {
            Invalid($"GET /download?n={length} answered {status} with {body.Length} bytes, not payload({length}).");
        }
    }

    /// <inheritdoc />
    public override void Compute(int n)
    {
        ReadOnlySpan<byte> body = Exchange(GetHeader("/compute?n=", n), null, out int status);
        if (status != 200 || Text(body) != ExpectedCompute(n).ToString(CultureInfo.InvariantCulture))
        {
            Invalid($"GET /compute?n={n} answered {status} '{Text(body)}'.");
        }
    }

    /// <inheritdoc />
    public override void Sleep(double seconds)
    {
        ReadOnlySpan<byte> body = Exchange(GetHeader(FormattableString.Invariant($"/sleep?s={seconds:R}")), null, out int status);
        if (status != 200 || !double.TryParse(body, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || Math.Abs(d - seconds) > 1e-9)
        {
            Invalid($"GET /sleep?s={seconds} answered {status} '{Text(body)}'.");
        }
    }

    private static string Text(ReadOnlySpan<byte> body) => Encoding.ASCII.GetString(body[..Math.Min(body.Length, 64)]);

    // The last request header is kept: a benchmark repeats one request, so it is formatted once and
    // a repeat costs no allocation. GET headers are route + arg (e.g. "/download?n=" and 1024).
    private byte[] GetHeader(string route, long arg) => Header(post: false, route, arg);

    private byte[] GetHeader(string pathAndQuery) => Header(post: false, pathAndQuery, long.MinValue);

    private byte[] PostHeader(string path, int length) => Header(post: true, path, length);

    private byte[] Header(bool post, string route, long arg)
    {
        if (_lastHeader.Post == post && _lastHeader.Arg == arg && string.Equals(_lastHeader.Route, route, StringComparison.Ordinal))
        {
            return _lastHeader.Bytes;
        }
        string target = post || arg == long.MinValue ? route : route + arg.ToString(CultureInfo.InvariantCulture);
        byte[] bytes = Encoding.ASCII.GetBytes(post
            ? string.Create(CultureInfo.InvariantCulture, $"POST {target} HTTP/1.1\r\nHost: {_hostHeader}\r\nContent-Type: application/octet-stream\r\nContent-Length: {arg}\r\n\r\n")
            : $"GET {target} HTTP/1.1\r\nHost: {_hostHeader}\r\n\r\n");
        _lastHeader = (post, route, arg, bytes);
        return bytes;
    }

    // Sends one request and reads its response; the body is valid until the next request.
    private ReadOnlySpan<byte> Exchange(byte[] header, byte[]? body, out int status)
    {
        Socket socket = _socket ??= Open();
        try
        {
            Send(socket, header, body);
            _roundTrips++;
            return ReadResponse(socket, out status);
        }
        catch
        {
            // A half-read response leaves the stream unusable: start over on the next request.
            CloseSocket();
            throw;
        }
    }

    // Header and body leave together, never as a small segment of their own (Nagle is off).
    private void Send(Socket socket, byte[] header, byte[]? body)
    {
        _bytes += header.Length + (body?.Length ?? 0);
        if (body is null || body.Length == 0)
        {
            SendAll(socket, header);
            return;
        }
        int bodyLength = body.Length;
        if (bodyLength <= CopyThreshold)
        {
            if (_send.Length < header.Length + bodyLength)
            {
                _send = new byte[Math.Max(header.Length + bodyLength, 2 * _send.Length)];
            }
            header.CopyTo(_send, 0);
            body.CopyTo(_send, header.Length);
            SendAll(socket, _send.AsSpan(0, header.Length + bodyLength));
            return;
        }
        _segments[0] = new ArraySegment<byte>(header);
        _segments[1] = new ArraySegment<byte>(body);
        int sent = socket.Send(_segments, SocketFlags.None);
        _segments[0] = _segments[1] = default;
        if (sent < header.Length)
        {
            SendAll(socket, header.AsSpan(sent));
            sent = header.Length;
        }
        SendAll(socket, body.AsSpan(sent - header.Length));
    }

    private static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            data = data[socket.Send(data, SocketFlags.None)..];
        }
    }

    private ReadOnlySpan<byte> ReadResponse(Socket socket, out int status)
    {
        HttpResponseHead head;
        while (true)
        {
            var buffered = new ReadOnlySequence<byte>(_buffer, _start, _end - _start);
            if (!HttpResponseParser.TryParseHead(ref buffered, out head))
            {
                Fill(socket);
                continue;
            }
            _start = _end - (int)buffered.Length;
            // An interim response (100 Continue and the like) precedes the real one.
            if (head.StatusCode is >= 100 and < 200 && head.StatusCode != 101)
            {
                continue;
            }
            break;
        }
        status = head.StatusCode;
        int length = head.Framing switch
        {
            HttpBodyFraming.ContentLength => ReadExactly(socket, head.ContentLength),
            HttpBodyFraming.Chunked => ReadChunked(socket),
            _ => ReadToEnd(socket),
        };
        if (!head.KeepAlive)
        {
            CloseSocket();
        }
        return _body.AsSpan(0, length);
    }

    // The buffered part of the body is copied; the rest is received straight into _body.
    private int ReadExactly(Socket socket, long contentLength)
    {
        if (contentLength > Array.MaxLength)
        {
            throw new InvalidReplyException($"The response announced a {contentLength}-byte body, more than one buffer holds.");
        }
        int length = (int)contentLength;
        EnsureBody(length);
        int buffered = Math.Min(length, _end - _start);
        _buffer.AsSpan(_start, buffered).CopyTo(_body);
        _start += buffered;
        int got = buffered;
        while (got < length)
        {
            int n = socket.Receive(_body, got, length - got, SocketFlags.None);
            _bytes += n;
            if (n == 0)
            {
                throw new InvalidReplyException($"The server closed the connection {length - got} bytes before the end of a {length}-byte body.");
            }
            got += n;
        }
        return length;
    }

    private int ReadChunked(Socket socket)
    {
        var decoder = new ChunkedBodyDecoder();
        int total = 0;
        while (true)
        {
            var buffered = new ReadOnlySequence<byte>(_buffer, _start, _end - _start);
            while (decoder.TryRead(ref buffered, out ReadOnlySequence<byte> data))
            {
                if (total + data.Length > Array.MaxLength)
                {
                    throw new InvalidReplyException("The chunked body is larger than one buffer holds.");
                }
                EnsureBody(total + (int)data.Length);
                data.CopyTo(_body.AsSpan(total));
                total += (int)data.Length;
            }
            _start = _end - (int)buffered.Length;
            if (decoder.IsComplete)
            {
                return total;
            }
            Fill(socket);
        }
    }

    private int ReadToEnd(Socket socket)
    {
        int total = 0;
        while (true)
        {
            int buffered = _end - _start;
            EnsureBody(total + buffered);
            _buffer.AsSpan(_start, buffered).CopyTo(_body.AsSpan(total));
            total += buffered;
            _start = _end = 0;
            int n = socket.Receive(_buffer);
            _bytes += n;
            if (n == 0)
            {
                return total;
            }
            _end = n;
        }
    }

    private void EnsureBody(int length)
    {
        if (_body.Length < length)
        {
            // Keeps what is there: chunked and until-close bodies grow as they arrive.
            Array.Resize(ref _body, Math.Max(length, (int)Math.Min(Array.MaxLength, 2L * _body.Length)));
        }
    }

    // Reads more bytes after the unconsumed ones, compacting or growing the buffer first.
    private void Fill(Socket socket)
    {
        if (_start > 0)
        {
            _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }
        // Headers are awaited with the suite's reply spin; a body's rest streams in behind them.
        _spin.BeforeReceive(socket);
        int n = socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
        _bytes += n;
        if (n == 0)
        {
            throw new InvalidReplyException("The server closed the connection before a complete response.");
        }
        _end += n;
    }

    private void CloseSocket()
    {
        _socket?.Dispose();
        _socket = null;
        _start = _end = 0;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            CloseSocket();
        }
    }
}
