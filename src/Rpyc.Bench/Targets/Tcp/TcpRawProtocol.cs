using System.Buffers.Binary;
using System.Net.Sockets;

namespace Rpyc.Bench;

// The tcp_raw target's framing, the floor every protocol is compared with:
// request = op:u8, length:u32 BE, body; reply = length:u32 BE, body.
internal static class TcpRawProtocol
{
    public const byte Ping = 1;
    public const byte Echo = 2;
    public const byte Upload = 3;
    public const byte Download = 4;
    public const byte Compute = 5;
    public const byte Sleep = 6;
    public const int MaxBody = 256 * 1024 * 1024;

    public static void ReceiveExactly(Socket socket, Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int n = socket.Receive(buffer);
            if (n == 0)
            {
                throw new EndOfStreamException("The peer closed the connection.");
            }
            buffer = buffer[n..];
        }
    }

    public static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            data = data[socket.Send(data)..];
        }
    }

    public static int ReadLength(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadInt32BigEndian(header);
}
