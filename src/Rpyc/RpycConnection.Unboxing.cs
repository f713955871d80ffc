using System.Buffers;
using Rpyc.Brine;
using Rpyc.Protocol;

namespace Rpyc;

public sealed partial class RpycConnection
{
    // Requests and replies whose boxes hold only values, tuples of boxes and this side's own objects
    // are unboxed while they are read, so the boxed tree that the general path builds first and
    // Unbox then walks is never made: for a ping's request, six tuples, 408 of the 488 bytes the
    // server allocated per call. Anything else is left to the general path, which reads the same
    // bytes again: a reference to one of the peer's objects above all (unboxing it makes and counts
    // a netref, which must happen once), an exception, an object this side does not know (the peer
    // is answered with the error, as before), and any input the general path would refuse, so
    // that every error and its message stay the general path's.
    private bool TryReadUnboxed(ReadOnlySequence<byte> payload, RpycProtocolVersion version, out Message message)
    {
        message = default;
        if (_options.BrineLimits.MaxDepth <= 0
            || !Envelope.TryReadHeader(payload, version, out MessageKind kind, out long seq, out int consumed)
            || kind == MessageKind.Exception)
        {
            return false;
        }
        ReadOnlySequence<byte> body = payload.Slice(consumed);
        if (TryRepeatLast(kind, body, out HandlerId repeatedHandler, out object? repeated))
        {
            message = new Message(kind, seq, repeated) { Unboxed = true, Handler = repeatedHandler };
            return true;
        }
        var reader = new BrineReader(body, _options.BrineArgsLimits, _lender);
        try
        {
            if (kind == MessageKind.Request)
            {
                // (handler, boxed handler args)
                if (reader.TryEnterTuple(out int count) && count == 2 && reader.TryReadImmediateInt(out long handler)
                    && TryReadBox(ref reader, out object? args) && args is PyTuple handlerArgs)
                {
                    reader.ExitTuple();
                    if (reader.Remaining == 0)
                    {
                        Remember(kind, body, (HandlerId)handler, handlerArgs);
                        message = new Message(kind, seq, args) { Unboxed = true, Handler = (HandlerId)handler };
                        return true;
                    }
                }
            }
            else if (TryReadBox(ref reader, out object? value) && reader.Remaining == 0)
            {
                Remember(kind, body, default, value);
                message = new Message(kind, seq, value) { Unboxed = true };
                return true;
            }
        }
        catch (Exception ex) when (ex is RpycProtocolException or KeyNotFoundException)
        {
        }
        _lender.ReleaseAll();
        return false;
    }

    // The last unboxed message's bytes after its seq, and what they decoded to. A call repeated with
    // the same arguments (a ping, a getter polled in a loop) differs from the one before only in its
    // seq, and so does its reply: each is then one comparison of its bytes instead of a decode (for
    // a ping's request, nine nested tuples). Decoding again would give back equal values and the
    // same local objects, so only values shared safely between messages are kept: no byte strings
    // (a service may write into its byte[], or keep a lent one), nor frozensets and slices, which
    // can hold them; the local objects named stay those while the table has dropped none (ids are
    // never reused). Touched only by the reader role. Like _lastLocalRef, it holds what it names
    // until another message is remembered or the connection is dropped.
    private const int LastMessageCapacity = 128;
    private readonly byte[] _lastMessage = new byte[LastMessageCapacity];
    private int _lastMessageLength;
    private MessageKind _lastMessageKind;
    private HandlerId _lastMessageHandler;
    private object? _lastMessageValue;
    private long _lastMessageRemovals;

    private bool TryRepeatLast(MessageKind kind, ReadOnlySequence<byte> body, out HandlerId handler, out object? value)
    {
        if (_lastMessageLength > 0
            && kind == _lastMessageKind
            && body.Length == _lastMessageLength
            && body.IsSingleSegment
            && LocalObjects.Removals == _lastMessageRemovals
            && body.FirstSpan.SequenceEqual(_lastMessage.AsSpan(0, _lastMessageLength)))
        {
            handler = _lastMessageHandler;
            value = _lastMessageValue;
            return true;
        }
        handler = default;
        value = null;
        return false;
    }

