using System.Diagnostics;
using Rpyc.Protocol;
using Rpyc.Telemetry;

namespace Rpyc.Profiling.Wire;

/// <summary>
/// Builds the telemetry of relayed connections from their decoded messages: requests matched with
/// replies by (direction, seq), nesting from what is pending the other way, netrefs from boxed
/// references (protocol.py _box: LABEL_REMOTE_REF makes the receiver a proxy) and DEL requests.
/// One lock: the relay calls it after forwarding, so it never delays a byte.
/// </summary>
internal sealed partial class WireRecorder
{
    private const int Client = 0;
    private const int Server = 1;

    private readonly object _lock = new();
    private readonly RpycWireProxyOptions _options;
    private readonly long _slowTicks;
    private readonly long _startTimestamp = Stopwatch.GetTimestamp();
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private readonly List<ConnectionState> _connections = [];
    private readonly List<WireCall> _calls = [];
    // The slowest calls over the threshold, at most MaxRecords: the fastest of them on top.
    private readonly PriorityQueue<WireCall, long> _slow = new();
    private readonly Dictionary<string, long>[] _byHandler = [new(StringComparer.Ordinal), new(StringComparer.Ordinal)];
    private readonly Dictionary<(string Type, int Holder), long> _createdByType = [];
    private readonly long[] _created = new long[2];
    private readonly long[] _released = new long[2];
    // Every round trip's relay time, whatever MaxRecords: the calls kept stop at it, the figures must not.
    private readonly TickHistogram _relayTicks = new();
    private readonly List<WireMessage> _scratch = [];
    private int _nextCallId;
    private long _callsDropped;
    private long _slowCalls;
    private long _roundTrips;
    private long _oneWay;
    private long _callbacks;
    private long _bytesSent;
    private long _bytesReceived;
    private long _roundTripTicks;
    private int _maxDepth;

    public WireRecorder(RpycWireProxyOptions options)
    {
        _options = options;
        _slowTicks = (long)(options.SlowCallThreshold.TotalSeconds * Stopwatch.Frequency);
    }

    public RpycWireProxyOptions Options => _options;

    public ConnectionState Open(string peer)
    {
        lock (_lock)
        {
            var connection = new ConnectionState(_connections.Count + 1, peer, Stopwatch.GetTimestamp());
            _connections.Add(connection);
            return connection;
        }
    }

    public void Closed(ConnectionState connection, string? connectError = null)
    {
        lock (_lock)
        {
            connection.ClosedTimestamp = Stopwatch.GetTimestamp();
            connection.ConnectError ??= connectError;
            // No reply can come now: the record keeps how many were awaited, not the requests.
            for (int side = 0; side < 2; side++)
            {
                connection.UnansweredAtClose[side] = connection.Pending[side].Values.Count(p => !p.IsOneWay);
                connection.Pending[side].Clear();
                connection.PendingOrder[side].Clear();
            }
            connection.Open.Clear();
            // No request can come now either: the replies still waiting for one are counted, not kept.
            for (int side = 0; side < 2; side++)
            {
                connection.UnmatchedAtClose += connection.EarlyReplies[side].Count;
                connection.EarlyReplies[side].Clear();
            }
            // No more bytes will come: the record of a closed connection keeps no frame buffers.
            foreach (WireFrameDecoder decoder in connection.Decoders)
            {
                decoder.Release();
            }
        }
    }

