using System.Diagnostics;
using Rpyc.Telemetry;

namespace Rpyc.Profiling.Wire;

internal sealed partial class WireRecorder
{
    public int ConnectionCount
    {
        get
        {
            lock (_lock)
            {
                return _connections.Count;
            }
        }
    }

    // The connections' records, for tests.
    internal IReadOnlyList<ConnectionState> Connections
    {
        get
        {
            lock (_lock)
            {
                return [.. _connections];
            }
        }
    }

    public WireProfile Snapshot(string listen, string target)
    {
        lock (_lock)
        {
            long now = Stopwatch.GetTimestamp();
            Dictionary<long, WireCall> copies = _calls.ToDictionary(c => (long)c.Id, c => c.Snapshot());
            List<WireCall> calls = [.. _calls.Select(c => copies[c.Id])];
            List<WireCall> slow = [.. _slow.UnorderedItems.Select(s => copies.TryGetValue(s.Element.Id, out WireCall? copy) ? copy : s.Element.Snapshot()).OrderByDescending(c => c.Duration)];
            long[] alive = [_connections.Sum(c => c.Held[Client].Count), _connections.Sum(c => c.Held[Server].Count)];
            var aliveByType = new Dictionary<(string, int), long>();
            foreach (ConnectionState connection in _connections)
            {
                for (int holder = 0; holder < 2; holder++)
                {
                    foreach (Protocol.IdPack id in connection.Held[holder].Keys)
                    {
                        aliveByType[(id.NamePack, holder)] = aliveByType.GetValueOrDefault((id.NamePack, holder)) + 1;
                    }
                }
            }
            return new WireProfile
            {
                Listen = listen,
                Target = target,
                Started = _started,
                Elapsed = Stopwatch.GetElapsedTime(_startTimestamp, now),
                SlowCallThreshold = _options.SlowCallThreshold,
                RoundTrips = _roundTrips,
                OneWayMessages = _oneWay,
                Unanswered = _connections.Sum(c => Unanswered(c, Client)),
                RequestsGivenUp = _connections.Sum(c => c.GivenUp[Client] + c.GivenUp[Server]),
                Callbacks = _callbacks,
                RequestsByHandler = Sorted(_byHandler[Client]),
                CallbacksByHandler = Sorted(_byHandler[Server]),
                BytesSent = _bytesSent,
                BytesReceived = _bytesReceived,
                UnmatchedReplies = _connections.Sum(c => c.EarlyReplies[Client].Count + c.EarlyReplies[Server].Count + c.EarlyRepliesDropped + c.UnmatchedAtClose + c.RepliesToUndecoded),
                UnmatchedRepliesDropped = _connections.Sum(c => c.EarlyRepliesDropped),
                NetrefsHeldByClient = new WireNetrefCounts(_created[Client], _released[Client], alive[Client]),
                NetrefsHeldByServer = new WireNetrefCounts(_created[Server], _released[Server], alive[Server]),
                NetrefTypes = [.. _createdByType
                    .Select(kv => new WireNetrefType(kv.Key.Type, kv.Key.Holder == Client, kv.Value, aliveByType.GetValueOrDefault(kv.Key)))
                    .OrderByDescending(t => t.Created).ThenBy(t => t.TypeName, StringComparer.Ordinal)],
                RoundTripTime = Stopwatch.GetElapsedTime(0, _roundTripTicks),
                RelayTimeRoundTrips = _relayTicks.Count,
                RelayTimeP50 = Stopwatch.GetElapsedTime(0, _relayTicks.ValueAtRank((_relayTicks.Count - 1) / 2)),
                RelayTimeMean = _relayTicks.Count == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(0, _relayTicks.Sum / _relayTicks.Count),
                RelayTimeMax = Stopwatch.GetElapsedTime(0, _relayTicks.Max),
                MaxDepth = _maxDepth,
                SlowCalls = slow,
                SlowCallCount = _slowCalls,
                Calls = calls,
                CallsDropped = _callsDropped,
                Connections = [.. _connections.Select(c => Describe(c, now))],
                Advice = Analyze(calls),
            };
        }
    }

    private static long Unanswered(ConnectionState c, int sender) =>
        c.UnansweredAtClose[sender] + c.Pending[sender].Values.Count(p => !p.IsOneWay);

