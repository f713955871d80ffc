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

    // The SO_RCVTIMEO in force, in ms (0 = none); changed only when a wait needs a shorter one.
    private int _receiveTimeoutMs;

    // One blocking recv(2) per read, as a raw TCP client does: no poll(2) first. The socket stays in
    // blocking mode (never touched by async APIs), so the runtime's socket engine threads are not
    // woken on every reply either.
    public override int Receive(Span<byte> buffer, TimeSpan timeout)
    {
        SetReceiveTimeout(timeout);
        try
        {
            return _socket.Receive(buffer, SocketFlags.None);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            return -1;
        }
    }

    private void SetReceiveTimeout(TimeSpan timeout)
    {
        int wanted = timeout == Timeout.InfiniteTimeSpan ? 0 : (int)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 1, int.MaxValue);
        // Keep the current timeout while it is at most 10% (and 50 ms) longer than wanted: a
        // reply that waits 30 s for a 29.9 s remainder is fine, a setsockopt(2) per call is not.
        bool keep = wanted == _receiveTimeoutMs
            || (wanted != 0 && _receiveTimeoutMs != 0 && _receiveTimeoutMs >= wanted && _receiveTimeoutMs - wanted <= Math.Max(50, wanted / 10));
        if (!keep)
        {
            _socket.ReceiveTimeout = wanted;
            _receiveTimeoutMs = wanted;
        }
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
