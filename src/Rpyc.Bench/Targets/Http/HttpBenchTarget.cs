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
public sealed class HttpBenchTarget(string name, string host, int port)
    : BenchTarget(name, "http", host, port)
{
    /// <inheritdoc />
    public override BenchClient Connect() => new HttpBenchClient(Host, Port);
}

/// <summary>
/// A lean HTTP/1.1 keep-alive client over one socket, as <c>wrk</c> is: requests are written with
/// one gather send and responses parsed in place (Content-Length or chunked), so the load generator
/// costs little next to the server it measures. The connection is reopened if the server closes it.
/// </summary>
public sealed class HttpBenchClient : BenchClient
{
    private static readonly byte[] s_headerEnd = "\r\n\r\n"u8.ToArray();
    private readonly string _host;
    private readonly int _port;
    private readonly string _hostHeader;
    private readonly byte[] _pingRequest;
    private Socket? _socket;
    private byte[] _buffer = new byte[16 * 1024];
    private int _start;
    private int _end;
    private byte[] _body = new byte[16 * 1024];
    private long _roundTrips;

    /// <summary>Opens the TCP connection.</summary>
    /// <param name="host">Server host.</param>
    /// <param name="port">Server port.</param>
    /// <exception cref="SocketException">The connect failed.</exception>
    public HttpBenchClient(string host, int port)
    {
        _host = host;
        _port = port;
        _hostHeader = $"{host}:{port}";
        _pingRequest = Encoding.ASCII.GetBytes($"GET /ping HTTP/1.1\r\nHost: {_hostHeader}\r\n\r\n");
        _socket = Open();
    }

