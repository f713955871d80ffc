using System.Diagnostics;

namespace Rpyc.Telemetry;

/// <summary>Which side of the connection sent the request an operation is about.</summary>
public enum CallDirection
{
    /// <summary>This side sent the request: a round trip or a one-way message (DEL, CLOSE).</summary>
    Outgoing,

    /// <summary>The peer sent the request and this side handled it (a callback, or a server's work).</summary>
    Incoming,
}

/// <summary>
/// One protocol operation seen by an <see cref="RpycTelemetry"/>: a request this side sent, or a
/// peer's request this side handled. Stages are raw <see cref="Stopwatch.GetTimestamp"/> ticks
/// (created, sent, completed), as StackExchange.Redis' <c>IProfiledCommand</c> keeps them.
/// </summary>
/// <remarks>
/// A record enters the log when its operation starts; until <see cref="IsCompleted"/> is true its
/// duration, reply size and error are not final.
/// </remarks>
public sealed class CallRecord
{
    private long _sentTimestamp;
    private long _completedTimestamp;
    private volatile bool _completed;

    internal CallRecord(
        RpycTelemetry owner, long id, CallRecord? parent, CallDirection direction, string handler, string? target, string? name,
        bool isRoundTrip, TelemetryObserver source, string? section, long createdTimestamp)
    {
        Owner = owner;
        Source = source;
        Id = id;
        Parent = parent;
        Depth = parent is null ? 1 : parent.Depth + 1;
        Direction = direction;
        Handler = handler;
        Target = target;
        Name = name;
        IsRoundTrip = isRoundTrip;
        ConnectionId = source.ConnectionId;
        Section = section;
        CreatedTimestamp = createdTimestamp;
        ThreadId = Environment.CurrentManagedThreadId;
    }

    internal RpycTelemetry Owner { get; }

    internal TelemetryObserver Source { get; }

    // Counters of the telemetry state the record was started in (null when recording is off).
    internal RpycTelemetry.TelemetryState? State { get; init; }

    internal TelemetrySection? SectionScope { get; init; }

    // The next open operation down this thread's stack (see RpycTelemetry.Stacks.cs).
    internal CallRecord? StackNext { get; set; }

    internal Activity? Activity { get; set; }

    internal CallRecord? Parent { get; }

    /// <summary>Sequential number of the operation within its telemetry, from 1.</summary>
    public long Id { get; }

    /// <summary>The <see cref="Id"/> of the operation this one ran inside on the same thread, or 0 at top level.</summary>
    public long ParentId => Parent?.Id ?? 0;

    /// <summary>Nesting depth: 1 at top level, 2 for a callback served while a call waits, and so on.</summary>
    public int Depth { get; }

    /// <summary>Whether this side sent the request or handled the peer's.</summary>
    public CallDirection Direction { get; }

    /// <summary>The handler in rpyc's lower-case form: <c>getattr</c>, <c>callattr</c>, <c>call</c>, <c>inspect</c>, <c>del</c>, ...</summary>
    public string Handler { get; }

    /// <summary>The object the request is about: its remote type (<c>module.Class</c>) for a proxy, or the local type name.</summary>
    public string? Target { get; }

    /// <summary>The attribute or method name (getattr, setattr, delattr, callattr) or comparison operator (cmp).</summary>
    public string? Name { get; }

    /// <summary>The telemetry's number for the proxy the request went through (see <see cref="NetrefInfo.Id"/>), or 0.</summary>
    public long TargetNetrefId { get; internal set; }

    // When that proxy was created: links a getattr to the getattr whose reply created its target.
    internal long TargetCreatedTimestamp { get; set; }

    /// <summary>The telemetry's number for the connection (in the order they were attached, from 1).</summary>
    public int ConnectionId { get; }

    /// <summary>The managed thread the operation ran on.</summary>
    public int ThreadId { get; }

    /// <summary>The innermost <see cref="RpycTelemetry.Section"/> open on the calling flow, or <c>null</c>.</summary>
    public string? Section { get; }

