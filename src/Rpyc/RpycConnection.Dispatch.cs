using Rpyc.Brine;
using Rpyc.Netrefs;
using Rpyc.Protocol;
using Rpyc.Telemetry;
using Rpyc.Services;

namespace Rpyc;

public sealed partial class RpycConnection
{
    // A request's leases go back to the pool once its reply is sent (unless a service took one);
    // a reply's belong to whoever waited for it, or go back when nobody does.
    private void Dispatch(Message message, List<PooledBytes>? leases)
    {
        bool release = true;
        try
        {
            switch (message.Kind)
            {
                case MessageKind.Request when message.Unboxed:
                    DispatchRequest(message.Seq, message.Handler, message.Args, unboxed: true, message.FrameLength, leases is not null);
                    break;
                case MessageKind.Request:
                    if (message.Args is not PyTuple { Count: 2 } request || request[0] is not long handlerCode)
                    {
                        throw ProtocolErrors.Message($"request seq {message.Seq} is not (handler, args)");
                    }
                    DispatchRequest(message.Seq, (HandlerId)handlerCode, request[1], unboxed: false, message.FrameLength, leases is not null);
                    break;
                case MessageKind.Reply:
                    int createdBefore = NetrefCache.CreatedOnThisThread;
                    object? value = message.Unboxed ? message.Args : Unbox(message.Args);
                    release = !CompletePending(message.Seq, value, error: null, message.FrameLength, NetrefCache.CreatedOnThisThread != createdBefore);
                    break;
                case MessageKind.Exception:
                    CompletePending(message.Seq, value: null, error: Vinegar.Load(message.Args), message.FrameLength, createdNetref: false);
                    break;
            }
        }
        catch (RpycProtocolException ex)
        {
            RpycLog.Warn($"closing the connection to {PeerName}: {ex.Message}");
            TrySendCloseOnProtocolError();
            Teardown(ex);
        }
        catch (RpycConnectionException)
        {
            // The connection closed while replying: the teardown already failed every waiter.
        }
        catch (Exception ex)
        {
            // Out of memory while decoding a reply or sending one, or a bug: this connection ends
            // (failing its waiters), never the thread that serves it, nor the process.
            RpycLog.Warn($"closing the connection to {PeerName}: {ex.GetType().Name} while handling {message.Kind} seq {message.Seq}: {ex.Message}");
            Teardown(new RpycConnectionException($"Handling {message.Kind} seq {message.Seq} from {PeerName} failed: {ex.Message}", ex));
        }
        finally
        {
            if (release)
            {
                BytesLender.Release(leases);
            }
        }
    }

    // Under _sync: completes the waiter of an unboxed reply, whose leases then belong to it; false
    // when nobody waits for that seq (Dispatch then handles it as any reply).
    private bool TryCompleteUnderLock(Message reply)
    {
        if (!_pending.Remove(reply.Seq, out PendingReply? pending))
        {
            return false;
        }
        pending.ReplyBytes = reply.FrameLength;
        pending.CreatedNetref = false;
        pending.Complete(reply.Args);
        return true;
    }

    // Whether a waiter took the value.
    private bool CompletePending(long seq, object? value, Exception? error, long frameLength, bool createdNetref)
    {
        bool matched = false;
        lock (_sync)
        {
            // A late reply (after a timeout) or the reply to a DEL finds no entry: dropped, as in Python.
            if (_pending.Remove(seq, out PendingReply? pending))
            {
                matched = true;
                pending.ReplyBytes = frameLength;
                pending.CreatedNetref = createdNetref;
                if (error is null)
                {
                    pending.Complete(value);
                }
                else
                {
                    pending.Fail(error);
                }
                PulseWaiters();
            }
        }
        if (!matched)
        {
            // The reply to a one-way request (rpyc answers even a DEL): the peer may hold its next
            // reply behind it until we ACK (Nagle on its side, a delayed ACK on ours: 40 ms per
            // released netref against a stock Python server). ACK it now.
            _transport.AckPromptly();
            // Telemetry still counts the bytes, so its totals equal what crossed the wire.
            Observer?.UnmatchedReplyReceived(this, frameLength);
        }
        return matched;
    }

    // The handler's args come boxed from the general path, or already unboxed (TryReadUnboxed).
    private void DispatchRequest(long seq, HandlerId handler, object? args, bool unboxed, long frameLength, bool lent)
    {
        ConnectionObserver? observer = Observer;
        object? token = null;
        bool observed = false;
        object? result;
        try
        {
            if ((unboxed ? args : Unbox(args)) is not PyTuple handlerArgs)
            {
                throw ProtocolErrors.Message($"request seq {seq} ({handler}) has arguments that are not a tuple");
            }
            if (lent)
            {
                handlerArgs = SettleLeases(handler, handlerArgs);
            }
            if (observer is not null)
            {
                (string? target, string? name) = Describe(handler, handlerArgs);
                token = observer.IncomingStarting(this, handler, target, name, frameLength);
                observed = true;
            }
            if (handler == HandlerId.Close)
            {
                // Nobody answers CLOSE: tear down at once so a 6.x peer waiting for EOF is released.
                observer?.IncomingCompleted(token, 0, null);
                Teardown(null);
                return;
            }
            result = Handle(handler, handlerArgs);
        }
        catch (RpycProtocolException)
        {
            throw;
        }
        catch (Exception ex)
        {
            // As Python does, whatever the handler raised goes back to the peer, MemoryError included
            // (the request's own garbage is collectable by now); if even that send fails, Dispatch
            // closes this connection. A request that failed before it was described (an argument
            // naming an object this side does not hold) is still one the peer sent: observed now,
            // its frame counts as received.
            if (observer is not null && !observed)
            {
                token = observer.IncomingStarting(this, handler, null, null, frameLength);
            }
            int bytes = 0;
            try
            {
                bytes = SendException(seq, ex);
            }
            finally
            {
                observer?.IncomingCompleted(token, bytes, ex);
            }
            return;
        }
        int replyBytes = 0;
        Exception? sendError = null;
        try
        {
            replyBytes = SendBoxedReply(seq, result);
        }
        catch (Exception ex)
        {
            sendError = ex;
            throw;
        }
        finally
        {
            observer?.IncomingCompleted(token, replyBytes, sendError);
        }
    }

