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
        var reader = new BrineReader(payload.Slice(consumed), _options.BrineArgsLimits, _lender);
        try
        {
            if (kind == MessageKind.Request)
            {
                // (handler, boxed handler args)
                if (reader.TryEnterTuple(out int count) && count == 2 && reader.TryReadImmediateInt(out long handler)
                    && TryReadBox(ref reader, out object? args) && args is PyTuple)
                {
                    reader.ExitTuple();
                    if (reader.Remaining == 0)
                    {
                        message = new Message(kind, seq, args) { Unboxed = true, Handler = (HandlerId)handler };
                        return true;
                    }
                }
            }
            else if (TryReadBox(ref reader, out object? value) && reader.Remaining == 0)
            {
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
