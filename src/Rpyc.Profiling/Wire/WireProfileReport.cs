using System.Globalization;
using System.Text;
using System.Text.Json;
using Rpyc.Telemetry;

namespace Rpyc.Profiling.Wire;

/// <summary>The text and JSON forms of a <see cref="WireProfile"/>: pure functions of it, in the invariant culture.</summary>
public static class WireProfileReport
{
    private const int RuleWidth = 80;
    private const int TimelineRows = 40;
    private static readonly string s_rule = new('=', RuleWidth);
    private static readonly string s_thinRule = new('-', RuleWidth);

    /// <summary>
    /// The report: totals, requests by handler, netrefs by type, slow calls, the call tree of each
    /// connection (its timeline, nested calls indented), and the advice.
    /// </summary>
    /// <param name="profile">The profile.</param>
    /// <returns>The text, lines separated by <c>\n</c>.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="profile"/> is <c>null</c>.</exception>
    public static string FormatText(WireProfile profile)
    {
        ArgumentNullException.ThrowIfNull(profile);
        var text = new StringBuilder();
        Line(text, "");
        Line(text, s_rule);
        Line(text, $"RPyC WIRE PROFILE: {profile.Listen} -> {profile.Target}");
        Line(text, s_rule);
        Line(text, "Measured on the wire by a relay: the client talked to the relay, which adds one hop each way.");
        Line(text, $"Relay time per round trip:  {Us(profile.RelayTimeP50)} median, {Us(profile.RelayTimeMean)} mean, {Us(profile.RelayTimeMax)} max over {Int(profile.RelayTimeRoundTrips)} round trips (recording and forwarding the request and the reply; included in the durations below)");
        Line(text, "");
        Row(text, "Elapsed", Duration(profile.Elapsed));
        Row(text, "Connections", Int(profile.Connections.Count));
        Row(text, "Network Round Trips", Int(profile.RoundTrips));
        Row(text, "One-way Messages", $"{Int(profile.OneWayMessages)} (DEL, CLOSE)");
        if (profile.Unanswered > 0)
        {
            Row(text, "Unanswered Requests", Int(profile.Unanswered));
        }
        if (profile.RequestsGivenUp > 0)
        {
            Row(text, "Requests Given Up", $"{Int(profile.RequestsGivenUp)} (no reply while newer ones waited, or replies not decodable: counted, no longer awaited)");
        }
        Row(text, "Callbacks", $"{Int(profile.Callbacks)} (requests of the server to the client)");
        Row(text, "Bytes Sent", $"{Int(profile.BytesSent)} (client to server, frames)");
        Row(text, "Bytes Received", $"{Int(profile.BytesReceived)} (server to client, frames)");
        WireNetrefCounts held = profile.NetrefsHeldByClient;
        Row(text, "NetRefs Created", $"{Int(held.Created)} (released {Int(held.Released)}, alive {Int(held.Alive)})");
        if (profile.NetrefsHeldByServer.Created > 0)
        {
            WireNetrefCounts server = profile.NetrefsHeldByServer;
            Row(text, "Server-held NetRefs", $"{Int(server.Created)} (released {Int(server.Released)}, alive {Int(server.Alive)})");
        }
        Row(text, "Max Call Depth", Int(profile.MaxDepth));
        Row(text, $"Slow Calls (>={Seconds(profile.SlowCallThreshold)})", Int(profile.SlowCallCount));
        Row(text, "Avg Round Trip", profile.RoundTrips == 0 ? "-" : Duration(profile.RoundTripTime / profile.RoundTrips));
        if (profile.UnmatchedReplies > 0)
        {
            Row(text, "Unmatched Replies", Int(profile.UnmatchedReplies));
        }
        if (profile.UnmatchedRepliesDropped > 0)
        {
            Row(text, "Unmatched Replies Dropped", $"{Int(profile.UnmatchedRepliesDropped)} (of the above: counted, not kept waiting for a request)");
        }
        if (profile.CallsDropped > 0)
        {
            Row(text, "Calls Not Kept", $"{Int(profile.CallsDropped)} (over the {Int(profile.Calls.Count)} kept: not in the timelines or the advice; in every count, total and relay time above)");
        }

        Section(text, "REQUESTS BY HANDLER (client to server)");
        foreach ((string handler, long count) in profile.RequestsByHandler)
        {
            Line(text, $"  {handler,-16} {count,8}");
        }
        if (profile.CallbacksByHandler.Count > 0)
        {
            Section(text, "CALLBACKS BY HANDLER (server to client)");
            foreach ((string handler, long count) in profile.CallbacksByHandler)
            {
                Line(text, $"  {handler,-16} {count,8}");
            }
        }

        if (profile.NetrefTypes.Count > 0)
        {
            Section(text, "NETREFS BY TYPE");
            Line(text, $"  {"Type",-48} {"Held by",-8} {"Created",8} {"Alive",8}");
            foreach (WireNetrefType type in profile.NetrefTypes)
            {
                Line(text, $"  {Clip(type.TypeName, 48),-48} {(type.HeldByClient ? "client" : "server"),-8} {type.Created,8} {type.Alive,8}");
            }
        }

        if (profile.SlowCalls.Count > 0)
        {
            Section(text, $"SLOW CALLS (>={Seconds(profile.SlowCallThreshold)})");
            List<WireCall> shown = [.. profile.SlowCalls.Take(20)];
            foreach (WireCall call in shown)
            {
                Line(text, $"  {Duration(call.Duration),10}  {Describe(call)}  [connection {call.ConnectionId}, seq {call.Seq}]");
            }
            if (profile.SlowCallCount > shown.Count)
            {
                Line(text, $"  ... {profile.SlowCallCount - shown.Count} more");
            }
        }

        foreach (WireConnectionProfile connection in profile.Connections)
        {
            Section(text, $"CONNECTION {connection.Id}: {connection.Peer}");
            string version = connection.ProtocolVersion is int v ? $"rpyc {v}.x envelope" : "no frame yet";
            Line(text, $"  {version}; opened at +{Duration(connection.OpenedAt)}, {(connection.IsOpen ? "open for" : "lasted")} {Duration(connection.Duration)}");
            Line(text, $"  {connection.RoundTrips} round trips, {connection.OneWayMessages} one-way, {connection.Callbacks} callbacks; {connection.BytesSent} B sent, {connection.BytesReceived} B received; netrefs {connection.Netrefs.Created} created, {connection.Netrefs.Released} released, {connection.Netrefs.Alive} alive");
            if (connection.ConnectError is not null)
            {
                Line(text, $"  {connection.ConnectError}");
            }
            if (connection.DecodeError is not null)
            {
                Line(text, $"  decoding stopped (bytes still relayed unchanged): {connection.DecodeError}");
            }
            List<WireCall> calls = [.. profile.Calls.Where(c => c.ConnectionId == connection.Id)];
            if (calls.Count == 0)
            {
                continue;
            }
            long origin = calls[0].StartTimestamp;
            Line(text, $"  {"at",10} {"duration",10}  call (nested calls indented; <- a callback of the server)");
            foreach (WireCall call in calls.Take(TimelineRows))
            {
                string at = "+" + Duration(System.Diagnostics.Stopwatch.GetElapsedTime(origin, call.StartTimestamp));
                string duration = call.IsOneWay ? "one-way" : call.IsCompleted ? Duration(call.Duration) : "pending";
                string arrow = call.Direction == WireDirection.ServerToClient ? "<- " : "";
                Line(text, $"  {at,10} {duration,10}  {new string(' ', 2 * (call.Depth - 1))}{arrow}{Describe(call)}");
            }
            if (calls.Count > TimelineRows)
            {
                Line(text, $"  ... {calls.Count - TimelineRows} more calls (all of them are in the JSON output)");
            }
        }

        Section(text, "ADVICE");
        if (profile.Advice.Count == 0)
        {
            Line(text, "  Nothing stands out.");
        }
        foreach (Advice advice in profile.Advice)
        {
            Line(text, $"  - {advice.Message}");
        }
        Line(text, s_rule);
        return text.ToString();
    }

