using System.Net.Sockets;

namespace Rpyc.Transport;

internal sealed class SocketTransport : Transport
{
    private readonly Socket _socket;
    private readonly string _peer;

    public SocketTransport(Socket socket, bool noDelay)
    {
        _socket = socket;
        _socket.NoDelay = noDelay;
        _peer = socket.RemoteEndPoint?.ToString() ?? "?";
    }

    public override string PeerName => _peer;

    public override int Receive(Span<byte> buffer) => _socket.Receive(buffer, SocketFlags.None);

    public override bool WaitReadable(TimeSpan timeout)
    {
        // poll(2) alone: checking Available first would cost one more syscall per reply.
        long micros = timeout == Timeout.InfiniteTimeSpan ? -1 : (long)Math.Min(timeout.TotalMicroseconds, int.MaxValue);
        return _socket.Poll(micros < 0 ? -1 : (int)micros, SelectMode.SelectRead);
    }

    public override void Send(ReadOnlySpan<byte> data)
    {
        while (!data.IsEmpty)
        {
            int sent = _socket.Send(data, SocketFlags.None);
            data = data[sent..];
        }
    }

    public override void Dispose()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the peer: nothing left to flush.
        }
        catch (ObjectDisposedException)
        {
        }
        _socket.Dispose();
    }
}