    // Only a call's own arguments reach a parameter that may take a lease: everything else sees byte[].
    private static PyTuple SettleLeases(HandlerId handler, PyTuple args)
    {
        int callArgs = handler switch
        {
            HandlerId.Call => 1,
            HandlerId.CallAttr => 2,
            _ => -1,
        };
        if (callArgs < 0 || callArgs >= args.Count || args[callArgs] is not PyTuple positional)
        {
            return (PyTuple)BytesLender.Settle(args)!;
        }
        var items = new object?[args.Count];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = i == callArgs ? BytesLender.SettleNested(positional) : BytesLender.Settle(args[i]);
        }
        return PyTuple.Wrap(items);
    }

    private int SendException(long seq, Exception ex) =>
        Send(MessageKind.Exception, seq, Vinegar.Dump(ex, _options.IncludeLocalTraceback));

    private readonly CallSiteCache _callSites = new();

    // protocol.py _HANDLERS
    private object? Handle(HandlerId handler, PyTuple args)
    {
        var model = new ObjectModel(_options, _callSites);
        switch (handler)
        {
            case HandlerId.Ping:
                return Arg(args, 0, handler);
            case HandlerId.GetRoot:
                return _localRoot;
            case HandlerId.GetAttr:
                return model.GetAttr(Arg(args, 0, handler), NameArg(args, 1, handler));
            case HandlerId.SetAttr:
                model.SetAttr(Arg(args, 0, handler), NameArg(args, 1, handler), Arg(args, 2, handler));
                return null;
            case HandlerId.DelAttr:
                model.DelAttr(Arg(args, 0, handler), NameArg(args, 1, handler));
                return null;
            case HandlerId.Call:
                return model.Call(Arg(args, 0, handler), TupleArg(args, 1, handler), KwargsArg(args, 2));
            case HandlerId.CallAttr:
                return model.CallAttr(Arg(args, 0, handler), NameArg(args, 1, handler), TupleArg(args, 2, handler), KwargsArg(args, 3));
            case HandlerId.Repr:
                return model.Repr(Arg(args, 0, handler));
            case HandlerId.Str:
                return model.Str(Arg(args, 0, handler));
            case HandlerId.Cmp:
                return model.Compare(Arg(args, 0, handler), Arg(args, 1, handler), args.Count > 2 ? NameArg(args, 2, handler) : "__cmp__");
            case HandlerId.Hash:
                return model.Hash(Arg(args, 0, handler));
            case HandlerId.Dir:
                return model.Dir(Arg(args, 0, handler));
            case HandlerId.Del:
                object? target = Arg(args, 0, handler);
                long count = args.Count > 1 && args[1] is long n ? n : 1;
                if (LocalObjects.Release(target, count) is IdPack released)
                {
                    Observer?.LocalObjectReleased(this, released.NamePack, released.InstanceId);
                }
                return null;
            case HandlerId.Inspect:
                return model.Inspect(LocalObjects.Get(IdPack.FromWire(Arg(args, 0, handler))));
            case HandlerId.BuffIter:
                return model.BuffIter(Arg(args, 0, handler), args.Count > 1 && args[1] is long c ? c : 1);
            case HandlerId.CtxExit:
                return model.ContextExit(Arg(args, 0, handler));
            case HandlerId.Pickle:
                throw new ArgumentException("pickling is disabled");
            default:
                // Python answers an unknown handler with KeyError(code), the code as an int.
                throw new RpycRemoteException("builtins.KeyError", new PyTuple((long)handler));
        }
    }

    private static object? Arg(PyTuple args, int index, HandlerId handler) =>
        index < args.Count ? args[index] : throw new RemoteTypeErrorException($"{handler} expects at least {index + 1} arguments, got {args.Count}");

    private static string NameArg(PyTuple args, int index, HandlerId handler) => Arg(args, index, handler) switch
    {
        string s => s,
        byte[] b => System.Text.Encoding.UTF8.GetString(b),
        _ => throw new RemoteTypeErrorException("name must be a string"),
    };

    private static PyTuple TupleArg(PyTuple args, int index, HandlerId handler) =>
        Arg(args, index, handler) as PyTuple ?? throw new RemoteTypeErrorException($"{handler} expects a tuple of arguments");

    private static PyTuple KwargsArg(PyTuple args, int index) =>
        index < args.Count && args[index] is PyTuple kwargs ? kwargs : PyTuple.Empty;
}
