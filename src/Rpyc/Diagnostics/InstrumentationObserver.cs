using System.Diagnostics;
using Rpyc.Protocol;

namespace Rpyc.Telemetry;

/// <summary>
/// The observer of every connection that has no recorder attached, while someone listens to the
/// <c>Rpyc</c> ActivitySource or Meter (as nats.net's Telemetry.cs: every start gated by
/// <c>HasListeners()</c>, every instrument by <c>Enabled</c>). OpenTelemetry sees RPyC calls with
/// nothing else installed; nobody listening, the connection does not even call it.
/// </summary>
internal sealed class InstrumentationObserver : ConnectionObserver
{
    public static readonly InstrumentationObserver Instance = new();

    /// <summary>The instance when a listener is subscribed, else <c>null</c>.</summary>
    public static InstrumentationObserver? IfListening =>
        RpycInstrumentation.Source.HasListeners() || RpycInstrumentation.AnyEnabled ? Instance : null;

    public override object? RequestStarting(RpycConnection connection, HandlerId handler, string? target, string? name, bool sync)
    {
        string handlerName = HandlerNames.Of(handler);
        Activity? activity = sync ? RpycInstrumentation.StartActivity(ActivityKind.Client, handlerName, target, name, connection.PeerName) : null;
        return new State(handlerName, sync, activity, Stopwatch.GetTimestamp());
    }

    public override void RequestSent(object? state, int frameBytes)
    {
        if (state is not State s)
        {
            return;
        }
        s.RequestBytes = frameBytes;
        var tag = new KeyValuePair<string, object?>(RpycInstrumentation.HandlerTag, s.Handler);
        (s.Sync ? RpycInstrumentation.RoundTrips : RpycInstrumentation.OneWayMessages).Add(1, tag);
        RpycInstrumentation.BytesSent.Add(frameBytes);
    }

    public override void RequestCompleted(object? state, long replyBytes, bool createdNetref, Exception? error)
    {
        if (state is not State s)
        {
            return;
        }
        if (s.Sync)
        {
            RpycInstrumentation.BytesReceived.Add(replyBytes);
            RpycInstrumentation.CallDuration.Record(
                Stopwatch.GetElapsedTime(s.Started).TotalSeconds,
                new KeyValuePair<string, object?>(RpycInstrumentation.HandlerTag, s.Handler),
                new KeyValuePair<string, object?>(RpycInstrumentation.DirectionTag, "client"));
        }
        RpycInstrumentation.StopActivity(s.Activity, s.RequestBytes, replyBytes, createdNetref, error);
    }

    public override object? IncomingStarting(RpycConnection connection, HandlerId handler, string? target, string? name, long frameBytes)
    {
        string handlerName = HandlerNames.Of(handler);
        RpycInstrumentation.IncomingRequests.Add(1, new KeyValuePair<string, object?>(RpycInstrumentation.HandlerTag, handlerName));
        RpycInstrumentation.BytesReceived.Add(frameBytes);
        Activity? activity = RpycInstrumentation.StartActivity(ActivityKind.Server, handlerName, target, name, connection.PeerName);
        return new State(handlerName, true, activity, Stopwatch.GetTimestamp()) { RequestBytes = frameBytes };
    }

    public override void IncomingCompleted(object? state, int replyBytes, Exception? error)
    {
        RpycInstrumentation.BytesSent.Add(replyBytes);
        if (state is not State s)
        {
            return;
        }
        RpycInstrumentation.CallDuration.Record(
            Stopwatch.GetElapsedTime(s.Started).TotalSeconds,
            new KeyValuePair<string, object?>(RpycInstrumentation.HandlerTag, s.Handler),
            new KeyValuePair<string, object?>(RpycInstrumentation.DirectionTag, "server"));
        RpycInstrumentation.StopActivity(s.Activity, s.RequestBytes, replyBytes, false, error);
    }

    public override void UnmatchedReplyReceived(RpycConnection connection, long frameBytes) => RpycInstrumentation.BytesReceived.Add(frameBytes);

    public override void NetrefCreated(RpycConnection connection, string typeName, long instanceId) => RpycInstrumentation.NetrefsCreated.Add(1);

    public override void NetrefReleased(RpycConnection connection, string typeName, long instanceId) => RpycInstrumentation.NetrefsReleased.Add(1);

    private sealed class State(string handler, bool sync, Activity? activity, long started)
    {
        public string Handler => handler;

        public bool Sync => sync;

        public Activity? Activity => activity;

        public long Started => started;

        public long RequestBytes;
    }
}