    private static Dictionary<string, long> Sorted(Dictionary<string, long> counts) =>
        counts.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).ToDictionary(StringComparer.Ordinal);

    private WireConnectionProfile Describe(ConnectionState c, long now) => new()
    {
        Id = c.Id,
        Peer = c.Peer,
        ProtocolVersion = (int?)(c.Decoders[Client].Version ?? c.Decoders[Server].Version),
        OpenedAt = Stopwatch.GetElapsedTime(_startTimestamp, c.OpenedTimestamp),
        Duration = Stopwatch.GetElapsedTime(c.OpenedTimestamp, c.ClosedTimestamp == 0 ? now : c.ClosedTimestamp),
        IsOpen = c.ClosedTimestamp == 0,
        RoundTrips = c.RoundTrips,
        OneWayMessages = c.OneWay,
        Callbacks = c.Callbacks,
        BytesSent = c.BytesSent,
        BytesReceived = c.BytesReceived,
        Unanswered = Unanswered(c, Client) + Unanswered(c, Server),
        MaxDepth = c.MaxDepth,
        Netrefs = new WireNetrefCounts(c.Created[Client], c.Released[Client], c.Held[Client].Count),
        DecodeError = c.Decoders[Client].Error ?? c.Decoders[Server].Error,
        ConnectError = c.ConnectError,
    };

    // The in-process profiler's patterns, from the wire: the objects are known exactly by id_pack.
    private List<Advice> Analyze(List<WireCall> calls)
    {
        var found = new List<Advice>();
        List<WireCall> trips = [.. calls.Where(c => !c.IsOneWay)];
        int repeat = _options.AdviceRepeatThreshold;

        foreach (var group in trips
            .Where(c => c.Handler == "callattr" && c.Name is "__next__" or "__getitem__" && c.TargetId is not null)
            .GroupBy(c => (c.ConnectionId, c.TargetId))
            .Where(g => g.Count() >= repeat))
        {
            WireCall first = group.First();
            string names = string.Join("/", group.Select(c => c.Name).Distinct());
            found.Add(new Advice(AdviceKind.RemoteSequenceLoop, first.Target ?? "?", group.Count(),
                $"{group.Count()} round trips ({names}) over one remote {first.Target}: fetch the sequence by value in one call (return a tuple or a list copy, or rpyc.classic.obtain) instead of one round trip per item."));
        }

        foreach (var group in trips
            .Where(c => c.Handler == "getattr" && c.TargetId is not null)
            .GroupBy(c => (c.ConnectionId, c.TargetId, c.Name))
            .Where(g => g.Count() >= repeat))
        {
            WireCall first = group.First();
            found.Add(new Advice(AdviceKind.RepeatedGetAttr, first.DisplayName, group.Count(),
                $"{group.Count()} getattr of '{first.Name}' on one {first.Target}: read it once and keep it in a local variable (cache the method or value)."));
        }

        foreach ((string chain, int length, int count) in AttributeChains(trips))
        {
            found.Add(new Advice(AdviceKind.AttributeChain, chain, (long)length * count,
                $"attribute chain {chain} ({length} getattrs, each on the object the previous one returned{(count > 1 ? $", {count} times" : "")}): add a server method that returns the end value in one call (batch the call)."));
        }

        foreach (var group in trips
            .Where(c => c.Handler is "callattr" or "call" && c.Name is not ("__next__" or "__getitem__" or "__iter__" or "__len__"))
            .GroupBy(c => (c.ConnectionId, c.DisplayName))
            .Where(g => g.Count() >= _options.AdviceBatchThreshold))
        {
            WireCall first = group.First();
            found.Add(new Advice(AdviceKind.RepeatedCalls, first.DisplayName, group.Count(),
                $"{group.Count()} round trips calling {first.DisplayName}: batch the call (one server method taking all the arguments at once) or run independent calls from several threads."));
        }

        var alive = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (ConnectionState connection in _connections)
        {
            foreach (KeyValuePair<Protocol.IdPack, bool> held in connection.Held[Client])
            {
                if (!held.Value)
                {
                    alive[held.Key.NamePack] = alive.GetValueOrDefault(held.Key.NamePack) + 1;
                }
            }
        }
        if (alive.Count > 0)
        {
            int count = alive.Values.Sum();
            List<KeyValuePair<string, int>> types = [.. alive.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal)];
            string what = types.Count == 1
                ? $"{count} netref{(count == 1 ? "" : "s")} of {types[0].Key}"
                : $"{count} netrefs ({string.Join(", ", types.Select(kv => $"{kv.Value} {WireCall.ShortType(kv.Key)}"))})";
            found.Add(new Advice(AdviceKind.UnreleasedNetrefs, string.Join(", ", types.Select(kv => kv.Key)), count,
                $"{what} never released by the client (no DEL before the report or the end of the connection): drop the references when done (del, or a with block), or fetch by value, so the server can free the object{(count == 1 ? "" : "s")}."));
        }
        return [.. found.OrderByDescending(a => a.Occurrences)];
    }

    // Runs of getattr on one connection where each target is the object the previous getattr returned.
    private List<(string Chain, int Length, int Count)> AttributeChains(List<WireCall> trips)
    {
        var chains = new Dictionary<string, (int Length, int Count)>(StringComparer.Ordinal);
        foreach (var connection in trips.Where(c => c.Direction == WireDirection.ClientToServer).GroupBy(c => c.ConnectionId))
        {
            var run = new List<WireCall>();
            foreach (WireCall c in connection)
            {
                bool continues = c.Handler == "getattr" && run.Count > 0 && run[^1].ReturnedId is { } returned && c.TargetId == returned;
                if (!continues)
                {
                    Close(run);
                    run.Clear();
                }
                if (c.Handler == "getattr")
                {
                    run.Add(c);
                }
            }
            Close(run);
        }
        return [.. chains.Select(kv => (kv.Key, kv.Value.Length, kv.Value.Count))];

        void Close(List<WireCall> run)
        {
            if (run.Count < _options.AdviceChainLength)
            {
                return;
            }
            string chain = (WireCall.ShortType(run[0].Target) ?? "?") + "." + string.Join(".", run.Select(c => c.Name));
            chains[chain] = chains.TryGetValue(chain, out (int Length, int Count) seen) ? (run.Count, seen.Count + 1) : (run.Count, 1);
        }
    }
}