    /// <summary>
    /// Bytes the relay received from <paramref name="sender"/> at <paramref name="timestamp"/>, recorded
    /// before it forwards them (then <see cref="OnForwarded"/>). Recorded after, a reply could be
    /// recorded after the request its receiver sent in answer to it (the other direction's pump won
    /// the race): that request's call then missed the name its getattr reply gave its target
    /// ("method()" for "add()"), and a DEL could come before the proxy it releases.
    /// </summary>
    public void OnData(ConnectionState connection, WireDirection sender, ReadOnlySpan<byte> data, long timestamp)
    {
        lock (_lock)
        {
            int from = sender == WireDirection.ClientToServer ? Client : Server;
            _scratch.Clear();
            bool decoding = connection.Decoders[from].Error is null;
            connection.Decoders[from].Feed(data, _scratch);
            foreach (WireMessage message in _scratch)
            {
                if (from == Client)
                {
                    _bytesSent += message.FrameBytes;
                    connection.BytesSent += message.FrameBytes;
                }
                else
                {
                    _bytesReceived += message.FrameBytes;
                    connection.BytesReceived += message.FrameBytes;
                }
                if (message.Kind == MessageKind.Request)
                {
                    OnRequest(connection, from, message, timestamp);
                }
                else
                {
                    OnReply(connection, from, message, timestamp);
                }
            }
            if (decoding && connection.Decoders[from].Error is not null)
            {
                // The replies to the other side's requests are no longer decoded: none will match.
                while (connection.Pending[1 - from].Count > 0)
                {
                    GiveUpOldest(connection, 1 - from);
                }
            }
        }
    }

    /// <summary>The bytes of the last <see cref="OnData"/> from <paramref name="sender"/> were forwarded in <paramref name="forwardTicks"/>.</summary>
    public void OnForwarded(ConnectionState connection, WireDirection sender, long forwardTicks)
    {
        lock (_lock)
        {
            int from = sender == WireDirection.ClientToServer ? Client : Server;
            foreach ((WireCall call, bool isReply) in connection.AwaitingForward[from])
            {
                if (!isReply)
                {
                    call.RequestForwardTicks = forwardTicks;
                    continue;
                }
                long relay = call.RequestForwardTicks + forwardTicks;
                call.RelayTime = Stopwatch.GetElapsedTime(0, relay);
                _relayTicks.Add(relay);
            }
            connection.AwaitingForward[from].Clear();
        }
    }

    private void OnRequest(ConnectionState connection, int from, in WireMessage message, long timestamp)
    {
        string handlerName;
        HandlerId handler = 0;
        object? boxed = null;
        if (message.Args is PyTuple { Count: 2 } args && args[0] is long code)
        {
            handler = (HandlerId)code;
            handlerName = HandlerNames.Of(handler);
            boxed = args[1];
        }
        else
        {
            handlerName = "malformed";
        }
        var call = new WireCall(++_nextCallId, connection.Id, from == Client ? WireDirection.ClientToServer : WireDirection.ServerToClient, message.Seq, handlerName, timestamp)
        {
            RequestBytes = message.FrameBytes,
            IsOneWay = handler is HandlerId.Del or HandlerId.Close,
        };
        connection.AwaitingForward[from].Add((call, false));
        // The object the request is about: the first argument, a reference to the receiver's object.
        IReadOnlyList<object?> items = BoxedItems(boxed);
        if (items.Count > 0)
        {
            IdPack? target = RefOf(items[0]) ?? (handler == HandlerId.Inspect ? TryIdPack(Unbox(items[0])) : null);
            if (target is { } id)
            {
                call.TargetId = id;
                call.Target = id.NamePack;
                if (handler == HandlerId.Call && connection.AttributeNames[from].TryGetValue(id, out (string Name, string? Owner) attribute))
                {
                    call.Name = attribute.Name;
                    call.NameOwner = attribute.Owner;
                }
            }
        }
        if (handler is HandlerId.GetAttr or HandlerId.SetAttr or HandlerId.DelAttr or HandlerId.CallAttr && items.Count > 1)
        {
            call.Name = Unbox(items[1]) switch
            {
                string s => s,
                byte[] b => System.Text.Encoding.UTF8.GetString(b),
                _ => null,
            };
        }
        call.PayloadBytes = PayloadBytes(boxed);
        // References the sender boxes become proxies on the receiving side.
        ExportedBy(connection, from, boxed, call);
        if (handler == HandlerId.Del && call.TargetId is { } released)
        {
            // The sender of a DEL releases its own proxy of the receiver's object.
            _released[from]++;
            connection.Released[from]++;
            connection.Held[from].Remove(released);
            // The proxy is gone: its name would pile up, one per method fetched, for as long as the
            // connection runs (a .NET peer never reuses an id), or label another object Python gave its id.
            connection.AttributeNames[from].Remove(released);
        }

        Dictionary<string, long> counts = _byHandler[from];
        counts[handlerName] = counts.GetValueOrDefault(handlerName) + 1;
        if (from == Client)
        {
            if (call.IsOneWay)
            {
                _oneWay++;
                connection.OneWay++;
            }
        }
        else
        {
            _callbacks++;
            connection.Callbacks++;
        }

        // Nested in the newest call pending the other way: the peer is waiting for it.
        for (int i = connection.Open.Count - 1; i >= 0; i--)
        {
            WireCall open = connection.Open[i];
            if (open.Direction != call.Direction)
            {
                call.ParentId = open.Id;
                call.Depth = open.Depth + 1;
                break;
            }
        }
        _maxDepth = Math.Max(_maxDepth, call.Depth);
        connection.MaxDepth = Math.Max(connection.MaxDepth, call.Depth);
        if (connection.Decoders[1 - from].Error is not null)
        {
            // Its reply would come in the direction no longer decoded: it would be awaited forever.
            connection.GivenUp[from]++;
        }
        else
        {
            connection.Pending[from][message.Seq] = call;
            connection.PendingOrder[from].Enqueue(call);
            if (!call.IsOneWay)
            {
                connection.Open.Add(call);
            }
            if (connection.Pending[from].Count > _options.MaxPendingRequests)
            {
                GiveUpOldest(connection, from);
            }
        }
        if (_calls.Count < _options.MaxRecords)
        {
            _calls.Add(call);
        }
        else
        {
            _callsDropped++;
        }
        if (connection.EarlyReplies[from].Remove(message.Seq, out (WireMessage Message, long Timestamp) early))
        {
            OnReply(connection, 1 - from, early.Message, early.Timestamp);
        }
    }