    /// <inheritdoc />
    public override long RoundTrips => _roundTrips;

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
        ReadOnlySpan<byte> body = Exchange(PostHeader("/echo", data.Length), data, out int status);
        if (status != 200 || !body.SequenceEqual(data))
        {
            Invalid($"POST /echo of {data.Length} bytes answered {status} with {body.Length} different bytes.");
        }
    }

    /// <inheritdoc />
    public override void Upload(byte[] data)
    {
        ReadOnlySpan<byte> body = Exchange(PostHeader("/upload", data.Length), data, out int status);
        if (status != 200 || !long.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n != data.Length)
        {
            Invalid($"POST /upload of {data.Length} bytes answered {status} '{Text(body)}'.");
        }
    }

    /// <inheritdoc />
    public override void Download(int length)
    {
        ReadOnlySpan<byte> body = Exchange(GetHeader($"/download?n={length}"), null, out int status);
        if (status != 200 || body.Length != length || !Payload.Matches(body))
        {
            Invalid($"GET /download?n={length} answered {status} with {body.Length} bytes, not payload({length}).");
        }
    }

    /// <inheritdoc />
    public override void Compute(int n)
    {
        ReadOnlySpan<byte> body = Exchange(GetHeader($"/compute?n={n}"), null, out int status);
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

    private byte[] GetHeader(string path) => Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {_hostHeader}\r\n\r\n");

    private byte[] PostHeader(string path, int length) => Encoding.ASCII.GetBytes(
        $"POST {path} HTTP/1.1\r\nHost: {_hostHeader}\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\n\r\n");

    // Sends one request and reads its response; the body is valid until the next request.
    private ReadOnlySpan<byte> Exchange(byte[] header, byte[]? body, out int status)
    {
        Socket socket = _socket ??= Open();
        try
        {
            if (body is null || body.Length == 0)
            {
                SendAll(socket, header);
            }
            else
            {
                socket.Send([new ArraySegment<byte>(header), new ArraySegment<byte>(body)]);
            }
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

    private static void SendAll(Socket socket, byte[] data)
    {
        int sent = 0;
        while (sent < data.Length)
        {
            sent += socket.Send(data, sent, data.Length - sent, SocketFlags.None);
        }
    }

    private ReadOnlySpan<byte> ReadResponse(Socket socket, out int status)
    {
        int headerEnd;
        while ((headerEnd = _buffer.AsSpan(_start, _end - _start).IndexOf(s_headerEnd)) < 0)
        {
            Fill(socket);
        }
        ReadOnlySpan<byte> head = _buffer.AsSpan(_start, headerEnd);
        _start += headerEnd + 4;
        int lineEnd = head.IndexOf("\r\n"u8);
        ReadOnlySpan<byte> statusLine = lineEnd < 0 ? head : head[..lineEnd];
        // "HTTP/1.1 200 OK"
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || !int.TryParse(statusLine.Slice(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out status))
        {
            throw new InvalidReplyException($"Malformed HTTP status line '{Text(statusLine)}'.");
        }
        bool keepAlive = statusLine[7] == (byte)'1';
        long contentLength = -1;
        bool chunked = false;
        ReadOnlySpan<byte> rest = lineEnd < 0 ? default : head[(lineEnd + 2)..];
        while (!rest.IsEmpty)
        {
            int next = rest.IndexOf("\r\n"u8);
            ReadOnlySpan<byte> line = next < 0 ? rest : rest[..next];
            rest = next < 0 ? default : rest[(next + 2)..];
            int colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                continue;
            }
            ReadOnlySpan<byte> name = line[..colon];
            ReadOnlySpan<byte> value = line[(colon + 1)..].Trim((byte)' ');
            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8))
            {
                contentLength = long.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8))
            {
                chunked = Ascii.EqualsIgnoreCase(value, "chunked"u8);
            }
            else if (Ascii.EqualsIgnoreCase(name, "Connection"u8))
            {
                keepAlive = Ascii.EqualsIgnoreCase(value, "keep-alive"u8) || (keepAlive && !Ascii.EqualsIgnoreCase(value, "close"u8));
            }
        }
        int length;
        if (chunked)
        {
            length = ReadChunked(socket);
        }
        else if (contentLength >= 0)
        {
            length = checked((int)contentLength);
            ReadExactly(socket, length);
        }
        else
        {
            length = ReadToEnd(socket);
            keepAlive = false;
        }
        if (!keepAlive)
        {
            CloseSocket();
        }
        return _body.AsSpan(0, length);
    }

    private void ReadExactly(Socket socket, int length, int offset = 0)
    {
        EnsureBody(offset + length);
        int buffered = Math.Min(length, _end - _start);
        _buffer.AsSpan(_start, buffered).CopyTo(_body.AsSpan(offset));
        _start += buffered;
        int got = buffered;
        while (got < length)
        {
            int n = socket.Receive(_body, offset + got, length - got, SocketFlags.None);
            if (n == 0)
            {
                throw new InvalidReplyException($"The server closed the connection {length - got} bytes before the end of the body.");
            }
            got += n;
        }
    }

    private int ReadChunked(Socket socket)
    {
        int total = 0;
        while (true)
        {
            int lineEnd;
            while ((lineEnd = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) < 0)
            {
                Fill(socket);
            }
            ReadOnlySpan<byte> sizeLine = _buffer.AsSpan(_start, lineEnd);
            int semicolon = sizeLine.IndexOf((byte)';');
            int size = int.Parse(semicolon < 0 ? sizeLine : sizeLine[..semicolon], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
            _start += lineEnd + 2;
            if (size == 0)
            {
                // Trailers end with an empty line.
                while ((lineEnd = _buffer.AsSpan(_start, _end - _start).IndexOf("\r\n"u8)) != 0)
                {
                    if (lineEnd > 0)
                    {
                        _start += lineEnd + 2;
                        continue;
                    }
                    Fill(socket);
                }
                _start += 2;
                return total;
            }
            ReadExactly(socket, size, total);
            total += size;
            while (_end - _start < 2)
            {
                Fill(socket);
            }
            _start += 2;
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
            Array.Resize(ref _body, Math.Max(length, _body.Length * 2));
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
        int n = socket.Receive(_buffer, _end, _buffer.Length - _end, SocketFlags.None);
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
