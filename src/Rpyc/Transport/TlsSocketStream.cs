using System.Diagnostics;
using System.Net.Sockets;

namespace Rpyc.Transport;

// The stream under an SslStream: the socket, with the receive timeout of each read set the way
// SocketTransport sets it (the kernel's SO_RCVTIMEO on a blocking descriptor, one recv(2) per read)
// and an optional deadline that bounds a whole handshake. A timeout surfaces as
// ReceiveTimeoutException, an IOException that SslStream passes through unchanged; SslStream keeps
// the bytes of a partly read record, so the next read resumes where this one stopped.
internal sealed class TlsSocketStream : Stream
{
    private readonly Socket _socket;
    // Once an async operation ran, .NET made the descriptor non-blocking for good and emulates
    // blocking calls, honouring Socket.ReceiveTimeout instead of the kernel's option.
    private bool _usedAsync;
    private int _receiveTimeoutMs;
    private long _deadline;

    public TlsSocketStream(Socket socket)
    {
        _socket = socket;
    }

    public Socket Socket => _socket;

    /// <summary>The wait of the next reads; <see cref="Timeout.InfiniteTimeSpan"/> for none.</summary>
    public TimeSpan ReadTimeoutSpan { get; set; } = Timeout.InfiniteTimeSpan;

    /// <summary>Bounds every read (and, through SO_SNDTIMEO, every send) until <see cref="ClearDeadline"/>.</summary>
    public void SetDeadline(TimeSpan timeout)
    {
        _deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        KernelTimeouts.SetSend(_socket, Milliseconds(timeout));
    }

    public void ClearDeadline()
    {
        _deadline = 0;
        // Sends never time out outside a handshake, as on plain connections.
        KernelTimeouts.SetSend(_socket, 0);
    }

    public override bool CanRead => true;

    public override bool CanWrite => true;

    public override bool CanSeek => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        TimeSpan wait = ReadTimeoutSpan;
        if (_deadline != 0)
        {
            TimeSpan left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _deadline);
            if (left <= TimeSpan.Zero)
            {
                throw new ReceiveTimeoutException();
            }
            wait = wait == Timeout.InfiniteTimeSpan || left < wait ? left : wait;
        }
        SetReceiveTimeout(wait);
        try
        {
            return _socket.Receive(buffer, SocketFlags.None);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.WouldBlock)
        {
            throw new ReceiveTimeoutException();
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _usedAsync = true;
        return await _socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            int sent = _socket.Send(buffer, SocketFlags.None);
            buffer = buffer[sent..];
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        _usedAsync = true;
        while (!buffer.IsEmpty)
        {
            int sent = await _socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            buffer = buffer[sent..];
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private static int Milliseconds(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? 0 : (int)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 1, int.MaxValue);

    private void SetReceiveTimeout(TimeSpan timeout)
    {
        int wanted = Milliseconds(timeout);
        // As SocketTransport: keep a timeout at most 1/16 (and 50 ms) longer than wanted, so a
        // connection pays for setsockopt(2) when its wait changes, not per read.
        bool keep = wanted == _receiveTimeoutMs
            || (wanted != 0 && _receiveTimeoutMs != 0 && _receiveTimeoutMs >= wanted && _receiveTimeoutMs - wanted <= Math.Min(50, wanted / 16));
        if (keep)
        {
            return;
        }
        if (_usedAsync)
        {
            _socket.ReceiveTimeout = wanted;
        }
        else
        {
            KernelTimeouts.SetReceive(_socket, wanted);
        }
        _receiveTimeoutMs = wanted;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Already reset by the peer, or closed: nothing left to flush.
            }
            _socket.Dispose();
        }
        base.Dispose(disposing);
    }
}

/// <summary>A read of a TLS connection's socket waited its whole timeout.</summary>
internal sealed class ReceiveTimeoutException : IOException
{
    public ReceiveTimeoutException()
        : base("The receive timed out.")
    {
    }
}
