using System.Collections;
using System.Dynamic;
using Rpyc.Protocol;

namespace Rpyc;

/// <summary>
/// A proxy for an object that lives on the peer. Use it through <c>dynamic</c>
/// (<c>root.add(1, 2)</c>, <c>obj.name</c>, <c>obj[0]</c>, <c>foreach</c>) or through the
/// non-dynamic methods (<see cref="GetAttr"/>, <see cref="CallMethod(string, object?[])"/>, <see cref="Call(object?[])"/>).
/// Disposing it, or letting it be collected, releases the peer's reference (<c>HANDLE_DEL</c>).
/// </summary>
/// <remarks>
/// Members of this class take precedence over remote attributes with the same name under
/// <c>dynamic</c>; Python names are snake_case, so only PascalCase names such as <c>Call</c>
/// are shadowed: reach such attributes with <see cref="GetAttr"/>. Dynamic results narrow ints to
/// <see cref="int"/> when they fit so that <c>int n = root.add(1, 2)</c> works; the non-dynamic
/// methods return <see cref="long"/> or <see cref="System.Numerics.BigInteger"/>.
/// </remarks>
public sealed partial class Netref : DynamicObject, IEnumerable<object?>, IDisposable
{
    private long _refCount = 1;
    private bool _released;

    internal Netref(RpycConnection connection, IdPack idPack)
    {
        Connection = connection;
        IdPack = idPack;
    }

    /// <summary>Releases the remote reference if the proxy was never disposed.</summary>
    ~Netref()
    {
        if (MarkReleased())
        {
            Connection.Netrefs.Forget(this, fromFinalizer: true);
        }
    }

    /// <summary>The connection this proxy belongs to.</summary>
    public RpycConnection Connection { get; }

    internal IdPack IdPack { get; }

    // (LABEL_LOCAL_REF, id_pack) as the peer expects it back, in brine: immutable, so dumped once
    // per proxy. Every call on the proxy sends it, and dumping it each time (the name_pack's UTF-8,
    // a Python id's fifteen decimal digits) was a sixth of a ping's client time.
    internal byte[] BoxedReferenceBrine => _boxedReferenceBrine ??= DumpBoxedReference(IdPack);

    private byte[]? _boxedReferenceBrine;

