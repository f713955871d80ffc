using Rpyc.Brine;
using Rpyc.Channel;
using Rpyc.Protocol;
using Rpyc.Telemetry;

namespace Rpyc;

public sealed partial class RpycConnection
{
    // Guards the reader role, the pending table and the wake-ups of waiting threads.
    private readonly object _sync = new();
    private readonly Dictionary<long, PendingReply> _pending = [];
    private bool _readerBusy;

    // Threads inside Monitor.Wait(_sync), changed only under the lock. A pulse with nobody waiting
    // is not free: it is a call into the runtime, and it gives _sync a sync block, after which every
    // lock of _sync takes the runtime's slower path. A call whose own thread reads its reply (a
    // ping) has nobody waiting, so pulses are made only when somebody is.
    private int _syncWaiters;
    private volatile ConnectionObserver? _observer;

    /// <summary>The recorder attached to this connection; else, while someone listens to the Rpyc source or meter, the instrumentation; else <c>null</c>.</summary>
    internal ConnectionObserver? Observer
    {
        get => _observer ?? InstrumentationObserver.IfListening;
        set => _observer = value;
    }
    private long _nextSeq = -1;

    private readonly object _sendLock = new();
    private readonly PooledBufferWriter _sendBuffer;
    private readonly PooledBufferWriter _sendScratch;

    /// <summary>Sends a request and waits for its reply, serving the peer's requests meanwhile.</summary>
    internal object? SyncRequest(HandlerId handler, PyTuple args, TimeSpan? timeout = null)
    {
        ThrowIfClosed();
        long seq = Interlocked.Increment(ref _nextSeq);
        PendingReply pending;
        lock (_sync)
        {
            pending = Volatile.Read(ref _spareReply) ?? new PendingReply();
            _spareReply = null;
            pending.Reset(seq, handler);
            _pending[seq] = pending;
        }
        ConnectionObserver? observer = Observer;
        object? token = observer is null ? null : StartObserving(observer, handler, args, sync: true);
        try
        {
            int bytes = SendRequest(seq, handler, args, sync: true);
            observer?.RequestSent(token, bytes);
        }
        catch (Exception ex)
        {
            lock (_sync)
            {
                _pending.Remove(seq);
            }
            observer?.RequestCompleted(token, 0, false, ex);
            throw;
        }
        try
        {
            object? result = WaitFor(pending, timeout ?? _options.SyncRequestTimeout);
            observer?.RequestCompleted(token, pending.ReplyBytes, pending.CreatedNetref, null);
            Spare(pending);
            return result;
        }
        catch (Exception ex) when (observer is not null)
        {
            observer.RequestCompleted(token, pending.ReplyBytes, false, ex);
            throw;
        }
    }

    // One finished request's PendingReply, for the next request to reuse: a new one per call was
    // 56 of a ping client's 136 bytes a call. Fresh memory is not free where the round trip is
    // short: in a raw TCP ping loop on this project's 2-vCPU VM, ~170 bytes of garbage per ping
    // added 0.2-1.2 us of client CPU and 0.5-1.5 us to the round trip (four alternated pairs, a
    // build at nice 19 beside them), as each allocation lands on cache lines not touched before.
    //
    // Only a request completed with a result is spared, by its waiter once it has read it: the
    // thread that completed it did so under _sync and touches it no more, and the table no longer
    // holds it (a late reply to its seq finds nothing). Taken under _sync; put back with a plain
    // write: two puts at once lose one to the GC, and a put racing a take is either taken or lost,
    // never handed out twice, since an instance is put back only by its one user, after its use.
    private PendingReply? _spareReply;

    private void Spare(PendingReply pending)
    {
        pending.Clear();
        Volatile.Write(ref _spareReply, pending);
    }

    private object? StartObserving(ConnectionObserver observer, HandlerId handler, PyTuple args, bool sync)
    {
        (string? target, string? name) = Describe(handler, args);
        return observer.RequestStarting(this, handler, target, name, sync);
    }

    // The object and attribute a request is about, for telemetry: (obj, name, ...) for most handlers.
    private static (string? Target, string? Name) Describe(HandlerId handler, PyTuple args)
    {
        string? target = args.Count > 0 ? args[0] switch
        {
            Netref n => n.RemoteTypeName,
            null => null,
            object local => TypeNames.Readable(local.GetType()),
        } : null;
        string? name = handler switch
        {
            HandlerId.GetAttr or HandlerId.SetAttr or HandlerId.DelAttr or HandlerId.CallAttr => args.Count > 1 ? args[1] as string : null,
            HandlerId.Cmp => args.Count > 2 ? args[2] as string : null,
            _ => null,
        };
        return (target, name);
    }

