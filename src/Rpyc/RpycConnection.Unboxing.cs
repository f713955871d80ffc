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
                if (!reader.TryEnterTuple(out int parts) || parts != 3
                    || reader.Read() is not string namePack || reader.Read() is not long classId || reader.Read() is not long instanceId)
                {
                    return false;
                }
                reader.ExitTuple();
                // KeyNotFoundException for an object this side does not have: the general path answers it.
                value = LocalObjects.Get(new IdPack(namePack, classId, instanceId));
                break;
            default:
                return false;
        }
        reader.ExitTuple();
        return true;
    }
}
