using System.Diagnostics;
using Rpyc.Protocol;
using Rpyc.Telemetry;

namespace Rpyc;

public sealed partial class RpycTelemetry
{
    // The open operations of this thread, innermost first, linked through CallRecord.StackNext.
    // Shared by every telemetry: each one only looks at its own records.
    [ThreadStatic]
    private static CallRecord? t_top;

    // The proxy a request is about to go through: Netref reports the access just before the
    // connection starts the request on the same thread.
    [ThreadStatic]
    private static NetrefInfo? t_accessed;

    [ThreadStatic]
    private static TelemetryObserver? t_accessedVia;

    internal CallRecord? OnRequestStarting(TelemetryObserver source, HandlerId handler, string? target, string? name, bool sync)
    {
        NetrefInfo? via = null;
        if (t_accessedVia is not null)
        {
            via = ReferenceEquals(t_accessedVia, source) && t_accessed?.TypeName == target ? t_accessed : null;
            t_accessedVia = null;
            t_accessed = null;
        }
        string handlerName = HandlerNames.Of(handler);
        Activity? activity = sync && _options.EmitActivities ? StartActivity(ActivityKind.Client, handlerName, target, name, source) : null;
        if (!_options.Enabled)
        {
            return activity is null && !MetricsOn ? null : new CallRecord(this, 0, null, CallDirection.Outgoing, handlerName, target, name, sync, source, null, Stopwatch.GetTimestamp())
            {
                Activity = activity,
            };
        }
        if (handler == HandlerId.GetRoot)
        {
            source.SetRootPending(true);
        }
        TelemetryState state = _state;
        TelemetrySection? section = Volatile.Read(ref _openSections) > 0 ? InnermostSection() : null;
        long id = state.Log.Claim(out bool kept);
        var record = new CallRecord(this, id, CurrentOpen(state), CallDirection.Outgoing, handlerName, target, name, sync, source, section?.Name, Stopwatch.GetTimestamp())
        {
            Activity = activity,
            SectionScope = section,
            State = state,
        };
        if (kept && _options.CaptureCallSites)
        {
            (record.CallSite, record.Stack) = CallSites.Capture(_options.CaptureStacks);
        }
        if (via is not null)
        {
            record.TargetNetrefId = via.Id;
            record.TargetCreatedTimestamp = via.CreatedTimestamp;
            via.Classify(handler is HandlerId.CallAttr or HandlerId.Call);
        }
        Interlocked.Increment(ref state.TotalCalls);
        TrackDepth(state, record);
        for (TelemetrySection? s = section; s is not null; s = s.Parent)
        {
            if (ReferenceEquals(s.Owner, this))
            {
                s.AddCall();
            }
        }
        if (kept)
        {
            state.Log.Publish(id, record);
            KeepPeerName(source, state);
        }
        if (sync)
        {
            // One-way messages complete at once and never have children: they stay off the stack.
            Push(record);
        }
        return record;
    }

    internal void OnRequestSent(CallRecord record, int frameBytes)
    {
        record.RequestBytes = frameBytes;
        record.MarkSent(Stopwatch.GetTimestamp());
        if (MetricsOn)
        {
            var tag = new KeyValuePair<string, object?>(RpycInstrumentation.HandlerTag, record.Handler);
            (record.IsRoundTrip ? RpycInstrumentation.RoundTrips : RpycInstrumentation.OneWayMessages).Add(1, tag);
            RpycInstrumentation.BytesSent.Add(frameBytes);
        }
        if (record.State is not { } state)
        {
            return;
        }
        Interlocked.Increment(ref record.IsRoundTrip ? ref state.RoundTrips : ref state.OneWayMessages);
        Interlocked.Add(ref state.BytesSent, frameBytes);
        for (TelemetrySection? s = record.SectionScope; s is not null; s = s.Parent)
        {
            if (ReferenceEquals(s.Owner, this))
            {
                s.AddSent(record.IsRoundTrip, frameBytes);
            }
        }
    }