    // Written directly, in a buffer of about its size: a dump of the boxed tuple made two tuples
    // and a 256-byte buffer for some 40 bytes.
    private static byte[] DumpBoxedReference(IdPack id)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(32 + (id.NamePack.Length * 3));
        var writer = new Brine.BrineWriter(buffer);
        writer.WriteTupleHeader(2);
        writer.WriteInt(Protocol.BoxLabel.LocalRef);
        writer.WriteTupleHeader(3);
        writer.WriteString(id.NamePack);
        writer.WriteInt(id.ClassId);
        writer.WriteInt(id.InstanceId);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The remote type as <c>module.Class</c> (the id_pack's name_pack), e.g. <c>builtins.list</c>.</summary>
    public string RemoteTypeName => IdPack.NamePack;

    /// <summary>How many references the peer counted for this proxy; one DEL releases them all.</summary>
    internal long RefCount => Interlocked.Read(ref _refCount);

    internal bool IsReleased => Volatile.Read(ref _released);

    internal bool TryAddReference()
    {
        lock (this)
        {
            if (_released)
            {
                return false;
            }
            _refCount++;
            return true;
        }
    }

    private bool MarkReleased()
    {
        lock (this)
        {
            if (_released)
            {
                return false;
            }
            _released = true;
            return true;
        }
    }

    /// <summary>Releases the peer's reference now (<c>HANDLE_DEL</c> with the counted references).</summary>
    public void Dispose()
    {
        if (MarkReleased())
        {
            GC.SuppressFinalize(this);
            if (!Volatile.Read(ref _abandoned))
            {
                Connection.Netrefs.Forget(this, fromFinalizer: false);
                Connection.ReleaseNow(this);
            }
        }
    }

    // Set when the connection closed with this proxy unreleased: the peer dropped its table, so
    // neither Dispose nor a finalizer has anything left to release. The proxy stays usable in the
    // sense that a call fails as on any closed connection (RpycConnectionClosedException).
    private bool _abandoned;

    /// <summary>
    /// The connection closed: takes the proxy off the finalization queue (a proxy left to its
    /// finalizer survives a collection and is promoted; one root proxy per short connection made
    /// every gen-0 collection of a connect-call-close client a gen-1 one). False when it was
    /// already released or abandoned.
    /// </summary>
    internal bool Abandon()
    {
        lock (this)
        {
            if (_released || _abandoned)
            {
                return false;
            }
            _abandoned = true;
        }
        GC.SuppressFinalize(this);
        return true;
    }

    private void ThrowIfReleased()
    {
        if (IsReleased)
        {
            throw new ObjectDisposedException(nameof(Netref), $"The proxy for {IdPack.NamePack} was released.");
        }
    }

    private object? Request(HandlerId handler, PyTuple args)
    {
        ThrowIfReleased();
        Connection.Observer?.NetrefAccessed(Connection, IdPack.NamePack, IdPack.InstanceId);
        return Connection.SyncRequest(handler, args);
    }

    /// <summary>Reads an attribute (<c>HANDLE_GETATTR</c>).</summary>
    /// <param name="name">The attribute name as the peer spells it.</param>
    /// <returns>The value: a brine value, or a <see cref="Netref"/>.</returns>
    /// <exception cref="RpycRemoteException">The peer refused or lacks the attribute (<c>AttributeError</c>).</exception>
    public object? GetAttr(string name) => Request(HandlerId.GetAttr, new PyTuple(this, name));

    /// <summary>Sets an attribute (<c>HANDLE_SETATTR</c>); peers refuse it unless configured to allow it.</summary>
    /// <param name="name">The attribute name.</param>
    /// <param name="value">The new value.</param>
    /// <exception cref="RpycRemoteException">The peer refused.</exception>
    public void SetAttr(string name, object? value) => Request(HandlerId.SetAttr, new PyTuple(this, name, value));

    /// <summary>Calls a method in one round trip (<c>HANDLE_CALLATTR</c>).</summary>
    /// <param name="name">The method name.</param>
    /// <param name="args">Positional arguments.</param>
    /// <returns>The result.</returns>
    /// <exception cref="RpycRemoteException">The method raised.</exception>
    public object? CallMethod(string name, params object?[] args) =>
        Request(HandlerId.CallAttr, args.Length == 0 ? NoArgCall(name) : new PyTuple(this, name, PyTuple.Copy(args), PyTuple.Empty));

    // The request args of the last method called here without arguments, for the next such call of
    // the same name (a ping, an iterator's __next__, a getter): the tuple is immutable, and a new
    // one per call was 80 of a ping client's 136 bytes (see RpycConnection.Spare for what fresh
    // memory costs a short round trip). One slot, replaced whole: threads racing on it at worst
    // build a tuple each.
    private PyTuple? _noArgCall;

    private PyTuple NoArgCall(string name)
    {
        PyTuple? last = Volatile.Read(ref _noArgCall);
        if (last is not null && string.Equals((string?)last[1], name, StringComparison.Ordinal))
        {
            return last;
        }
        var call = new PyTuple(this, name, PyTuple.Empty, PyTuple.Empty);
        Volatile.Write(ref _noArgCall, call);
        return call;
    }

    /// <summary>Calls a method with keyword arguments in one round trip (<c>HANDLE_CALLATTR</c>).</summary>
    /// <param name="name">The method name.</param>
    /// <param name="args">Positional arguments.</param>
    /// <param name="kwargs">Keyword arguments.</param>
    /// <returns>The result.</returns>
    /// <exception cref="RpycRemoteException">The method raised.</exception>
    public object? CallMethod(string name, object?[] args, IEnumerable<KeyValuePair<string, object?>> kwargs) =>
        Request(HandlerId.CallAttr, new PyTuple(this, name, PyTuple.Copy(args), Kwargs(kwargs)));

    /// <summary>Calls the remote object itself (<c>HANDLE_CALL</c>), e.g. a function or a class.</summary>
    /// <param name="args">Positional arguments.</param>
    /// <returns>The result.</returns>
    /// <exception cref="RpycRemoteException">The call raised.</exception>
    public object? Call(params object?[] args) => Request(HandlerId.Call, new PyTuple(this, PyTuple.Copy(args), PyTuple.Empty));

    /// <summary>Calls the remote object with keyword arguments (<c>HANDLE_CALL</c>).</summary>
    /// <param name="args">Positional arguments.</param>
    /// <param name="kwargs">Keyword arguments.</param>
    /// <returns>The result.</returns>
    public object? Call(object?[] args, IEnumerable<KeyValuePair<string, object?>> kwargs) =>
        Request(HandlerId.Call, new PyTuple(this, PyTuple.Copy(args), Kwargs(kwargs)));

    /// <summary>Python <c>str(obj)</c> (<c>HANDLE_STR</c>).</summary>
    public string Str() => Request(HandlerId.Str, new PyTuple(this)) as string ?? "";

    /// <summary>Python <c>repr(obj)</c> (<c>HANDLE_REPR</c>).</summary>
    public string Repr() => Request(HandlerId.Repr, new PyTuple(this)) as string ?? "";

    /// <summary>Python <c>hash(obj)</c> (<c>HANDLE_HASH</c>).</summary>
    public object? Hash() => Request(HandlerId.Hash, new PyTuple(this));

    /// <summary>Python <c>dir(obj)</c> (<c>HANDLE_DIR</c>).</summary>
    public IReadOnlyList<string> Dir() =>
        (Request(HandlerId.Dir, new PyTuple(this)) as PyTuple ?? PyTuple.Empty).OfType<string>().ToArray();

    /// <summary>Python <c>len(obj)</c>.</summary>
    public long Len() => Request(HandlerId.CallAttr, new PyTuple(this, "__len__", PyTuple.Empty, PyTuple.Empty)) switch
    {
        long n => n,
        var other => throw new RpycProtocolException($"Malformed message: __len__ returned {PyValue.Repr(other)}."),
    };

    /// <summary>Python <c>obj[key]</c>.</summary>
    /// <param name="key">The key or index.</param>
    public object? GetItem(object? key) => CallMethod("__getitem__", key);

    /// <summary>Python <c>obj[key] = value</c>.</summary>
    /// <param name="key">The key or index.</param>
    /// <param name="value">The value.</param>
    public void SetItem(object? key, object? value) => CallMethod("__setitem__", key, value);

    /// <summary>Python <c>obj == other</c> on the peer (<c>HANDLE_CMP</c> with <c>__eq__</c>).</summary>
    /// <param name="other">The other operand.</param>
    public object? PyEquals(object? other) => Compare(other, "__eq__");

    private object? Compare(object? other, string op) => Request(HandlerId.Cmp, new PyTuple(this, other, op));

    /// <summary>Iterates the remote object: one <c>__iter__</c>, then one <c>__next__</c> round trip per item.</summary>
    public IEnumerator<object?> GetEnumerator()
    {
        object? iterator = CallMethod("__iter__");
        if (iterator is not Netref remoteIterator)
        {
            // A peer may answer __iter__ with a value (a .NET service returning a tuple, say).
            foreach (object? item in iterator as IEnumerable<object?> ?? [])
            {
                yield return item;
            }
            yield break;
        }
        try
        {
            while (true)
            {
                object? item;
                try
                {
                    item = remoteIterator.CallMethod("__next__");
                }
                catch (RpycRemoteException ex) when (ex.RemoteTypeName == "builtins.StopIteration")
                {
                    yield break;
                }
                yield return item;
            }
        }
        finally
        {
            if (!ReferenceEquals(remoteIterator, this))
            {
                remoteIterator.Dispose();
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Python <c>str(obj)</c>; never throws (a closed connection gives a placeholder).</summary>
    public override string ToString()
    {
        try
        {
            return Str();
        }
        catch (Exception ex) when (ex is RpycException or ObjectDisposedException)
        {
            return $"<netref {IdPack.NamePack} ({ex.GetType().Name})>";
        }
    }

    /// <summary>Identity: two proxies are equal when they name the same remote object on the same connection. Use <see cref="PyEquals"/> for Python equality.</summary>
    /// <param name="obj">The other object.</param>
    public override bool Equals(object? obj) => obj is Netref other && ReferenceEquals(other.Connection, Connection) && other.IdPack == IdPack;

    /// <summary>Hash of the identity, consistent with <see cref="Equals(object?)"/>; no round trip.</summary>
    public override int GetHashCode() => IdPack.GetHashCode();

    private static PyTuple Kwargs(IEnumerable<KeyValuePair<string, object?>> kwargs) =>
        PyTuple.From(kwargs.Select(kv => (object?)new PyTuple(kv.Key, kv.Value)));
}