    private void OnReply(ConnectionState connection, int from, in WireMessage message, long timestamp)
    {
        int requester = 1 - from;
        if (!connection.Pending[requester].Remove(message.Seq, out WireCall? call))
        {
            if (connection.Decoders[requester].Error is not null || connection.GivenUp[requester] > 0)
            {
                // The requests of that side are no longer decoded (this one was never seen and never
                // will be), or some were given up (this may answer one). Counted, not kept: a reply
                // can carry megabytes, one per call.
                connection.RepliesToUndecoded++;
                return;
            }
            // A request is recorded before it is forwarded, so its reply cannot come first; a reply
            // that matches no request waits here in case (rpyc never reuses a seq on a connection).
            // What is left at the report matched nothing. At most MaxPendingRequests wait per side: a
            // peer answering requests never made would otherwise fill the relay for the connection's life.
            Dictionary<long, (WireMessage Message, long Timestamp)> early = connection.EarlyReplies[requester];
            if (early.Count < _options.MaxPendingRequests || early.ContainsKey(message.Seq))
            {
                early[message.Seq] = (message, timestamp);
            }
            else
            {
                connection.EarlyRepliesDropped++;
            }
            return;
        }
        call.EndTimestamp = timestamp;
        call.ReplyBytes = message.FrameBytes;
        connection.Open.Remove(call);
        // Answered calls stay in the order queue until met at its head: rebuilt once they outnumber
        // the awaited ones, so it stays within twice the pending count (amortized O(1) per reply).
        Queue<WireCall> order = connection.PendingOrder[requester];
        if (order.Count > 2 * connection.Pending[requester].Count + 64)
        {
            WireCall[] awaited = [.. order.Where(c => IsPending(connection, requester, c))];
            order.Clear();
            foreach (WireCall c in awaited)
            {
                order.Enqueue(c);
            }
        }
        if (message.Kind == MessageKind.Exception)
        {
            call.Error = DescribeException(message.Args);
        }
        else
        {
            call.PayloadBytes += PayloadBytes(message.Args);
            IdPack? returned = ExportedBy(connection, from, message.Args, call);
            call.ReturnedId = returned ?? call.ReturnedId;
            if (returned is { } id && call.Handler == "getattr" && call.Name is not null)
            {
                connection.AttributeNames[requester][id] = (call.Name, call.Target);
            }
        }
        if (call.IsOneWay)
        {
            return;
        }
        long ticks = timestamp - call.StartTimestamp;
        if (requester == Client)
        {
            _roundTrips++;
            connection.RoundTrips++;
            _roundTripTicks += ticks;
        }
        // Its relay time is known once the reply is forwarded (OnForwarded).
        connection.AwaitingForward[from].Add((call, true));
        if (ticks >= _slowTicks)
        {
            KeepSlow(call, ticks);
        }
    }