    private void Remember(MessageKind kind, ReadOnlySequence<byte> body, HandlerId handler, object? value)
    {
        if (body.Length > LastMessageCapacity || !body.IsSingleSegment || !SharedSafely(value))
        {
            return;
        }
        body.FirstSpan.CopyTo(_lastMessage);
        _lastMessageLength = (int)body.Length;
        _lastMessageKind = kind;
        _lastMessageHandler = handler;
        _lastMessageValue = value;
        _lastMessageRemovals = LocalObjects.Removals;
    }

    // What TryReadBox can give that later calls may share: immutable values, tuples of them, and
    // this side's own objects (shared by reference, as decoding them again would give).
    private static bool SharedSafely(object? value) => value switch
    {
        PyTuple tuple => AllSharedSafely(tuple),
        byte[] or PooledBytes or PyFrozenSet or PySlice => false,
        _ => true,
    };

    private static bool AllSharedSafely(PyTuple tuple)
    {
        foreach (object? item in tuple.AsSpan())
        {
            if (!SharedSafely(item))
            {
                return false;
            }
        }
        return true;
    }

    // The id pack of the local object the last request named, as its bytes arrived, and that
    // object: every call on the root names the same one, and matching those bytes skips reading a
    // string (hashed and compared), two decimal ints and a table lookup. Brine is prefix-free, so
    // bytes that start with a whole encoded id pack are that id pack; ids are never reused, so it
    // names the same object while the table has dropped none. Touched only by the reader role.
    // It holds that object until a request names another or the connection is dropped, like the
    // handler that last ran with it.
    private const int LastLocalRefCapacity = 96;
    private readonly byte[] _lastLocalRef = new byte[LastLocalRefCapacity];
    private int _lastLocalRefLength;
    private object? _lastLocalRefValue;
    private long _lastLocalRefRemovals;

    // (name_pack, class id, instance id) of one of this side's objects, which must be in the table.
    private bool TryReadLocalRef(ref BrineReader reader, out object? value)
    {
        ReadOnlySpan<byte> unread = reader.UnreadSpan;
        long removals = LocalObjects.Removals;
        if (_lastLocalRefLength > 0 && removals == _lastLocalRefRemovals && unread.StartsWith(_lastLocalRef.AsSpan(0, _lastLocalRefLength)))
        {
            reader.SkipFlatTuple(_lastLocalRefLength, 3);
            value = _lastLocalRefValue;
            return true;
        }
        value = null;
        long start = reader.Consumed;
        if (!reader.TryEnterTuple(out int parts) || parts != 3
            || reader.Read() is not string namePack || !reader.TryReadInt64(out long classId) || !reader.TryReadInt64(out long instanceId))
        {
            return false;
        }
        reader.ExitTuple();
        // KeyNotFoundException for an object this side does not have: the general path answers it.
        value = LocalObjects.Get(new IdPack(namePack, classId, instanceId));
        int length = (int)(reader.Consumed - start);
        if (length <= unread.Length && length <= LastLocalRefCapacity)
        {
            unread[..length].CopyTo(_lastLocalRef);
            _lastLocalRefLength = length;
            _lastLocalRefValue = value;
            _lastLocalRefRemovals = removals;
        }
        return true;
    }

    // protocol.py _unbox of the next box, for the labels that have no side effect; false otherwise.
    private bool TryReadBox(ref BrineReader reader, out object? value)
    {
        value = null;
        if (!reader.TryEnterTuple(out int count) || count != 2 || !reader.TryReadImmediateInt(out long label))
        {
            return false;
        }
        switch (label)
        {
            case BoxLabel.Value:
                value = reader.Read();
                break;
            case BoxLabel.Tuple:
                if (!reader.TryEnterTuple(out int items))
                {
                    return false;
                }
                var values = new object?[items];
                for (int i = 0; i < values.Length; i++)
                {
                    if (!TryReadBox(ref reader, out values[i]))
                    {
                        return false;
                    }
                }
                reader.ExitTuple();
                value = PyTuple.Wrap(values);
                break;
            case BoxLabel.LocalRef:
                if (!TryReadLocalRef(ref reader, out value))
                {
                    return false;
                }
                break;
            default:
                return false;
        }
        reader.ExitTuple();
        return true;
    }
}