    internal void OnRequestCompleted(CallRecord record, long replyBytes, bool createdNetref, Exception? error)
    {
        long now = Stopwatch.GetTimestamp();
        record.ReplyBytes = replyBytes;
        record.CreatedNetref = createdNetref;
        if (error is not null)
        {
            record.Error = Describe(error);
        }
        record.MarkCompleted(now);
        if (record.IsRoundTrip && MetricsOn)
        {
            RpycInstrumentation.BytesReceived.Add(replyBytes);
            RpycInstrumentation.CallDuration.Record(
                Stopwatch.GetElapsedTime(record.CreatedTimestamp, now).TotalSeconds,
                new KeyValuePair<string, object?>(RpycInstrumentation.HandlerTag, record.Handler),
                new KeyValuePair<string, object?>(RpycInstrumentation.DirectionTag, "client"));
        }
        StopActivity(record, error);
        if (record.State is not { } state)
        {
            return;
        }
        if (record.Handler == "getroot")
        {
            record.Source.SetRootPending(false);
        }
        Interlocked.Add(ref state.BytesReceived, replyBytes);
        if (record.IsRoundTrip)
        {
            Interlocked.Add(ref state.RoundTripTicks, now - record.CreatedTimestamp);
        }
        Finish(state, record, error, now);
        for (TelemetrySection? s = record.SectionScope; s is not null; s = s.Parent)
        {
            if (ReferenceEquals(s.Owner, this))
            {
                s.AddReceived(replyBytes);
            }
        }
        if (record.IsRoundTrip)
        {
            Pop();
        }
    }

    internal CallRecord? OnIncomingStarting(TelemetryObserver source, HandlerId handler, string? target, string? name, long frameBytes)
    {
        string handlerName = HandlerNames.Of(handler);
        Activity? activity = _options.EmitActivities ? StartActivity(ActivityKind.Server, handlerName, target, name, source) : null;
        if (MetricsOn)
        {
            RpycInstrumentation.IncomingRequests.Add(1, new KeyValuePair<string, object?>(RpycInstrumentation.HandlerTag, handlerName));
            RpycInstrumentation.BytesReceived.Add(frameBytes);
        }
        if (!_options.Enabled)
        {
            return activity is null && !MetricsOn ? null : new CallRecord(this, 0, null, CallDirection.Incoming, handlerName, target, name, false, source, null, Stopwatch.GetTimestamp())
            {
                Activity = activity,
                RequestBytes = frameBytes,
            };
        }
        TelemetryState state = _state;
        TelemetrySection? section = Volatile.Read(ref _openSections) > 0 ? InnermostSection() : null;
        long id = state.Log.Claim(out bool kept);
        var record = new CallRecord(this, id, CurrentOpen(state), CallDirection.Incoming, handlerName, target, name, false, source, section?.Name, Stopwatch.GetTimestamp())
        {
            Activity = activity,
            SectionScope = section,
            State = state,
            RequestBytes = frameBytes,
        };
        Interlocked.Increment(ref state.TotalCalls);
        Interlocked.Increment(ref state.IncomingRequests);
        Interlocked.Add(ref state.BytesReceived, frameBytes);
        TrackDepth(state, record);
        for (TelemetrySection? s = section; s is not null; s = s.Parent)
        {
            if (ReferenceEquals(s.Owner, this))
            {
                s.AddCall();
                s.AddIncoming(frameBytes);
            }
        }
        if (kept)
        {
            state.Log.Publish(id, record);
            KeepPeerName(source, state);
        }
        Push(record);
        return record;
    }

    internal void OnIncomingCompleted(TelemetryObserver source, CallRecord? record, int replyBytes, Exception? error)
    {
        long now = Stopwatch.GetTimestamp();
        if (MetricsOn)
        {
            RpycInstrumentation.BytesSent.Add(replyBytes);
            if (record is not null)
            {
                RpycInstrumentation.CallDuration.Record(
                    Stopwatch.GetElapsedTime(record.CreatedTimestamp, now).TotalSeconds,
                    new KeyValuePair<string, object?>(RpycInstrumentation.HandlerTag, record.Handler),
                    new KeyValuePair<string, object?>(RpycInstrumentation.DirectionTag, "server"));
            }
        }
        if (record is null)
        {
            // The peer's request could not even be decoded: only the error reply is known.
            if (_options.Enabled)
            {
                TelemetryState current = _state;
                Interlocked.Increment(ref current.TotalCalls);
                Interlocked.Increment(ref current.IncomingRequests);
                Interlocked.Increment(ref current.Errors);
                Interlocked.Add(ref current.BytesSent, replyBytes);
            }
            return;
        }
        record.ReplyBytes = replyBytes;
        if (error is not null)
        {
            record.Error = Describe(error);
        }
        record.MarkSent(now);
        record.MarkCompleted(now);
        StopActivity(record, error);
        if (record.State is not { } state)
        {
            return;
        }
        Interlocked.Add(ref state.BytesSent, replyBytes);
        Finish(state, record, error, now);
        for (TelemetrySection? s = record.SectionScope; s is not null; s = s.Parent)
        {
            if (ReferenceEquals(s.Owner, this))
            {
                s.AddSentBytes(replyBytes);
            }
        }
        Pop();
    }

