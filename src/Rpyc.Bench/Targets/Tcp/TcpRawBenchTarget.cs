using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Numerics;

namespace Rpyc.Bench;

/// <summary>The raw TCP request/response server: the wire's floor, no serialization, no HTTP.</summary>
/// <param name="name">The report key.</param>
/// <param name="host">Server host.</param>
/// <param name="port">Server port.</param>
public sealed class TcpRawBenchTarget(string name, string host, int port)
    : BenchTarget(name, "tcp", host, port)
{
    /// <inheritdoc />
    public override BenchClient Connect() => new TcpRawBenchClient(Host, Port);
}

/// <summary>
/// Client of the raw TCP target. Request: op byte, big-endian u32 length, body; reply: big-endian
/// u32 length, body.
/// </summary>
public sealed class TcpRawBenchClient : BenchClient
{
    private readonly Socket _socket;
    private readonly byte[] _header = new byte[5];
    private byte[] _reply = new byte[64 * 1024];
    private long _roundTrips;

    /// <summary>Opens the TCP connection.</summary>
    /// <param name="host">Server host.</param>
    /// <param name="port">Server port.</param>
    /// <exception cref="SocketException">The connect failed.</exception>
    public TcpRawBenchClient(string host, int port)
    {
        _socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        // The kernel's timeouts, as the RPyC client uses (Transport.KernelTimeouts): Socket.ReceiveTimeout
        // would make .NET emulate blocking calls in its epoll engine and wake its threads on every reply,
        // a cost the compared targets must not pay unequally.
        Rpyc.Transport.KernelTimeouts.SetReceive(_socket, 30_000);
        Rpyc.Transport.KernelTimeouts.SetSend(_socket, 30_000);
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
        if (!Exchange(TcpRawProtocol.Echo, data).SequenceEqual(data))
        {
            Invalid($"echo of {data.Length} bytes answered different bytes.");
        }
    }

    /// <inheritdoc />
    public override void Upload(byte[] data)
    {
        ReadOnlySpan<byte> reply = Exchange(TcpRawProtocol.Upload, data);
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

    private ReadOnlySpan<byte> Exchange(byte op, ReadOnlySpan<byte> body)
    {
        _header[0] = op;
        BinaryPrimitives.WriteInt32BigEndian(_header.AsSpan(1), body.Length);
        if (body.Length <= 1024)
        {
            Span<byte> small = stackalloc byte[5 + body.Length];
            _header.CopyTo(small);
            body.CopyTo(small[5..]);
            TcpRawProtocol.SendAll(_socket, small);
        }
        else
        {
            TcpRawProtocol.SendAll(_socket, _header);
            TcpRawProtocol.SendAll(_socket, body);
        }
        _roundTrips++;
        TcpRawProtocol.ReceiveExactly(_socket, _header.AsSpan(0, 4));
        int length = TcpRawProtocol.ReadLength(_header);
        if (length < 0 || length > TcpRawProtocol.MaxBody)
        {
            throw new InvalidReplyException($"The raw TCP reply announced {length} bytes.");
        }
        if (_reply.Length < length)
        {
            _reply = new byte[Math.Max(length, _reply.Length * 2)];
        }
        TcpRawProtocol.ReceiveExactly(_socket, _reply.AsSpan(0, length));
        return _reply.AsSpan(0, length);
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