    // The oldest request of the sender still awaited is no longer: counted, its call kept only in the timelines.
    private static void GiveUpOldest(ConnectionState connection, int sender)
    {
        while (connection.PendingOrder[sender].TryDequeue(out WireCall? oldest))
        {
            if (IsPending(connection, sender, oldest))
            {
                connection.Pending[sender].Remove(oldest.Seq);
                connection.Open.Remove(oldest);
                connection.GivenUp[sender]++;
                return;
            }
        }
    }

    private static bool IsPending(ConnectionState connection, int sender, WireCall call) =>
        connection.Pending[sender].TryGetValue(call.Seq, out WireCall? pending) && ReferenceEquals(pending, call);

    // Every slow call is counted, the slowest MaxRecords kept: a relay left running with a low
    // threshold (--slow-ms 0 makes every round trip slow) would otherwise keep them all.
    private void KeepSlow(WireCall call, long ticks)
    {
        _slowCalls++;
        if (_slow.Count < _options.MaxRecords)
        {
            _slow.Enqueue(call, ticks);
        }
        else if (_slow.Count > 0)
        {
            _slow.EnqueueDequeue(call, ticks);
        }
    }

    // Walks a boxed value for LABEL_REMOTE_REF: each reference the receiver holds no proxy for makes one.
    // Returns the first reference (what a getattr or call returned).
    private IdPack? ExportedBy(ConnectionState connection, int sender, object? boxed, WireCall call)
    {
        int holder = 1 - sender;
        IdPack? first = null;
        Visit(boxed, 0);
        return first;

        void Visit(object? box, int depth)
        {
            if (box is not PyTuple { Count: 2 } t || t[0] is not long label || depth > 64)
            {
                return;
            }
            if (label == BoxLabel.Tuple && t[1] is PyTuple items)
            {
                foreach (object? item in items)
                {
                    Visit(item, depth + 1);
                }
            }
            else if (label == BoxLabel.RemoteRef && TryIdPack(t[1]) is { } id)
            {
                first ??= id;
                if (connection.Held[holder].TryAdd(id, call.Handler == "getroot"))
                {
                    _created[holder]++;
                    connection.Created[holder]++;
                    _createdByType[(id.NamePack, holder)] = _createdByType.GetValueOrDefault((id.NamePack, holder)) + 1;
                    call.ReturnedId ??= id;
                    call.ReturnedNetref ??= id.NamePack;
                }
            }
        }
    }

    // protocol.py _box: (LABEL_TUPLE, (box, ...)) for the argument tuple of a request.
    private static IReadOnlyList<object?> BoxedItems(object? boxed) =>
        boxed is PyTuple { Count: 2 } t && t[0] is long label && label == BoxLabel.Tuple && t[1] is PyTuple items ? items : [];

    private static IdPack? RefOf(object? box) =>
        box is PyTuple { Count: 2 } t && t[0] is long label && label is BoxLabel.LocalRef or BoxLabel.RemoteRef ? TryIdPack(t[1]) : null;