    /// <summary>An outgoing request whose reply this side waited for: one network round trip.</summary>
    public bool IsRoundTrip { get; }

    /// <summary>An outgoing request nobody waits for (DEL, CLOSE).</summary>
    public bool IsOneWay => Direction == CallDirection.Outgoing && !IsRoundTrip;

    /// <summary>When the operation started (<see cref="Stopwatch.GetTimestamp"/> ticks).</summary>
    public long CreatedTimestamp { get; }

    /// <summary>When the request's frame left (outgoing) or the reply left (incoming); 0 if it never did.</summary>
    public long SentTimestamp => Volatile.Read(ref _sentTimestamp);

    /// <summary>When the reply was received and decoded (outgoing) or sent (incoming); 0 while in progress.</summary>
    public long CompletedTimestamp => Volatile.Read(ref _completedTimestamp);

    /// <summary>Whether the operation has finished.</summary>
    public bool IsCompleted => _completed;

    /// <summary>From start to completion; zero while in progress.</summary>
    public TimeSpan Duration => _completed ? Stopwatch.GetElapsedTime(CreatedTimestamp, CompletedTimestamp) : TimeSpan.Zero;

    /// <summary>From start until the request left (boxing and serialization); zero if it never left.</summary>
    public TimeSpan CreationToSent => SentTimestamp == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(CreatedTimestamp, SentTimestamp);

    /// <summary>From the request leaving until the reply was processed (the network and the peer's work).</summary>
    public TimeSpan SentToCompleted => SentTimestamp == 0 || !_completed ? TimeSpan.Zero : Stopwatch.GetElapsedTime(SentTimestamp, CompletedTimestamp);

    /// <summary>The request's frame on the wire, header and trailer included (received, for incoming requests).</summary>
    public long RequestBytes { get; internal set; }

    /// <summary>
    /// Where the request was made: <c>File.cs:42 (Type.Method)</c> of the first frame outside the RPyC
    /// libraries, or <c>Type.Method</c> without symbols; <c>null</c> unless <see cref="RpycTelemetryOptions.CaptureCallSites"/>.
    /// </summary>
    public string? CallSite { get; internal set; }

    /// <summary>The user's frames when the request was made, innermost first; <c>null</c> unless <see cref="RpycTelemetryOptions.CaptureStacks"/>.</summary>
    public IReadOnlyList<string>? Stack { get; internal set; }

    /// <summary>The reply's frame on the wire (sent, for incoming requests); 0 for one-way messages.</summary>
    public long ReplyBytes { get; internal set; }

    /// <summary>Whether decoding the reply created at least one new proxy.</summary>
    public bool CreatedNetref { get; internal set; }

    /// <summary>The failure, as <c>Type: message</c> (the remote type for a peer's exception), or <c>null</c>.</summary>
    public string? Error { get; internal set; }

    /// <summary>A short label: <c>Class.method</c> for attribute handlers, <c>Class()</c> for call, else the handler.</summary>
    public string DisplayName
    {
        get
        {
            string? type = ShortType(Target);
            return Handler switch
            {
                "getattr" or "setattr" or "delattr" or "callattr" or "cmp" => $"{type ?? "?"}.{Name}",
                "call" => $"{type ?? "?"}()",
                _ when type is null => Handler,
                _ => $"{Handler}({type})",
            };
        }
    }

    internal void MarkSent(long timestamp) => Volatile.Write(ref _sentTimestamp, timestamp);

    internal void MarkCompleted(long timestamp)
    {
        Volatile.Write(ref _completedTimestamp, timestamp);
        _completed = true;
    }

    internal static string? ShortType(string? typeName) =>
        typeName is null ? null : typeName[(typeName.LastIndexOf('.') + 1)..];

    /// <summary>The display name, handler and duration.</summary>
    public override string ToString() =>
        $"{DisplayName} ({Handler}) [{(IsCompleted ? TelemetryFormat.Duration(Duration) : "...")}]";
}