    internal void OnUnmatchedReply(long frameBytes)
    {
        if (MetricsOn)
        {
            RpycInstrumentation.BytesReceived.Add(frameBytes);
        }
        if (_options.Enabled)
        {
            TelemetryState state = _state;
            Interlocked.Increment(ref state.UnmatchedReplies);
            Interlocked.Add(ref state.UnmatchedReplyBytes, frameBytes);
            Interlocked.Add(ref state.BytesReceived, frameBytes);
        }
    }

    internal void OnNetrefCreated(TelemetryObserver source, string typeName, long instanceId)
    {
        if (MetricsOn)
        {
            RpycInstrumentation.NetrefsCreated.Add(1);
        }
        if (!_options.Enabled)
        {
            return;
        }
        TelemetryState state = _state;
        Interlocked.Increment(ref state.NetrefsCreated);
        Interlocked.Increment(ref source.AliveProxies);
        bool isRoot = source.TakeRootPending();
        ForEachOpenSection(static s => s.AddNetrefCreated());
        if (_options.TrackNetrefs)
        {
            NetrefInfo info = NewNetref(state, NetrefSide.Proxy, source, typeName, instanceId, isRoot);
            state.AliveProxies.Add(new NetrefKey(source.ConnectionId, typeName, instanceId), info);
        }
    }

    internal void OnNetrefAccessed(TelemetryObserver source, string typeName, long instanceId)
    {
        if (!_options.Enabled)
        {
            return;
        }
        TelemetryState state = _state;
        Interlocked.Increment(ref state.NetrefAccesses);
        if (_options.TrackNetrefs && state.AliveProxies.Newest(new NetrefKey(source.ConnectionId, typeName, instanceId)) is { } info)
        {
            info.Accessed();
            t_accessed = info;
            t_accessedVia = source;
        }
    }

    internal void OnNetrefReleased(TelemetryObserver source, string typeName, long instanceId)
    {
        if (MetricsOn)
        {
            RpycInstrumentation.NetrefsReleased.Add(1);
        }
        if (!_options.Enabled)
        {
            return;
        }
        TelemetryState state = _state;
        if (TakeAlive(ref source.AliveProxies))
        {
            Interlocked.Increment(ref state.NetrefsReleased);
            ForEachOpenSection(static s => s.AddNetrefReleased());
        }
        if (_options.TrackNetrefs && state.AliveProxies.RemoveOldest(new NetrefKey(source.ConnectionId, typeName, instanceId)) is { } info)
        {
            info.Released(Stopwatch.GetTimestamp());
        }
    }

    internal void OnLocalObjectExported(TelemetryObserver source, string typeName, long instanceId)
    {
        if (!_options.Enabled)
        {
            return;
        }
        TelemetryState state = _state;
        Interlocked.Increment(ref state.ObjectsExported);
        Interlocked.Increment(ref source.AliveExports);
        if (_options.TrackNetrefs)
        {
            NetrefInfo info = NewNetref(state, NetrefSide.Exported, source, typeName, instanceId, isRoot: false);
            state.AliveExports.Add(new NetrefKey(source.ConnectionId, typeName, instanceId), info);
        }
    }

    internal void OnLocalObjectReleased(TelemetryObserver source, string typeName, long instanceId)
    {
        if (!_options.Enabled)
        {
            return;
        }
        TelemetryState state = _state;
        if (TakeAlive(ref source.AliveExports))
        {
            Interlocked.Increment(ref state.ObjectsReleased);
        }
        if (_options.TrackNetrefs && state.AliveExports.RemoveOldest(new NetrefKey(source.ConnectionId, typeName, instanceId)) is { } info)
        {
            info.Released(Stopwatch.GetTimestamp());
        }
    }

    // A proxy or export made before the telemetry was attached, or before a Reset, was not counted
    // as created, so its release is not counted either: released never exceeds created, and the
    // active count never goes below zero. Decrements the connection's alive count if it is positive.
    private static bool TakeAlive(ref long alive)
    {
        long seen = Volatile.Read(ref alive);
        while (seen > 0)
        {
            long before = Interlocked.CompareExchange(ref alive, seen - 1, seen);
            if (before == seen)
            {
                return true;
            }
            seen = before;
        }
        return false;
    }

