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

    // Blocking recv(2), preceded by poll(2) only when the wait has a limit. Not ReceiveTimeout: on
    // Unix .NET emulates socket timeouts by switching the descriptor to non-blocking and waiting in
    // its epoll engine, which wakes the engine's threads on every reply (as BeginConnect would).
    public override int Receive(Span<byte> buffer, TimeSpan timeout)
    {
        if (timeout != Timeout.InfiniteTimeSpan)
        {
            int micros = (int)Math.Clamp(timeout.TotalMicroseconds, 0, int.MaxValue);
            if (!_socket.Poll(micros, SelectMode.SelectRead))
            {
                return -1;
            }
        }
        return _socket.Receive(buffer, SocketFlags.None);
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