    // A plain value of a box (LABEL_VALUE, or a LABEL_TUPLE of plain values), or null.
    private static object? Unbox(object? box)
    {
        if (box is not PyTuple { Count: 2 } t || t[0] is not long label)
        {
            return null;
        }
        if (label == BoxLabel.Value)
        {
            return t[1];
        }
        if (label == BoxLabel.Tuple && t[1] is PyTuple items)
        {
            var values = new object?[items.Count];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = Unbox(items[i]);
            }
            return new PyTuple(values);
        }
        return null;
    }

    private static IdPack? TryIdPack(object? value)
    {
        if (value is PyTuple { Count: 3 } t && t[1] is long && t[2] is long && t[0] is string or byte[])
        {
            return IdPack.FromWire(value);
        }
        return null;
    }

    // The bytes a transfer carries: str and bytes values in the boxed arguments or reply (references are not data).
    private static long PayloadBytes(object? box)
    {
        long total = 0;
        VisitBox(box, 0);
        return total;

        void VisitBox(object? value, int depth)
        {
            if (depth > 64 || value is not PyTuple { Count: 2 } t || t[0] is not long label)
            {
                return;
            }
            if (label == BoxLabel.Value)
            {
                VisitValue(t[1], depth + 1);
            }
            else if (label == BoxLabel.Tuple && t[1] is PyTuple items)
            {
                foreach (object? item in items)
                {
                    VisitBox(item, depth + 1);
                }
            }
        }

        void VisitValue(object? value, int depth)
        {
            switch (value)
            {
                case byte[] b:
                    total += b.Length;
                    break;
                case string s:
                    total += System.Text.Encoding.UTF8.GetByteCount(s);
                    break;
                case PyTuple t when depth < 64:
                    foreach (object? item in t)
                    {
                        VisitValue(item, depth + 1);
                    }
                    break;
            }
        }
    }

    private static string DescribeException(object? payload)
    {
        try
        {
            return Vinegar.Load(payload) switch
            {
                RpycRemoteException { RemoteArgs.Count: > 0 } remote => $"{remote.RemoteTypeName}: {PyValue.Str(remote.RemoteArgs[0])}",
                RpycRemoteException remote => remote.RemoteTypeName,
                Exception other => other.Message,
            };
        }
        catch (RpycProtocolException)
        {
            return "an exception the relay could not decode";
        }
    }

    internal sealed class ConnectionState(int id, string peer, long openedTimestamp)
    {
        public int Id => id;

        public string Peer => peer;

        public long OpenedTimestamp => openedTimestamp;

        public long ClosedTimestamp;

        public string? ConnectError;

        public readonly WireFrameDecoder[] Decoders = [new(), new()];

        // Requests awaiting their reply, by sender and seq: at most MaxPendingRequests each.
        public readonly Dictionary<long, WireCall>[] Pending = [new(), new()];

        // The same by sender, oldest first, with answered ones not yet dropped (see GiveUpOldest).
        public readonly Queue<WireCall>[] PendingOrder = [new(), new()];

        // Requests no longer awaited, by sender (see RpycWireProxyOptions.MaxPendingRequests).
        public readonly long[] GivenUp = new long[2];

        // Requests (one-way ones apart) still awaited when the connection closed, by sender.
        public readonly long[] UnansweredAtClose = new long[2];

        // Round trips in progress, both ways, oldest first.
        public readonly List<WireCall> Open = [];

        // Replies that matched no request, by the requester and seq: at most MaxPendingRequests each.
        public readonly Dictionary<long, (WireMessage Message, long Timestamp)>[] EarlyReplies = [new(), new()];

        // Replies that matched no request and were not kept: MaxPendingRequests of their side waited already.
        public long EarlyRepliesDropped;

        // Replies still waiting for their request when the connection closed.
        public long UnmatchedAtClose;

        // Replies to requests of a direction whose decoding stopped (see WireFrameDecoder.Error), or
        // that matched nothing once requests of that direction were given up.
        public long RepliesToUndecoded;

        // Calls whose request (false) or reply (true) is in the bytes being forwarded, by sender.
        public readonly List<(WireCall Call, bool IsReply)>[] AwaitingForward = [[], []];

        // Proxies alive on each side (value: is the root), by the id_pack of the peer's object.
        public readonly Dictionary<IdPack, bool>[] Held = [new(), new()];

        // For each holder, the attribute whose getattr returned a proxy: a later CALL on it gets that name.
        public readonly Dictionary<IdPack, (string Name, string? Owner)>[] AttributeNames = [new(), new()];

        public readonly long[] Created = new long[2];
        public readonly long[] Released = new long[2];
        public long RoundTrips;
        public long OneWay;
        public long Callbacks;
        public long BytesSent;
        public long BytesReceived;
        public int MaxDepth;
    }
}
