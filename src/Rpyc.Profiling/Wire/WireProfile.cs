namespace Rpyc.Profiling.Wire;

/// <summary>Proxies of one side: created (a boxed remote reference the holder had no proxy for), released (<c>HANDLE_DEL</c>) and alive (never released).</summary>
/// <param name="Created">Proxies created.</param>
/// <param name="Released">DEL requests sent for them.</param>
/// <param name="Alive">Created and not released: still held, or dropped with their connection without a DEL.</param>
public sealed record WireNetrefCounts(long Created, long Released, long Alive)
{
    /// <summary>The two sides added up.</summary>
    /// <param name="a">One side.</param>
    /// <param name="b">The other side.</param>
    /// <returns>The sums.</returns>
    public static WireNetrefCounts operator +(WireNetrefCounts a, WireNetrefCounts b) =>
        new(a.Created + b.Created, a.Released + b.Released, a.Alive + b.Alive);
}

/// <summary>Netrefs of one type, as named by its id_pack.</summary>
/// <param name="TypeName">The type, e.g. <c>builtins.list</c>.</param>
/// <param name="HeldByClient"><c>true</c> for proxies the client holds (of server objects), <c>false</c> for the server's (of client objects: callbacks).</param>
/// <param name="Created">Proxies created.</param>
/// <param name="Alive">Proxies never released.</param>
public sealed record WireNetrefType(string TypeName, bool HeldByClient, long Created, long Alive);

/// <summary>One relayed client connection.</summary>
public sealed record WireConnectionProfile
{
    /// <summary>Its number, from 1.</summary>
    public required int Id { get; init; }

    /// <summary>The client's address.</summary>
    public required string Peer { get; init; }

    /// <summary>The envelope detected from its first frame (5 or 6), or <c>null</c> before any.</summary>
    public int? ProtocolVersion { get; init; }

    /// <summary>When it opened, from the start of the relay.</summary>
    public TimeSpan OpenedAt { get; init; }

    /// <summary>How long it was open (until the report for one still open).</summary>
    public TimeSpan Duration { get; init; }

    /// <summary>Whether it was still open at the report.</summary>
    public bool IsOpen { get; init; }

    /// <summary>Client requests answered (round trips).</summary>
    public long RoundTrips { get; init; }

    /// <summary>Client DEL and CLOSE messages.</summary>
    public long OneWayMessages { get; init; }

    /// <summary>Server requests to the client (callbacks).</summary>
    public long Callbacks { get; init; }

    /// <summary>Frame bytes from the client.</summary>
    public long BytesSent { get; init; }

    /// <summary>Frame bytes from the server.</summary>
    public long BytesReceived { get; init; }

    /// <summary>Requests never answered (in flight at the report, or the connection ended first).</summary>
    public long Unanswered { get; init; }

    /// <summary>The deepest nesting of calls.</summary>
    public int MaxDepth { get; init; }

    /// <summary>Proxies the client held.</summary>
    public required WireNetrefCounts Netrefs { get; init; }

    /// <summary>Why decoding stopped (the bytes were still forwarded), or <c>null</c>.</summary>
    public string? DecodeError { get; init; }

    /// <summary>Why the relay could not reach the target for it, or <c>null</c>.</summary>
    public string? ConnectError { get; init; }
}

/// <summary>
/// What an <see cref="RpycWireProxy"/> saw, built from the frames alone: counts are exact facts of
/// the wire, times are those of the relay (request received to reply received, the relay's own
/// forwarding apart in <see cref="WireCall.RelayTime"/>). Seen from the client: "sent" is client to server.
/// </summary>
public sealed record WireProfile
{
    /// <summary>Where the relay listened.</summary>
    public required string Listen { get; init; }

    /// <summary>The server it relayed to.</summary>
    public required string Target { get; init; }

    /// <summary>When the relay started (UTC).</summary>
    public required DateTimeOffset Started { get; init; }

    /// <summary>From the start to this report.</summary>
    public required TimeSpan Elapsed { get; init; }

    /// <summary>The slow-call threshold used.</summary>
    public required TimeSpan SlowCallThreshold { get; init; }

    /// <summary>Client requests answered by the server.</summary>
    public long RoundTrips { get; init; }

    /// <summary>Client requests sent without waiting (DEL, CLOSE).</summary>
    public long OneWayMessages { get; init; }