    private static string Describe(WireCall call)
    {
        var text = new StringBuilder(call.DisplayName);
        if (call.ReturnedNetref is not null)
        {
            text.Append(" -> netref ").Append(call.ReturnedNetref);
        }
        if (call.PayloadBytes >= 1024)
        {
            text.Append(CultureInfo.InvariantCulture, $" ({call.PayloadBytes} B of data)");
        }
        if (call.Error is not null)
        {
            text.Append(" !! ").Append(call.Error);
        }
        return text.ToString();
    }

    /// <summary>
    /// Writes the profile as JSON (snake_case keys): <c>round_trips</c>, <c>one_way_messages</c>,
    /// <c>requests_by_handler</c>, <c>bytes_sent</c>, <c>bytes_received</c>, <c>netrefs</c>
    /// {<c>created</c>, <c>released</c>, <c>alive</c>}, <c>slow_calls</c>, <c>connections</c>, and the
    /// rest of the profile (callbacks, netref types, advice, relay time, every kept call).
    /// </summary>
    /// <param name="profile">The profile.</param>
    /// <param name="output">The stream to write to (left open).</param>
    /// <exception cref="ArgumentNullException">An argument is <c>null</c>.</exception>
    public static void WriteJson(WireProfile profile, Stream output)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(output);
        using var json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = true });
        json.WriteStartObject();
        json.WriteString("tool", "rpycbench profile proxy");
        json.WriteString("listen", profile.Listen);
        json.WriteString("target", profile.Target);
        json.WriteString("started", profile.Started.ToString("O", CultureInfo.InvariantCulture));
        json.WriteNumber("elapsed_s", profile.Elapsed.TotalSeconds);
        json.WriteNumber("slow_call_threshold_s", profile.SlowCallThreshold.TotalSeconds);
        json.WriteNumber("round_trips", profile.RoundTrips);
        json.WriteNumber("one_way_messages", profile.OneWayMessages);
        json.WriteNumber("unanswered_requests", profile.Unanswered);
        json.WriteNumber("requests_given_up", profile.RequestsGivenUp);
        json.WriteNumber("callbacks", profile.Callbacks);
        Counts(json, "requests_by_handler", profile.RequestsByHandler);
        Counts(json, "callbacks_by_handler", profile.CallbacksByHandler);
        json.WriteNumber("bytes_sent", profile.BytesSent);
        json.WriteNumber("bytes_received", profile.BytesReceived);
        json.WriteNumber("unmatched_replies", profile.UnmatchedReplies);
        json.WriteNumber("unmatched_replies_dropped", profile.UnmatchedRepliesDropped);
        Netrefs(json, "netrefs", profile.Netrefs);
        Netrefs(json, "netrefs_held_by_client", profile.NetrefsHeldByClient);
        Netrefs(json, "netrefs_held_by_server", profile.NetrefsHeldByServer);
        json.WriteStartArray("netref_types");
        foreach (WireNetrefType type in profile.NetrefTypes)
        {
            json.WriteStartObject();
            json.WriteString("type", type.TypeName);
            json.WriteString("held_by", type.HeldByClient ? "client" : "server");
            json.WriteNumber("created", type.Created);
            json.WriteNumber("alive", type.Alive);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteNumber("round_trip_time_s", profile.RoundTripTime.TotalSeconds);
        json.WriteNumber("relay_time_round_trips", profile.RelayTimeRoundTrips);
        json.WriteNumber("relay_time_per_round_trip_p50_s", profile.RelayTimeP50.TotalSeconds);
        json.WriteNumber("relay_time_per_round_trip_mean_s", profile.RelayTimeMean.TotalSeconds);
        json.WriteNumber("relay_time_per_round_trip_max_s", profile.RelayTimeMax.TotalSeconds);
        json.WriteNumber("max_depth", profile.MaxDepth);
        json.WriteNumber("slow_call_count", profile.SlowCallCount);
        json.WriteStartArray("slow_calls");
        foreach (WireCall call in profile.SlowCalls)
        {
            Call(json, call);
        }
        json.WriteEndArray();
        json.WriteStartArray("connections");
        foreach (WireConnectionProfile c in profile.Connections)
        {
            json.WriteStartObject();
            json.WriteNumber("id", c.Id);
            json.WriteString("peer", c.Peer);
            if (c.ProtocolVersion is int version)
            {
                json.WriteNumber("protocol_version", version);
            }
            else
            {
                json.WriteNull("protocol_version");
            }
            json.WriteNumber("opened_at_s", c.OpenedAt.TotalSeconds);
            json.WriteNumber("duration_s", c.Duration.TotalSeconds);
            json.WriteBoolean("open", c.IsOpen);
            json.WriteNumber("round_trips", c.RoundTrips);
            json.WriteNumber("one_way_messages", c.OneWayMessages);
            json.WriteNumber("callbacks", c.Callbacks);
            json.WriteNumber("bytes_sent", c.BytesSent);
            json.WriteNumber("bytes_received", c.BytesReceived);
            json.WriteNumber("unanswered_requests", c.Unanswered);
            json.WriteNumber("max_depth", c.MaxDepth);
            Netrefs(json, "netrefs", c.Netrefs);
            json.WriteString("decode_error", c.DecodeError);
            json.WriteString("connect_error", c.ConnectError);
            json.WriteStartArray("timeline");
            long origin = 0;
            foreach (WireCall call in profile.Calls.Where(x => x.ConnectionId == c.Id))
            {
                origin = origin == 0 ? call.StartTimestamp : origin;
                Call(json, call, origin);
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteNumber("calls_not_kept", profile.CallsDropped);
        json.WriteStartArray("advice");
        foreach (Advice advice in profile.Advice)
        {
            json.WriteStartObject();
            json.WriteString("kind", advice.Kind.ToString());
            json.WriteString("subject", advice.Subject);
            json.WriteNumber("occurrences", advice.Occurrences);
            json.WriteString("message", advice.Message);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void Counts(Utf8JsonWriter json, string name, IReadOnlyDictionary<string, long> counts)
    {
        json.WriteStartObject(name);
        foreach ((string key, long value) in counts)
        {
            json.WriteNumber(key, value);
        }
        json.WriteEndObject();
    }

    private static void Netrefs(Utf8JsonWriter json, string name, WireNetrefCounts counts)
    {
        json.WriteStartObject(name);
        json.WriteNumber("created", counts.Created);
        json.WriteNumber("released", counts.Released);
        json.WriteNumber("alive", counts.Alive);
        json.WriteEndObject();
    }

    private static void Call(Utf8JsonWriter json, WireCall call, long origin = 0)
    {
        json.WriteStartObject();
        json.WriteNumber("id", call.Id);
        json.WriteNumber("connection", call.ConnectionId);
        json.WriteString("direction", call.Direction == WireDirection.ClientToServer ? "client_to_server" : "server_to_client");
        json.WriteNumber("seq", call.Seq);
        json.WriteString("handler", call.Handler);
        json.WriteString("target", call.Target);
        json.WriteString("name", call.Name);
        json.WriteString("display", call.DisplayName);
        json.WriteBoolean("one_way", call.IsOneWay);
        json.WriteNumber("parent", call.ParentId);
        json.WriteNumber("depth", call.Depth);
        if (origin != 0)
        {
            json.WriteNumber("at_s", System.Diagnostics.Stopwatch.GetElapsedTime(origin, call.StartTimestamp).TotalSeconds);
        }
        if (call.IsCompleted)
        {
            json.WriteNumber("duration_s", call.Duration.TotalSeconds);
        }
        else
        {
            json.WriteNull("duration_s");
        }
        json.WriteNumber("relay_time_s", call.RelayTime.TotalSeconds);
        json.WriteNumber("request_bytes", call.RequestBytes);
        json.WriteNumber("reply_bytes", call.ReplyBytes);
        json.WriteNumber("payload_bytes", call.PayloadBytes);
        json.WriteString("returned_netref", call.ReturnedNetref);
        json.WriteString("error", call.Error);
        json.WriteEndObject();
    }

    private static void Section(StringBuilder text, string title)
    {
        Line(text, "");
        Line(text, title);
        Line(text, s_thinRule);
    }

    private static void Row(StringBuilder text, string label, string value) => Line(text, $"{label + ":",-28}{value}");

    private static void Line(StringBuilder text, string line) => text.Append(line).Append('\n');

    private static string Clip(string value, int width) => value.Length <= width ? value : "…" + value[^(width - 1)..];

    private static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan duration) => TelemetryFormat.Seconds(duration);

    private static string Us(TimeSpan duration) => string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMicroseconds:F0}µs");

    private static string Duration(TimeSpan duration)
    {
        double seconds = duration.TotalSeconds;
        if (seconds < 0.001)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{seconds * 1_000_000:F0}µs");
        }
        return seconds < 1
            ? string.Create(CultureInfo.InvariantCulture, $"{seconds * 1000:F2}ms")
            : string.Create(CultureInfo.InvariantCulture, $"{seconds:F2}s");
    }
}
