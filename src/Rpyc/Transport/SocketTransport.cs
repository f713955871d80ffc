using System.Diagnostics;
using System.Net.Sockets;

namespace Rpyc.Transport;

internal sealed class SocketTransport : Transport
{
    private readonly Socket _socket;
    private readonly string _peer;

    private readonly long _spinTicks;

    // Spinning pays only while the peer answers within the spin: after spins that found nothing,
    // receives block at once for a while (SpinBackoff).
    private SpinBackoff _backoff;

    public SocketTransport(Socket socket, bool noDelay, TimeSpan receiveSpin = default)
    {
        _socket = socket;
        _socket.NoDelay = noDelay;
        _spinTicks = (long)(receiveSpin.TotalSeconds * Stopwatch.Frequency);
        _peer = socket.RemoteEndPoint?.ToString() ?? "?";
    }

    public override string PeerName => _peer;

    /// <summary>The socket, for diagnostics and tests (its descriptor's blocking mode matters, see KernelTimeouts).</summary>
    internal Socket Socket => _socket;

    // The SO_RCVTIMEO in force, in ms (0: none); changed only when a wait needs a different one.
    private int _receiveTimeoutMs;

    // One blocking recv(2) per read, as a raw TCP client does: a finite wait is the kernel's
    // SO_RCVTIMEO (see KernelTimeouts), not poll(2) first, which would cost a second syscall per reply.
    public override int Receive(Span<byte> buffer, TimeSpan timeout)
    {
        if (_spinTicks > 0 && _backoff.ShouldSpin() && !SpinUntilReadable(timeout))
        {
            return -1;
        }
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

    // RpycConnectOptions.ReceiveSpin, for at most the wait's timeout (SpinBackoff.Spin). False only
    // when the whole timeout passed while spinning.
    private bool SpinUntilReadable(TimeSpan timeout)
    {
        long spin = timeout == Timeout.InfiniteTimeSpan ? _spinTicks : Math.Min(_spinTicks, (long)(timeout.TotalSeconds * Stopwatch.Frequency));
        return _backoff.Spin(_socket, spin) || spin == _spinTicks;
    }

    private void SetReceiveTimeout(TimeSpan timeout)
    {
        int wanted = timeout == Timeout.InfiniteTimeSpan ? 0 : (int)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 1, int.MaxValue);
        // Keep the current timeout while it is at most 1/16 (and 50 ms) longer than wanted: a wait
        // that may last 30.0 s for a 29.99 s remainder is fine, a setsockopt(2) per call is not.
        bool keep = wanted == _receiveTimeoutMs
            || (wanted != 0 && _receiveTimeoutMs != 0 && _receiveTimeoutMs >= wanted && _receiveTimeoutMs - wanted <= Math.Min(50, wanted / 16));
        if (!keep)
        {
            KernelTimeouts.SetReceive(_socket, wanted);
            _receiveTimeoutMs = wanted;
        }
    }

    // TCP_QUICKACK (IPPROTO_TCP 6, option 12): with an ACK scheduled, Linux sends it at once.
    public override void AckPromptly()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                _socket.SetRawSocketOption(6, 12, [1, 0, 0, 0]);
            }
            catch (SocketException)
            {
                // A closing socket: nothing to acknowledge.
            }
        }
    }

    public override void LimitSends(TimeSpan timeout) => KernelTimeouts.SetSend(_socket, KernelMilliseconds(timeout));

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
