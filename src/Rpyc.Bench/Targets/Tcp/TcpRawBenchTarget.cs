using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Numerics;

namespace Rpyc.Bench;

/// <summary>The raw TCP request/response server: the wire's floor, no serialization, no HTTP.</summary>
/// <param name="name">The report key.</param>
/// <param name="host">Server host.</param>
/// <param name="port">Server port.</param>
/// <param name="receiveSpin">How long the client polls for a reply before it blocks (<see cref="SuiteOptions.ReceiveSpin"/>); zero blocks at once.</param>
public sealed class TcpRawBenchTarget(string name, string host, int port, TimeSpan receiveSpin = default)
    : BenchTarget(name, "tcp", host, port)
{
    /// <inheritdoc />
    public override string ClientDescription => receiveSpin > TimeSpan.Zero
        ? $"raw TCP client (blocking socket, one send per message, polls {receiveSpin.TotalMicroseconds:0} us for a reply)"
        : "raw TCP client (blocking socket, one send per message)";

    /// <inheritdoc />
    public override BenchClient Connect() => new TcpRawBenchClient(Host, Port, receiveSpin);
}

/// <summary>
/// Client of the raw TCP target (wire format: <c>TcpRawProtocol</c>). A request goes out in one
/// send(2) (header and body copied together up to 16 KiB) or one two-buffer sendmsg(2); a reply is
/// read with as few recv(2) calls as its size allows into one reused buffer, sized once per payload
/// size. Nothing is allocated per request once the sizes have been seen.
/// </summary>
public sealed class TcpRawBenchClient : BenchClient
{
    private readonly Socket _socket;
    private readonly byte[] _header = new byte[TcpRawProtocol.RequestHeaderLength];
    private readonly ArraySegment<byte>[] _segments = new ArraySegment<byte>[2];
    // Both start small, so that opening a connection (which the connection benchmark times) costs
    // no large allocation, and grow once to the sizes in use.
    private byte[] _small = new byte[64];
    private byte[] _reply = new byte[1024];
    private long _roundTrips;
    private ReplySpin _spin;