    private NetrefInfo NewNetref(TelemetryState state, NetrefSide side, TelemetryObserver source, string typeName, long instanceId, bool isRoot)
    {
        long id = Interlocked.Increment(ref state.NetrefIds);
        var info = new NetrefInfo(id, side, source.ConnectionId, typeName, instanceId, isRoot, Stopwatch.GetTimestamp());
        if (id <= _options.MaxRecords)
        {
            state.AllNetrefs.Enqueue(info);
            KeepPeerName(source, state);
        }
        return info;
    }

    private bool MetricsOn => _options.EmitMetrics && RpycInstrumentation.AnyEnabled;

    private void Finish(TelemetryState state, CallRecord record, Exception? error, long now)
    {
        // StopIteration is how every remote loop ends, not a failure.
        if (error is not null and not RpycRemoteException { RemoteTypeName: "builtins.StopIteration" })
        {
            Interlocked.Increment(ref state.Errors);
        }
        if (now - record.CreatedTimestamp >= _slowTicks)
        {
            Interlocked.Increment(ref state.SlowCalls);
        }
    }

    private void TrackDepth(TelemetryState state, CallRecord record)
    {
        int depth = record.Depth;
        int max = Volatile.Read(ref state.MaxDepth);
        while (depth > max)
        {
            int seen = Interlocked.CompareExchange(ref state.MaxDepth, depth, max);
            if (seen == max)
            {
                break;
            }
            max = seen;
        }
        if (depth >= _options.DeepStackThreshold)
        {
            Interlocked.Increment(ref state.DeepStacks);
        }
    }

    private TelemetrySection? InnermostSection()
    {
        for (TelemetrySection? s = TelemetrySection.Current; s is not null; s = s.Parent)
        {
            if (ReferenceEquals(s.Owner, this))
            {
                return s;
            }
        }
        return null;
    }

    private void ForEachOpenSection(Action<TelemetrySection> action)
    {
        if (Volatile.Read(ref _openSections) == 0)
        {
            return;
        }
        for (TelemetrySection? s = TelemetrySection.Current; s is not null; s = s.Parent)
        {
            if (ReferenceEquals(s.Owner, this))
            {
                action(s);
            }
        }
    }

    // The operation a new one nests under: this telemetry's innermost operation in progress on
    // this thread. An outgoing request not yet sent is skipped: the DELs flushed before its frame
    // are its siblings, not its children. So is one started before a Reset: it is not in the log
    // the new one goes to, which numbers its records from 1 again (a parent id would name another).
    private CallRecord? CurrentOpen(TelemetryState state)
    {
        for (CallRecord? r = t_top; r is not null; r = r.StackNext)
        {
            if (!ReferenceEquals(r.Owner, this) || r.IsCompleted || !ReferenceEquals(r.State, state))
            {
                continue;
            }
            if (r.Direction == CallDirection.Outgoing && r.SentTimestamp == 0)
            {
                continue;
            }
            if (r.Source.IsConnectionClosed)
            {
                // The connection died before completing it (no completion event will come).
                continue;
            }
            return r;
        }
        return null;
    }

    private static void Push(CallRecord record)
    {
        record.StackNext = t_top;
        t_top = record;
    }

    private static void Pop()
    {
        CallRecord? top = t_top;
        while (top is not null && (top.IsCompleted || top.Source.IsConnectionClosed))
        {
            top = top.StackNext;
        }
        t_top = top;
    }

    private static Activity? StartActivity(ActivityKind kind, string handler, string? target, string? name, TelemetryObserver source)
    {
        ActivitySource activitySource = RpycInstrumentation.Source;
        if (!activitySource.HasListeners())
        {
            return null;
        }
        string? type = CallRecord.ShortType(target);
        string displayName = name is null ? (type is null ? handler : $"{handler} {type}") : $"{type}/{name}";
        Activity? activity = activitySource.StartActivity(displayName, kind);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("rpc.system", "rpyc");
            activity.SetTag("rpc.service", target);
            activity.SetTag("rpc.method", name);
            activity.SetTag(RpycInstrumentation.HandlerTag, handler);
            activity.SetTag("network.peer.address", source.PeerName);
        }
        return activity;
    }

    private static void StopActivity(CallRecord record, Exception? error)
    {
        if (record.Activity is not { } activity)
        {
            return;
        }
        if (activity.IsAllDataRequested)
        {
            activity.SetTag("rpyc.request_bytes", record.RequestBytes);
            activity.SetTag("rpyc.reply_bytes", record.ReplyBytes);
            if (record.CreatedNetref)
            {
                activity.SetTag("rpyc.created_netref", true);
            }
        }
        if (error is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, record.Error);
            activity.AddException(error);
        }
        activity.Stop();
        record.Activity = null;
    }
}