    /// <summary>Sends a request whose reply nobody waits for (DEL, CLOSE); Python ignores replies to unknown seqs, and so do we.</summary>
    internal void SendRequestNoReply(HandlerId handler, PyTuple args)
    {
        ThrowIfClosed();
        long seq = Interlocked.Increment(ref _nextSeq);
        (string? target, string? name) = Describe(handler, args);
        SendOneWay(handler, target, name, () => SendRequest(seq, handler, args, sync: false));
    }

    // A request nobody waits for: counted and reported complete as soon as its frame is written.
    private void SendOneWay(HandlerId handler, string? target, string? name, Func<int> write)
    {
        ConnectionObserver? observer = Observer;
        object? token = observer?.RequestStarting(this, handler, target, name, sync: false);
        int bytes;
        try
        {
            bytes = write();
        }
        catch (Exception ex) when (observer is not null)
        {
            observer.RequestCompleted(token, 0, false, ex);
            throw;
        }
        Counters.OneWayRequestSent();
        if (observer is not null)
        {
            observer.RequestSent(token, bytes);
            observer.RequestCompleted(token, 0, false, null);
        }
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
                    WaitForPulse(left);
                }
            }
            // This thread now reads for everyone until one message has arrived. When that was this
            // call's own reply, it was completed as the reader role was given back: no second lock.
            ReadAndDispatchOne(left);
            if (pending.IsCompleted)
            {
                return pending.Error is null ? pending.Value : throw Rethrowable(pending.Error);
            }
        }
    }

    private static readonly TimeSpan s_longestWait = TimeSpan.FromMilliseconds(int.MaxValue);

    // Under _sync.
    private void WaitForPulse(TimeSpan timeout)
    {
        _syncWaiters++;
        try
        {
            // Monitor.Wait takes at most int.MaxValue ms (24.8 days); a longer timeout waits in turns.
            Monitor.Wait(_sync, timeout > s_longestWait ? s_longestWait : timeout);
        }
        finally
        {
            // Monitor.Wait returns, or throws, holding the lock again.
            _syncWaiters--;
        }
    }

    // Under _sync.
    private void PulseWaiters()
    {
        if (_syncWaiters > 0)
        {
            Monitor.PulseAll(_sync);
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
                WaitForPulse(left);
            }
            _readerBusy = true;
        }
        return ReadAndDispatchOne(Remaining(deadline));
    }

    // Called holding the reader role; releases it as soon as a request is decoded, so that another
    // thread can read while this one runs a handler (which may itself wait for a callback's reply),
    // and once a reply has completed its waiter.
    private bool ReadAndDispatchOne(TimeSpan timeout)
    {
        Message message = default;
        List<PooledBytes>? leases = null;
        bool got = false;
        bool completed = false;
        try
        {
            got = TryReadMessage(timeout, out message, out leases);
            // A reply not unboxed while it was read (one holding a netref) and an exception are
            // settled here, before the reader role is given back (an unboxed reply, below, as it is
            // given back). A waiter woken by the release must find its reply complete: else it takes
            // the role itself and waits in recv(2) for a reply already read, until another message
            // comes or its timeout ends (30 s by default; for ever without one). Settling runs no
            // user code and makes no request (Unbox, Vinegar.Load, CompletePending).
            if (got && message.Kind is MessageKind.Reply or MessageKind.Exception && !(message.Kind == MessageKind.Reply && message.Unboxed))
            {
                completed = true;
                Dispatch(message, leases);
            }
        }
        catch (Exception ex) when (ex is RpycProtocolException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            if (ex is RpycProtocolException)
            {
                RpycLog.Warn($"closing the connection to {PeerName}: {ex.Message}");
                TrySendCloseOnProtocolError();
            }
            Teardown(ex is RpycProtocolException ? ex : new RpycConnectionException($"The transport failed: {ex.Message}", ex));
        }
        catch (Exception ex)
        {
            // OutOfMemoryException above all (a frame too large for what the GC has left), or a bug:
            // this connection ends, the process and the other connections go on. Its buffers are
            // released below, which is what gives the memory back.
            RpycLog.Warn($"closing the connection to {PeerName}: {ex.GetType().Name} while reading a message: {ex.Message}");
            Teardown(new RpycConnectionException($"Reading from {PeerName} failed: {ex.Message}", ex));
        }
        finally
        {
            lock (_sync)
            {
                if (IsClosed)
                {
                    // Nobody reads a closed connection again: its buffers go back to the budget.
                    _source.Dispose();
                }
                _readerBusy = false;
                // A reply unboxed while it was read (values only: no netref to count) completes its
                // waiter here, under the lock the reader role is given back with: a ping's client
                // entered a monitor six times per call (_sync five, _sendLock once), and the
                // runtime's monitor helpers were 13 % of its time; now four.
                completed = completed || (got && message.Kind == MessageKind.Reply && message.Unboxed && TryCompleteUnderLock(message));
                PulseWaiters();
            }
        }
        if (got && !completed)
        {
            Dispatch(message, leases);
        }
        return got;
    }

    private bool TryReadMessage(TimeSpan timeout, out Message message, out List<PooledBytes>? leases)
    {
        message = default;
        leases = null;
        if (IsClosed)
        {
            return false;
        }
        FrameSource.Result result = _source.ReadFrame(timeout, out System.Buffers.ReadOnlySequence<byte> payload);
        switch (result)
        {
            case FrameSource.Result.Timeout:
                return false;
            case FrameSource.Result.EndOfStream when _source.Buffered > 0:
                // Not an orderly close: the peer hung up in the middle of a frame.
                throw ProtocolErrors.Frame($"truncated frame: the peer {PeerName} closed the connection {_source.Buffered} bytes into it");
            case FrameSource.Result.EndOfStream:
                Teardown(new RpycConnectionClosedException($"The peer {PeerName} closed the connection."));
                return false;
        }
        Counters.FrameReceived(_source.LastFrameLength);
        if (_version is null)
        {
            _version = Envelope.Detect(payload) ?? throw ProtocolErrors.Message($"the first message starts with 0x{(payload.IsEmpty ? 0 : payload.FirstSpan[0]):x2}, which is neither a rpyc 5.x nor a 6.x envelope");
        }
        // Decoded while holding the reader role: the payload aliases the receive buffer, and the
        // lender's leases are this message's alone until taken.
        _lender.Threshold = PeekKind(payload, _version.Value) switch
        {
            MessageKind.Request => RequestLendThreshold,
            MessageKind.Reply => _options.PooledBytesThreshold,
            _ => 0,
        };
        if (!TryReadUnboxed(payload, _version.Value, out message))
        {
            message = Envelope.Read(payload, _version.Value, _options.BrineLimits, _options.BrineArgsLimits, _lender);
        }
        message = message with { FrameLength = _source.LastFrameLength };
        leases = _lender.Take();
        if (message.Kind == MessageKind.Request)
        {
            // Counted here, by the reader role's one thread, not by the handlers running at once.
            Counters.IncomingRequest();
        }
        return true;
    }

    // Arguments of at least this many bytes are lent from the pool: a service parameter typed
    // ReadOnlyMemory<byte> or PooledBytes then takes them without a new array, and every other
    // receiver gets a byte[] as before (BytesLender.Settle; the pool's array itself when its size
    // is exact, else one copy more). Not only large-object-heap sizes: a new 10 KiB array per call
    // is a gen-0 collection every ~200 calls, and those made a 10 KiB upload's p99 4.5-4.8x its p50
    // and a 64 KiB one's 7-9x; lent from 4 KiB, 2.3-2.7x, as the raw TCP floor's (issue 11, goal 3).
    internal const int RequestLendThreshold = 4096;

    private readonly BytesLender _lender = new();

    // 5.x TAG_TUP3 | imm msg; 6.x msg byte: which kind of message the args belong to.
    private static MessageKind PeekKind(System.Buffers.ReadOnlySequence<byte> payload, RpycProtocolVersion version)
    {
        ReadOnlySpan<byte> head = payload.FirstSpan;
        if (version == RpycProtocolVersion.V5)
        {
            return head.Length >= 2 && head[0] == BrineTag.Tup3 ? (MessageKind)(head[1] - BrineTag.ImmIntBias) : default;
        }
        return head.Length >= 1 ? (MessageKind)head[0] : default;
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

    // Sends args already in boxed form (exceptions); returns the frame's length on the wire.
    private int Send(MessageKind kind, long seq, object? args)
    {
        lock (_sendLock)
        {
            ThrowIfClosed();
            FlushReleases();
            return WriteFrame(kind, seq, args);
        }
    }

    // protocol.py _send_request: (handler, self._box(args)), boxed while it is written. A sync
    // request is counted here, under the send lock (RpycConnectionCounters); a one-way one by its sender.
    private int SendRequest(long seq, HandlerId handler, PyTuple args, bool sync)
    {
        lock (_sendLock)
        {
            ThrowIfClosed();
            FlushReleases();
            try
            {
                _sendBuffer.Reset();
                var writer = new BrineWriter(_sendBuffer);
                Envelope.WriteHeader(ref writer, _version ?? _options.ProtocolVersion, MessageKind.Request, seq);
                writer.WriteTupleHeader(2);
                writer.WriteInt((long)handler);
                WriteBoxedOrUndo(ref writer, args);
                int bytes = SendSealed();
                if (sync)
                {
                    Counters.SyncRequestSent();
                }
                return bytes;
            }
            finally
            {
                ShrinkSendBuffers();
            }
        }
    }

    // protocol.py _send(MSG_REPLY, seq, self._box(result)), boxed while it is written. A result
    // that cannot be boxed (not dumpable, a lone surrogate, a disposed PooledBytes, an enum beyond
    // long...) is answered with that error instead: nothing was sent yet, and boxing does no I/O,
    // so what it throws says nothing about the connection. Sending failures still propagate.
    private int SendBoxedReply(long seq, object? result)
    {
        lock (_sendLock)
        {
            ThrowIfClosed();
            FlushReleases();
            Exception? boxingError;
            try
            {
                _sendBuffer.Reset();
                var writer = new BrineWriter(_sendBuffer);
                Envelope.WriteHeader(ref writer, _version ?? _options.ProtocolVersion, MessageKind.Reply, seq);
                boxingError = TryWriteBoxed(ref writer, result);
                if (boxingError is null)
                {
                    return SendSealed();
                }
            }
            finally
            {
                ShrinkSendBuffers();
            }
            return WriteFrame(MessageKind.Exception, seq, Vinegar.Dump(boxingError, _options.IncludeLocalTraceback));
        }
    }

    // Called with _sendLock held; returns the frame's length on the wire.
    private int WriteFrame(MessageKind kind, long seq, object? args)
    {
        try
        {
            _sendBuffer.Reset();
            Envelope.Write(_sendBuffer, _version ?? _options.ProtocolVersion, kind, seq, args);
            return SendSealed();
        }
        finally
        {
            ShrinkSendBuffers();
        }
    }

    // Called with _sendLock held, the payload written into _sendBuffer.
    private int SendSealed()
    {
        ReadOnlyMemory<byte> frame = FrameWriter.Seal(_sendBuffer, _sendScratch, _options.CompressionThreshold);
        try
        {
            _transport.Send(frame.Span);
            Counters.FrameSent(frame.Length);
            return frame.Length;
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            var error = new RpycConnectionClosedException($"Sending to {PeerName} failed: {ex.Message}", ex);
            Teardown(error);
            throw error;
        }
    }

    private Channel.LargeBufferRetention _sendRetention;

    // The send buffers go back to the pool when the connection ends: dropped instead, they made
    // every new connection rent (allocate) 4.4 KB afresh, on the client and on the server, and with
    // the rest of a connection's garbage a gen-0 collection every ~200 connections, which is where a
    // connect + first call's p99 lay. Under the send lock, so no sender is writing into them; every
    // later send stops at ThrowIfClosed. A send that failed ends here with the lock already held
    // (Teardown from SendSealed): its finally then finds the buffers empty (ShrinkSendBuffers).
    private void ReturnSendBuffers()
    {
        lock (_sendLock)
        {
            _sendBuffer.Dispose();
            _sendScratch.Dispose();
        }
    }

    private void ShrinkSendBuffers()
    {
        if (IsClosed)
        {
            return;
        }
        // A 100 MB upload must not pin 100 MB per connection afterwards, but repeated large
        // transfers must not regrow their buffer on every message either (LargeBufferRetention).
        const int Keep = 8 * 1024 * 1024;
        int largest = Math.Max(_sendBuffer.Buffer.Length, _sendScratch.Buffer.Length);
        if (!_sendRetention.ShouldShrink(largest, Math.Max(_sendBuffer.Length, _sendScratch.Length), Keep))
        {
            return;
        }
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
