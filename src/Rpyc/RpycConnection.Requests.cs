using Rpyc.Channel;
using Rpyc.Protocol;

namespace Rpyc;

public sealed partial class RpycConnection
{
    // Guards the reader role, the pending table and the wake-ups of waiting threads.
    private readonly object _sync = new();
    private readonly Dictionary<long, PendingReply> _pending = [];
    private bool _readerBusy;
    private long _nextSeq = -1;

    private readonly object _sendLock = new();
    private readonly PooledBufferWriter _sendBuffer;
    private readonly PooledBufferWriter _sendScratch;

    /// <summary>Sends a request and waits for its reply, serving the peer's requests meanwhile.</summary>
    internal object? SyncRequest(HandlerId handler, PyTuple args, TimeSpan? timeout = null)
    {
        ThrowIfClosed();
        long seq = Interlocked.Increment(ref _nextSeq);
        var pending = new PendingReply(seq, handler);
        lock (_sync)
        {
            _pending[seq] = pending;
        }
        try
        {
            Send(MessageKind.Request, seq, new PyTuple((long)handler, Box(args)));
            Counters.RequestSent(sync: true);
        }
        catch
        {
            lock (_sync)
            {
                _pending.Remove(seq);
            }
            throw;
        }
        return WaitFor(pending, timeout ?? _options.SyncRequestTimeout);
    }

    /// <summary>Sends a request whose reply nobody waits for (DEL, CLOSE); Python ignores replies to unknown seqs, and so do we.</summary>
    internal void SendRequestNoReply(HandlerId handler, PyTuple args)
    {
        ThrowIfClosed();
        long seq = Interlocked.Increment(ref _nextSeq);
        Send(MessageKind.Request, seq, new PyTuple((long)handler, Box(args)));
        Counters.RequestSent(sync: false);
    }

    private object? WaitFor(PendingReply pending, TimeSpan timeout)
    {
        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            TimeSpan left;
            lock (_sync)
            {
                while (true)
                {
                    if (pending.IsCompleted)
                    {
                        return pending.Error is null ? pending.Value : throw Rethrowable(pending.Error);
                    }
                    left = Remaining(deadline);
                    if (left <= TimeSpan.Zero)
                    {
                        _pending.Remove(pending.Seq);
                        throw new RpycTimeoutException($"No reply to request seq {pending.Seq} ({pending.Handler}) within {timeout.TotalSeconds:0.###} s.");
                    }
                    if (!_readerBusy)
                    {
                        _readerBusy = true;
                        break;
                    }
                    Monitor.Wait(_sync, left);
                }
            }
            // This thread now reads for everyone until one message has arrived.
            ReadAndDispatchOne(left);
        }
    }

    private static TimeSpan Remaining(long deadline) =>
        deadline == long.MaxValue ? Timeout.InfiniteTimeSpan : TimeSpan.FromMilliseconds(Math.Max(0, deadline - Environment.TickCount64));

    // The completed request's error is shared by every waiter of a closed connection: wrap it per throw.
    private static Exception Rethrowable(Exception error) => error switch
    {
        RpycRemoteException remote => remote,
        RpycConnectionClosedException closed => new RpycConnectionClosedException(closed.Message, closed.InnerException),
        _ => error,
    };

    private bool ServeOne(TimeSpan timeout)
    {
        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_sync)
        {
            while (_readerBusy)
            {
                if (IsClosed)
                {
                    return false;
                }
                TimeSpan left = Remaining(deadline);
                if (left == TimeSpan.Zero)
                {
                    return false;
                }
                Monitor.Wait(_sync, left);
            }
            _readerBusy = true;
        }
        return ReadAndDispatchOne(Remaining(deadline));
    }

    // Called holding the reader role; releases it as soon as a message is decoded, so that another
    // thread can read while this one runs a handler (which may itself wait for a callback's reply).
    private bool ReadAndDispatchOne(TimeSpan timeout)
    {
        Message message;
        bool got = false;
        try
        {
            got = TryReadMessage(timeout, out message);
        }
        catch (Exception ex) when (ex is RpycProtocolException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            message = default;
            if (ex is RpycProtocolException)
            {
                RpycLog.Warn($"closing the connection to {PeerName}: {ex.Message}");
                TrySendCloseOnProtocolError();
            }
            Teardown(ex is RpycProtocolException ? ex : new RpycConnectionException($"The transport failed: {ex.Message}", ex));
        }
        finally
        {
            lock (_sync)
            {
                _readerBusy = false;
                Monitor.PulseAll(_sync);
            }
        }
        if (got)
        {
            Dispatch(message);
        }
        return got;
    }

    private bool TryReadMessage(TimeSpan timeout, out Message message)
    {
        message = default;
        if (IsClosed)
        {
            return false;
        }
        FrameSource.Result result = _source.ReadFrame(timeout, out System.Buffers.ReadOnlySequence<byte> payload);
        switch (result)
        {
            case FrameSource.Result.Timeout:
                return false;
            case FrameSource.Result.EndOfStream:
                Teardown(new RpycConnectionClosedException($"The peer {PeerName} closed the connection."));
                return false;
        }
        Counters.FrameReceived(_source.LastFrameLength);
        if (_version is null)
        {
            _version = Envelope.Detect(payload) ?? throw ProtocolErrors.Message($"the first message starts with 0x{(payload.IsEmpty ? 0 : payload.FirstSpan[0]):x2}, which is neither a rpyc 5.x nor a 6.x envelope");
        }
        // Decoded while holding the reader role: the payload aliases the receive buffer.
        message = Envelope.Read(payload, _version.Value, _options.MaxBrineDepth);
        return true;
    }

    private void TrySendCloseOnProtocolError()
    {
        // As Python's serve loop does: tell the peer why we hang up, then drop the connection.
        try
        {
            if (_version is not null)
            {
                SendRequestNoReply(HandlerId.Close, PyTuple.Empty);
            }
        }
        catch (Exception ex) when (ex is RpycException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
        }
    }

    private void Send(MessageKind kind, long seq, object? args)
    {
        lock (_sendLock)
        {
            ThrowIfClosed();
            FlushReleases();
            WriteFrame(kind, seq, args);
        }
    }

    // Called with _sendLock held.
    private void WriteFrame(MessageKind kind, long seq, object? args)
    {
        _sendBuffer.Reset();
        Envelope.Write(_sendBuffer, _version ?? _options.ProtocolVersion, kind, seq, args);
        ReadOnlyMemory<byte> frame = FrameWriter.Seal(_sendBuffer, _sendScratch, _options.CompressionThreshold);
        try
        {
            _transport.Send(frame.Span);
            Counters.FrameSent(frame.Length);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            var error = new RpycConnectionClosedException($"Sending to {PeerName} failed: {ex.Message}", ex);
            Teardown(error);
            throw error;
        }
        finally
        {
            ShrinkSendBuffers();
        }
    }

    private void ShrinkSendBuffers()
    {
        // A 100 MB upload must not pin 100 MB per connection afterwards.
        const int Keep = 1024 * 1024;
        if (_sendBuffer.Buffer.Length > Keep)
        {
            _sendBuffer.Shrink(4096);
        }
        if (_sendScratch.Buffer.Length > Keep)
        {
            _sendScratch.Shrink(256);
        }
    }

    private void ThrowIfClosed()
    {
        if (IsClosed)
        {
            throw ClosedError();
        }
    }
}