    /// <summary>Opens the TCP connection.</summary>
    /// <param name="host">Server host.</param>
    /// <param name="port">Server port.</param>
    /// <param name="receiveSpin">How long to poll for a reply before blocking; zero blocks at once.</param>
    /// <exception cref="SocketException">The connect failed.</exception>
    public TcpRawBenchClient(string host, int port, TimeSpan receiveSpin = default)
    {
        _spin = new ReplySpin(receiveSpin);
        _socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        // The kernel's timeouts, as the RPyC client uses (Transport.KernelTimeouts): Socket.ReceiveTimeout
        // would make .NET emulate blocking calls in its epoll engine and wake its threads on every reply,
        // a cost the compared targets must not pay unequally.
        Rpyc.Transport.KernelTimeouts.SetReceive(_socket, 30_000);
        Rpyc.Transport.KernelTimeouts.SetSend(_socket, 30_000);
        TcpRawProtocol.SetBuffers(_socket);
        try
        {
            _socket.Connect(host, port);
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public override long RoundTrips => _roundTrips;

    /// <inheritdoc />
    /// <remarks>One: a closed connection is an error, never reopened.</remarks>
    public override long? ConnectionsOpened => 1;

    /// <inheritdoc />
    public override void Ping()
    {
        if (!Exchange(TcpRawProtocol.Ping, []).SequenceEqual("pong"u8))
        {
            Invalid("ping did not answer 'pong'.");
        }
    }

    /// <inheritdoc />
    public override void Echo(byte[] data)
    {
        if (!Exchange(TcpRawProtocol.Echo, data, data).SequenceEqual(data))
        {
            Invalid($"echo of {data.Length} bytes answered different bytes.");
        }
    }

    /// <inheritdoc />
    public override void Upload(byte[] data)
    {
        ReadOnlySpan<byte> reply = Exchange(TcpRawProtocol.Upload, data, data);
        if (reply.Length != 8 || BinaryPrimitives.ReadInt64BigEndian(reply) != data.Length)
        {
            Invalid($"upload of {data.Length} bytes answered a wrong length.");
        }
    }

    /// <inheritdoc />
    public override void Download(int length)
    {
        Span<byte> arg = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(arg, length);
        ReadOnlySpan<byte> reply = Exchange(TcpRawProtocol.Download, arg);
        if (reply.Length != length || !Payload.Matches(reply))
        {
            Invalid($"download({length}) answered {reply.Length} bytes, not payload({length}).");
        }
    }

    /// <inheritdoc />
    public override void Compute(int n)
    {
        Span<byte> arg = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(arg, n);
        ReadOnlySpan<byte> reply = Exchange(TcpRawProtocol.Compute, arg);
        if (BigInteger.Parse(System.Text.Encoding.ASCII.GetString(reply), CultureInfo.InvariantCulture) != ExpectedCompute(n))
        {
            Invalid($"compute({n}) answered a wrong sum.");
        }
    }

    /// <inheritdoc />
    public override void Sleep(double seconds)
    {
        Span<byte> arg = stackalloc byte[8];
        BinaryPrimitives.WriteDoubleBigEndian(arg, seconds);
        if (!Exchange(TcpRawProtocol.Sleep, arg).SequenceEqual(arg))
        {
            Invalid($"sleep({seconds}) answered a wrong value.");
        }
    }

    // Sends op:u8 length:u32 BE body and reads length:u32 BE body (TcpRawProtocol). The reply is
    // valid until the next request.
    private ReadOnlySpan<byte> Exchange(byte op, ReadOnlySpan<byte> body, byte[]? bodyArray = null)
    {
        if (body.Length <= TcpRawProtocol.CopyThreshold)
        {
            if (_small.Length < TcpRawProtocol.RequestHeaderLength + body.Length)
            {
                _small = new byte[Math.Max(TcpRawProtocol.RequestHeaderLength + body.Length, Math.Min(2 * _small.Length, TcpRawProtocol.RequestHeaderLength + TcpRawProtocol.CopyThreshold))];
            }
            _small[0] = op;
            BinaryPrimitives.WriteInt32BigEndian(_small.AsSpan(1), body.Length);
            body.CopyTo(_small.AsSpan(TcpRawProtocol.RequestHeaderLength));
            TcpRawProtocol.SendAll(_socket, _small.AsSpan(0, TcpRawProtocol.RequestHeaderLength + body.Length));
        }
        else
        {
            _header[0] = op;
            BinaryPrimitives.WriteInt32BigEndian(_header.AsSpan(1), body.Length);
            TcpRawProtocol.SendAll(_socket, _segments, _header, new ArraySegment<byte>(bodyArray!, 0, body.Length));
        }
        _roundTrips++;
        return ReceiveReply();
    }

    // One recv(2) into the whole buffer usually brings the header with the body (or all of a small
    // reply); the rest of a large body is read straight into place.
    private ReadOnlySpan<byte> ReceiveReply()
    {
        int got = 0;
        // The reply's start is awaited with the suite's reply spin; a large body streams in behind it.
        _spin.BeforeReceive(_socket);
        while (got < TcpRawProtocol.ReplyHeaderLength)
        {
            int n = _socket.Receive(_reply.AsSpan(got), SocketFlags.None);
            if (n == 0)
            {
                throw new InvalidReplyException($"The raw TCP server closed the connection after {got} bytes of a reply header.");
            }
            got += n;
        }
        int length = TcpRawProtocol.ReadLength(_reply);
        if (length < 0 || length > TcpRawProtocol.MaxBody)
        {
            throw new InvalidReplyException($"The raw TCP reply announced {length} bytes (at most {TcpRawProtocol.MaxBody}).");
        }
        int total = TcpRawProtocol.ReplyHeaderLength + length;
        if (got > total)
        {
            throw new InvalidReplyException($"The raw TCP server sent {got - total} bytes after a {length}-byte reply, with no request outstanding.");
        }
        if (_reply.Length < total)
        {
            // Once per larger payload size: the buffer then serves every later reply of that size.
            byte[] grown = new byte[Math.Max(total, (int)Math.Min(Array.MaxLength, 2L * _reply.Length))];
            _reply.AsSpan(0, got).CopyTo(grown);
            _reply = grown;
        }
        try
        {
            TcpRawProtocol.ReceiveExactly(_socket, _reply.AsSpan(got, total - got));
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidReplyException($"The raw TCP reply was cut short: {ex.Message}", ex);
        }
        return _reply.AsSpan(TcpRawProtocol.ReplyHeaderLength, length);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _socket.Dispose();
        }
    }
}
