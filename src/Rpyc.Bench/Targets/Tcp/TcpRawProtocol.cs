using System.Buffers.Binary;
using System.Net.Sockets;

namespace Rpyc.Bench;

// The tcp_raw target's wire format, the only one (the Figures engine's little-endian variant is not
// this target's), and the floor every protocol is compared with:
//   request = op:u8, length:u32 big-endian, body[length]
//   reply   = length:u32 big-endian, body[length]
// One request at a time per connection. Bodies: ping → "pong"; echo(data) → data;
// upload(data) → i64 BE length; download(n: i32 BE) → payload(n); compute(n: i32 BE) → ASCII decimal
// sum; sleep(seconds: f64 BE) → the same 8 bytes.
//
// The socket code is the plainest fast path .NET has: OS-blocking descriptors (timeouts are the
// kernel's, see Rpyc.Transport.KernelTimeouts), Nagle off, a whole message in one send(2) or
// sendmsg(2), receives into large reused buffers, and 4 MiB socket buffers (SetBuffers).
internal static class TcpRawProtocol
{
    public const byte Ping = 1;
    public const byte Echo = 2;
    public const byte Upload = 3;
    public const byte Download = 4;
    public const byte Compute = 5;
    public const byte Sleep = 6;

    // Binary transfers (TcpRawServer.Binary.cs): append(count: i64 BE) then count raw bytes → i64 BE
    // total so far; finish → SHA-256[32] + i64 BE total; download(offset: i64 BE, count: i64 BE) →
    // count raw bytes of BinaryContent, no header.
    public const byte BinaryAppend = 7;
    public const byte BinaryFinish = 8;
    public const byte BinaryDownload = 9;
    public const int RequestHeaderLength = 5;
    public const int ReplyHeaderLength = 4;
    public const int MaxBody = 256 * 1024 * 1024;

    // Messages up to this size are copied behind their header and sent with one send(2); larger
    // ones go out as a two-buffer sendmsg(2), since copying them would cost more than the gather.
    public const int CopyThreshold = 16 * 1024;

    public static void ReceiveExactly(Socket socket, Span<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int n = socket.Receive(buffer, SocketFlags.None);
            if (n == 0)
            {
                throw new EndOfStreamException($"The peer closed the connection with {buffer.Length} bytes of the message still to come.");
            }
            buffer = buffer[n..];
        }
    }

    public static void SendAll(Socket socket, ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            data = data[socket.Send(data, SocketFlags.None)..];
        }
    }

    // header then body in one sendmsg(2) when the kernel takes it all, as it does on loopback;
    // a partial send finishes with plain sends. segments is the caller's reused two-element array.
    public static void SendAll(Socket socket, ArraySegment<byte>[] segments, ArraySegment<byte> header, ArraySegment<byte> body)
    {
        segments[0] = header;
        segments[1] = body;
        int sent = socket.Send(segments, SocketFlags.None);
        segments[0] = segments[1] = default;
        if (sent < header.Count)
        {
            SendAll(socket, header.AsSpan(sent));
            sent = header.Count;
        }
        SendAll(socket, body.AsSpan(sent - header.Count));
    }

    // The SO_SNDBUF and SO_RCVBUF asked for: a 1 MiB message then fits in the socket buffers, so
    // its sender's one send(2) completes without waiting for the receiver to drain them, which on a
    // 2-vCPU VM halves or better the time of a 1 MiB transfer (measured: 100 KiB unchanged, 64 MiB
    // bound by memory copies either way). Linux's autotuning starts from 16 KiB (tcp_wmem) and grows
    // only as a connection streams. Fixed sizes turn autotuning off and are capped by
    // net.core.[rw]mem_max, so they are set only where that cap allows at least 1 MiB; elsewhere
    // autotuning is the better choice.
    private const int SocketBufferBytes = 4 * 1024 * 1024;

    private static readonly (int Send, int Receive) s_buffers = (Limit("wmem_max"), Limit("rmem_max"));

    // Before connect(2) or listen(2): the receive buffer sets the window scale of the handshake,
    // and accepted sockets inherit the listener's buffers.
    public static void SetBuffers(Socket socket)
    {
        if (s_buffers.Send > 0)
        {
            socket.SendBufferSize = s_buffers.Send;
        }
        if (s_buffers.Receive > 0)
        {
            socket.ReceiveBufferSize = s_buffers.Receive;
        }
    }

    // The size to ask for under /proc/sys/net/core/<name>, or 0 to leave autotuning on.
    private static int Limit(string name)
    {
        if (!OperatingSystem.IsLinux())
        {
            return SocketBufferBytes;
        }
        try
        {
            string text = File.ReadAllText($"/proc/sys/net/core/{name}").Trim();
            return int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int max) && max >= 1024 * 1024
                ? Math.Min(max, SocketBufferBytes)
                : 0;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    public static int ReadLength(ReadOnlySpan<byte> header) => BinaryPrimitives.ReadInt32BigEndian(header);
}
