using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Rpyc.Bench;

// The floor of binary transfers: tcp_raw's binary ops (TcpRawServer.Binary.cs). A whole file is
// one append of its size followed by the raw bytes, streamed from a 1 MiB buffer; a whole download
// is one request answered by the raw bytes. No side holds the file.
internal sealed class TcpBinaryClient : BinaryClient
{
    private const int Block = 1 << 20;
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[Block];
    private readonly byte[] _header = new byte[TcpRawProtocol.RequestHeaderLength + 16];

    public TcpBinaryClient(string host, int port)
    {
        IPAddress address = IPAddress.TryParse(host, out IPAddress? parsed) ? parsed : Dns.GetHostAddresses(host)[0];
        _socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        TcpRawProtocol.SetBuffers(_socket);
        // A stalled server fails the transfer instead of hanging it: no single send or receive may wait longer.
        _socket.ReceiveTimeout = _socket.SendTimeout = 30_000;
        _socket.Connect(new IPEndPoint(address, port));
    }

    public override bool WholeUploadNeedsBuffer => false;

    public override string? RefuseWhole(long size, bool upload) => null;

    public override (string Sha256, long Bytes) UploadWhole(long size, byte[]? data, CancellationToken cancellationToken)
    {
        Append(0, size, cancellationToken);
        return Finish();
    }

    public override long DownloadWhole(long size, IncrementalHash hash, CancellationToken cancellationToken) =>
        Download(0, size, hash, cancellationToken);

    public override (string Sha256, long Bytes) UploadChunked(long size, int chunkSize, CancellationToken cancellationToken)
    {
        for (long offset = 0; offset < size; offset += chunkSize)
        {
            Append(offset, Math.Min(chunkSize, size - offset), cancellationToken);
        }
        return Finish();
    }

    public override long DownloadChunked(long size, int chunkSize, IncrementalHash hash, CancellationToken cancellationToken)
    {
        long received = 0;
        for (long offset = 0; offset < size; offset += chunkSize)
        {
            received += Download(offset, Math.Min(chunkSize, size - offset), hash, cancellationToken);
        }
        return received;
    }

    public override void Dispose() => _socket.Dispose();

    // append: op, length 8, count; then count raw bytes → i64 total.
    private void Append(long offset, long count, CancellationToken cancellationToken)
    {
        _header[0] = TcpRawProtocol.BinaryAppend;
        BinaryPrimitives.WriteInt32BigEndian(_header.AsSpan(1), 8);
        BinaryPrimitives.WriteInt64BigEndian(_header.AsSpan(TcpRawProtocol.RequestHeaderLength), count);
        TcpRawProtocol.SendAll(_socket, _header.AsSpan(0, TcpRawProtocol.RequestHeaderLength + 8));
        for (long done = 0; done < count;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)Math.Min(Block, count - done);
            BinaryContent.Fill(offset + done, _buffer.AsSpan(0, n));
            TcpRawProtocol.SendAll(_socket, _buffer.AsSpan(0, n));
            done += n;
        }
        ReadReply(8);
    }

    // finish: op, length 0 → SHA-256[32], i64 total.
    private (string, long) Finish()
    {
        _header[0] = TcpRawProtocol.BinaryFinish;
        BinaryPrimitives.WriteInt32BigEndian(_header.AsSpan(1), 0);
        TcpRawProtocol.SendAll(_socket, _header.AsSpan(0, TcpRawProtocol.RequestHeaderLength));
        ReadOnlySpan<byte> reply = ReadReply(40);
        return (Convert.ToHexStringLower(reply[..32]), BinaryPrimitives.ReadInt64BigEndian(reply[32..]));
    }

    // download: op, length 16, offset, count → count raw bytes.
    private long Download(long offset, long count, IncrementalHash hash, CancellationToken cancellationToken)
    {
        _header[0] = TcpRawProtocol.BinaryDownload;
        BinaryPrimitives.WriteInt32BigEndian(_header.AsSpan(1), 16);
        BinaryPrimitives.WriteInt64BigEndian(_header.AsSpan(TcpRawProtocol.RequestHeaderLength), offset);
        BinaryPrimitives.WriteInt64BigEndian(_header.AsSpan(TcpRawProtocol.RequestHeaderLength + 8), count);
        TcpRawProtocol.SendAll(_socket, _header.AsSpan(0, TcpRawProtocol.RequestHeaderLength + 16));
        for (long done = 0; done < count;)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = _socket.Receive(_buffer.AsSpan(0, (int)Math.Min(Block, count - done)), SocketFlags.None);
            if (n == 0)
            {
                throw new EndOfStreamException($"The server closed the connection {count - done} bytes before the end of a download.");
            }
            hash.AppendData(_buffer.AsSpan(0, n));
            done += n;
        }
        return count;
    }

    private ReadOnlySpan<byte> ReadReply(int expected)
    {
        TcpRawProtocol.ReceiveExactly(_socket, _buffer.AsSpan(0, TcpRawProtocol.ReplyHeaderLength));
        int length = TcpRawProtocol.ReadLength(_buffer);
        if (length != expected)
        {
            throw new InvalidReplyException($"A binary reply of {expected} bytes was expected, not {length}.");
        }
        TcpRawProtocol.ReceiveExactly(_socket, _buffer.AsSpan(0, length));
        return _buffer.AsSpan(0, length);
    }
}
