using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Rpyc.Bench;

// The raw TCP floor of binary transfers: bodies are hashed from the receive buffer as they arrive
// and downloads are generated into it, so a gigabyte costs no more memory than a kilobyte.
public sealed partial class TcpRawServer
{
    private sealed partial class Connection
    {
        private IncrementalHash? _binaryHash;
        private long _binaryBytes;

        private void ServeBinary(byte op, int length)
        {
            ArraySegment<byte> body = ReadBody(length);
            switch (op)
            {
                case TcpRawProtocol.BinaryAppend:
                    long count = body.Count == 8 ? BinaryPrimitives.ReadInt64BigEndian(body) : throw new InvalidDataException($"binary append takes an 8-byte count, not {body.Count} bytes.");
                    ArgumentOutOfRangeException.ThrowIfNegative(count);
                    _binaryHash ??= IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                    HashIncoming(count);
                    _binaryBytes += count;
                    BinaryPrimitives.WriteInt64BigEndian(_count, _binaryBytes);
                    Reply(_count.AsSpan());
                    break;
                case TcpRawProtocol.BinaryFinish:
                    Span<byte> reply = stackalloc byte[40];
                    if (_binaryHash is null)
                    {
                        SHA256.HashData([], reply);
                    }
                    else
                    {
                        _binaryHash.GetHashAndReset(reply);
                    }
                    BinaryPrimitives.WriteInt64BigEndian(reply[32..], _binaryBytes);
                    _binaryBytes = 0;
                    Reply(reply);
                    break;
                case TcpRawProtocol.BinaryDownload:
                    if (body.Count != 16)
                    {
                        throw new InvalidDataException($"binary download takes a 16-byte offset and count, not {body.Count} bytes.");
                    }
                    long offset = BinaryPrimitives.ReadInt64BigEndian(body);
                    long n = BinaryPrimitives.ReadInt64BigEndian(body.AsSpan(8));
                    ArgumentOutOfRangeException.ThrowIfNegative(offset);
                    ArgumentOutOfRangeException.ThrowIfNegative(n);
                    // _in is free here: every buffered byte of this request has been consumed, and a
                    // client does not pipeline past a download.
                    byte[] block = _start == _end ? _in : new byte[_in.Length];
                    for (long done = 0; done < n;)
                    {
                        int k = (int)Math.Min(block.Length, n - done);
                        BinaryContent.Fill(offset + done, block.AsSpan(0, k));
                        TcpRawProtocol.SendAll(_socket, block.AsSpan(0, k));
                        done += k;
                    }
                    if (block == _in)
                    {
                        _start = _end = 0;
                    }
                    break;
            }
        }

        // count raw bytes after the request: those already buffered, then straight from the socket,
        // never past the body (a next request's bytes stay for Buffer).
        private void HashIncoming(long count)
        {
            int buffered = (int)Math.Min(count, _end - _start);
            _binaryHash!.AppendData(_in.AsSpan(_start, buffered));
            _start += buffered;
            long remaining = count - buffered;
            if (remaining == 0)
            {
                return;
            }
            // Everything buffered was this body's: the buffer is free.
            _start = _end = 0;
            while (remaining > 0)
            {
                int n = _socket.Receive(_in.AsSpan(0, (int)Math.Min(_in.Length, remaining)), SocketFlags.None);
                if (n == 0)
                {
                    throw new EndOfStreamException($"The client closed the connection {remaining} bytes before the end of a binary upload.");
                }
                _binaryHash.AppendData(_in.AsSpan(0, n));
                remaining -= n;
            }
        }
    }
}
