using System.Buffers.Binary;
using System.Net.Sockets;
using Rpyc.Channel;

namespace Rpyc.Servers;

// Whether a client that waits for a ForkingServer worker can still be served. A worker process is
// dear (a runtime start, ~0.1 s of CPU), and clients are given workers in turn, so one spent on a
// peer that is gone costs the live clients behind it their wait too. Gone means: reset (TCP_CLOSE),
// or hung up (CLOSE_WAIT: its FIN has arrived, after all its data) without a whole first frame, which
// can then never come. A half-closed peer whose first frame is whole may still read the reply, so it
// is served. Over TLS the first bytes are a ClientHello, and a handshake needs the client to send
// again: hung up before a worker took it, it can never complete.
internal static class GonePeer
{
    private const int IpProtoTcp = 6;
    private const int TcpInfo = 11;
    // struct tcp_info's first byte, tcpi_state (include/net/tcp_states.h).
    private const byte TcpClose = 7;
    private const byte TcpCloseWait = 8;

    public static bool IsGone(Socket client, bool tls)
    {
        try
        {
            Span<byte> info = stackalloc byte[8];
            if (client.GetRawSocketOption(IpProtoTcp, TcpInfo, info) < 1)
            {
                return false;
            }
            return info[0] switch
            {
                TcpClose => true,
                TcpCloseWait => tls || !HoldsWholeFrame(client),
                _ => false,
            };
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Not known to be gone: the worker finds out.
            return false;
        }
    }

    // uint32 body length | uint8 compressed | body | one trailing byte (channel.py FRAME_HEADER).
    private static bool HoldsWholeFrame(Socket client)
    {
        int buffered = client.Available;
        if (buffered < FrameWriter.HeaderLength)
        {
            return false;
        }
        Span<byte> header = stackalloc byte[FrameWriter.HeaderLength];
        // Peeked, so the worker still reads every byte; the data is there, so this does not block.
        if (client.Receive(header, SocketFlags.Peek) < FrameWriter.HeaderLength)
        {
            return false;
        }
        return buffered >= FrameWriter.HeaderLength + (long)BinaryPrimitives.ReadUInt32BigEndian(header) + 1;
    }
}
