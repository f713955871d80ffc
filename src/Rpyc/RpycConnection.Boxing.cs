using System.Runtime.CompilerServices;
using Rpyc.Brine;
using Rpyc.Netrefs;
using Rpyc.Protocol;

namespace Rpyc;

public sealed partial class RpycConnection
{
    // The references the boxing under way added to LocalObjects, one entry per Add. Touched only
    // under _sendLock, as boxing is; null until a message first holds a reference.
    private List<object>? _boxedReferences;

    // WriteBoxed as one step: when a later item fails to box, the message is not sent, so the peer
    // never learns of the references added for the earlier ones and never sends their DEL; they
    // are taken back here, else they would stay in the table until the connection closes.
    private void WriteBoxedOrUndo(ref BrineWriter writer, object? value)
    {
        try
        {
            WriteBoxed(ref writer, value);
        }
        catch
        {
            ReleaseBoxedReferences();
            throw;
        }
        _boxedReferences?.Clear();
    }

    // WriteBoxedOrUndo for a reply: the exception, or null when the value was boxed.
    private Exception? TryWriteBoxed(ref BrineWriter writer, object? value)
    {
        try
        {
            WriteBoxedOrUndo(ref writer, value);
            return null;
        }
        catch (Exception ex)
        {
            return ex;
        }
    }

    private void ReleaseBoxedReferences()
    {
        if (_boxedReferences is null)
        {
            return;
        }
        foreach (object value in _boxedReferences)
        {
            if (LocalObjects.Release(value, 1) is IdPack released)
            {
                Observer?.LocalObjectReleased(this, released.NamePack, released.InstanceId);
            }
        }
        _boxedReferences.Clear();
    }

    // protocol.py _box: (LABEL_VALUE, v) | (LABEL_TUPLE, boxes) | (LABEL_LOCAL_REF, id) | (LABEL_REMOTE_REF, id),
    // written straight into the frame rather than built as tuples and then dumped (every request
    // and reply is boxed, so the tuples were most of a call's garbage).
    private void WriteBoxed(ref BrineWriter writer, object? value)
    {
        // What a call is made of, found by exact type before the general path's chains of type
        // tests (Normalize's includes an interface test, ITuple, that walks the type's interfaces):
        // a plain value, the peer's object a call is about, and the args tuple that starts with it.
        switch (value)
        {
            case string or long or int or bool or double or null:
                // Dumpable, and left alone by Normalize.
                writer.WriteTupleHeader(2);
                writer.WriteInt(BoxLabel.Value);
                writer.Write(value);
                return;
            case Netref netref when ReferenceEquals(netref.Connection, this):
                writer.WriteEncoded(netref.BoxedReferenceBrine);
                return;
            case PyTuple { Count: 0 }:
                // A call's args and kwargs when it has none: dumpable, and not worth Normalize's
                // interface test (twice a call).
                writer.WriteTupleHeader(2);
                writer.WriteInt(BoxLabel.Value);
                writer.WriteTupleHeader(0);
                return;
            case PyTuple { Count: > 0 } call when call[0] is Netref:
                // A netref is never dumpable, so neither is the tuple: boxed item by item.
                writer.WriteTupleHeader(2);
                WriteTupleBoxItems(ref writer, call);
                return;
        }
        // Normalize never makes a netref: this connection's were all written above.
        value = ValueConversions.Normalize(value);
        writer.WriteTupleHeader(2);
        if (BrineWriter.IsDumpable(value))
        {
            writer.WriteInt(BoxLabel.Value);
            writer.Write(value);
            return;
        }
        if (value is PyTuple tuple)
        {
            WriteTupleBoxItems(ref writer, tuple);
            return;
        }
        // Everything else lives here and is reached by reference: callbacks, lists, services.
        IdPack id = LocalObjects.Add(value!, out bool exported);
        (_boxedReferences ??= []).Add(value!);
        if (exported)
        {
            Observer?.LocalObjectExported(this, id.NamePack, id.InstanceId);
        }
        writer.WriteInt(BoxLabel.RemoteRef);
        writer.Write(id.ToTuple());
    }

    // LABEL_TUPLE and the boxes of a tuple that is not dumpable, after the box's own tuple header.
    private void WriteTupleBoxItems(ref BrineWriter writer, PyTuple tuple)
    {
        writer.WriteInt(BoxLabel.Tuple);
        writer.WriteTupleHeader(tuple.Count);
        foreach (object? item in tuple.AsSpan())
        {
            WriteBoxed(ref writer, item);
        }
    }

    // protocol.py _unbox
    internal object? Unbox(object? boxed)
    {
        if (boxed is not PyTuple { Count: 2 } box || box[0] is not long label)
        {
            throw ProtocolErrors.Message($"expected a box (label, value), got {PyValue.Repr(boxed)}");
        }
        switch (label)
        {
            case BoxLabel.Value:
                return box[1];
            case BoxLabel.Tuple:
                if (box[1] is not PyTuple items)
                {
                    throw ProtocolErrors.Message("LABEL_TUPLE without a tuple");
                }
                var values = new object?[items.Count];
                for (int i = 0; i < values.Length; i++)
                {
                    values[i] = Unbox(items[i]);
                }
                return PyTuple.Wrap(values);
            case BoxLabel.LocalRef:
                return LocalObjects.Get(IdPack.FromWire(box[1]));
            case BoxLabel.RemoteRef:
                return Netrefs.GetOrCreate(IdPack.FromWire(box[1]));
            default:
                throw ProtocolErrors.Message($"unknown box label {label}");
        }
    }
}

/// <summary>Maps .NET values that have a natural brine form onto it before boxing.</summary>
internal static class ValueConversions
{
    public static object? Normalize(object? value) => value switch
    {
        char c => c.ToString(),
        decimal d => (double)d,
        Enum e => Convert.ToInt64(e, System.Globalization.CultureInfo.InvariantCulture),
        // C# tuples travel as Python tuples: (1, "a") on this side is (1, 'a') on the other.
        ITuple t => ToPyTuple(t),
        _ => value,
    };

    private static PyTuple ToPyTuple(ITuple tuple)
    {
        var items = new object?[tuple.Length];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = Normalize(tuple[i]);
        }
        return PyTuple.Wrap(items);
    }
}