    /// <summary>Client requests still unanswered at the report.</summary>
    public long Unanswered { get; init; }

    /// <summary>
    /// Requests of either side no longer awaited, never answered while tracked: more than
    /// <see cref="RpycWireProxyOptions.MaxPendingRequests"/> newer ones of their side were awaited, or the
    /// replies' direction could not be decoded. A reply that comes for one later counts in <see cref="UnmatchedReplies"/>.
    /// </summary>
    public long RequestsGivenUp { get; init; }

    /// <summary>Server requests to the client (callbacks), all handlers.</summary>
    public long Callbacks { get; init; }

    /// <summary>Client requests by handler (<c>getattr</c>, <c>callattr</c>, <c>del</c>...), one-way included.</summary>
    public required IReadOnlyDictionary<string, long> RequestsByHandler { get; init; }

    /// <summary>Server requests (callbacks) by handler.</summary>
    public required IReadOnlyDictionary<string, long> CallbacksByHandler { get; init; }

    /// <summary>Frame bytes from clients, headers and trailers included.</summary>
    public long BytesSent { get; init; }

    /// <summary>Frame bytes from the server.</summary>
    public long BytesReceived { get; init; }

    /// <summary>Replies that matched no request (a decoding gap).</summary>
    public long UnmatchedReplies { get; init; }

    /// <summary>
    /// Of <see cref="UnmatchedReplies"/>, those not kept waiting for their request: more than
    /// <see cref="RpycWireProxyOptions.MaxPendingRequests"/> replies of their side waited already
    /// (a peer answering requests never made).
    /// </summary>
    public long UnmatchedRepliesDropped { get; init; }

    /// <summary>Proxies the clients held (of server objects).</summary>
    public required WireNetrefCounts NetrefsHeldByClient { get; init; }

    /// <summary>Proxies the server held (of client objects, e.g. callbacks).</summary>
    public required WireNetrefCounts NetrefsHeldByServer { get; init; }

    /// <summary>Both sides.</summary>
    public WireNetrefCounts Netrefs => NetrefsHeldByClient + NetrefsHeldByServer;

    /// <summary>Netrefs by type, most created first.</summary>
    public required IReadOnlyList<WireNetrefType> NetrefTypes { get; init; }

    /// <summary>The sum of the round trips' durations.</summary>
    public TimeSpan RoundTripTime { get; init; }

    /// <summary>
    /// Round trips, callbacks included, answered and forwarded: those the relay times cover, every one,
    /// kept in <see cref="Calls"/> or not.
    /// </summary>
    public long RelayTimeRoundTrips { get; init; }

    /// <summary>
    /// Median time the relay itself added to a round trip (recording and forwarding the request and the
    /// reply), from a histogram of all of them: within 1.6 % of the true median.
    /// </summary>
    public TimeSpan RelayTimeP50 { get; init; }

    /// <summary>The mean time the relay added to a round trip, over all of them.</summary>
    public TimeSpan RelayTimeMean { get; init; }

    /// <summary>The most the relay added to one round trip, over all of them.</summary>
    public TimeSpan RelayTimeMax { get; init; }

    /// <summary>The deepest call nesting.</summary>
    public int MaxDepth { get; init; }

    /// <summary>Round trips at or over the threshold, slowest first: the slowest <see cref="RpycWireProxyOptions.MaxRecords"/> of <see cref="SlowCallCount"/>.</summary>
    public required IReadOnlyList<WireCall> SlowCalls { get; init; }

    /// <summary>Round trips at or over the threshold, kept in <see cref="SlowCalls"/> or not.</summary>
    public long SlowCallCount { get; init; }

    /// <summary>The kept calls, in the order their requests were seen.</summary>
    public required IReadOnlyList<WireCall> Calls { get; init; }

    /// <summary>
    /// Calls counted but not kept (over <see cref="RpycWireProxyOptions.MaxRecords"/>): missing from
    /// <see cref="Calls"/>, the timelines and the advice, never from the counts, totals and relay times.
    /// </summary>
    public long CallsDropped { get; init; }

    /// <summary>Every client connection, in order.</summary>
    public required IReadOnlyList<WireConnectionProfile> Connections { get; init; }

    /// <summary>The costly patterns seen, costliest first.</summary>
    public required IReadOnlyList<Rpyc.Telemetry.Advice> Advice { get; init; }
}
