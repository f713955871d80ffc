using Rpyc.Telemetry;

namespace Rpyc;

public sealed partial class RpycTelemetry
{
    /// <summary>
    /// Looks for the known costly patterns in what was recorded: a loop of round trips over one
    /// remote sequence, repeated getattr of one name on one object, long attribute chains, many
    /// calls of one method, and proxies never released. One line each, with what to do instead.
    /// </summary>
    /// <returns>The findings, costliest first; empty when nothing stands out.</returns>
    public IReadOnlyList<Advice> GetAdvice() => Analyze(_state.Log.Snapshot());

    private List<Advice> Analyze(List<CallRecord> records)
    {
        var found = new List<Advice>();
        List<CallRecord> trips = [.. records.Where(r => r.IsRoundTrip)];
        int repeat = _options.AdviceRepeatThreshold;

        // One proxy iterated or indexed item by item.
        foreach (var group in trips
            .Where(r => r.Handler == "callattr" && r.Name is "__next__" or "__getitem__")
            .GroupBy(r => (r.ConnectionId, Key: TargetKey(r)))
            .Where(g => g.Count() >= repeat))
        {
            CallRecord first = group.First();
            string names = string.Join("/", group.Select(r => r.Name).Distinct());
            found.Add(new Advice(AdviceKind.RemoteSequenceLoop, first.Target ?? "?", group.Count(),
                $"{group.Count()} round trips ({names}) over one remote {first.Target}: fetch the sequence by value in one call (return a tuple or a list copy) instead of one round trip per item."));
        }

        // The same attribute read repeatedly from one object.
        foreach (var group in trips
            .Where(r => r.Handler == "getattr")
            .GroupBy(r => (r.ConnectionId, Key: TargetKey(r), r.Name))
            .Where(g => g.Count() >= repeat))
        {
            CallRecord first = group.First();
            found.Add(new Advice(AdviceKind.RepeatedGetAttr, first.DisplayName, group.Count(),
                $"{group.Count()} getattr of '{first.Name}' on one {first.Target}: read it once and keep it in a local variable (cache the method or value)."));
        }

        foreach ((string chain, int length, int count) in AttributeChains(trips))
        {
            found.Add(new Advice(AdviceKind.AttributeChain, chain, (long)length * count,
                $"attribute chain {chain} ({length} getattrs, each on the object the previous one returned{(count > 1 ? $", {count} times" : "")}): add a server method that returns the end value in one call (batch the call)."));
        }

        // Many calls of one method (dunders are the sequence loop above).
        foreach (var group in trips
            .Where(r => r.Handler is "callattr" or "call" && r.Name is not ("__next__" or "__getitem__" or "__iter__" or "__len__"))
            .GroupBy(r => (r.ConnectionId, Key: TargetKey(r), r.Handler, r.Name))
            .Where(g => g.Count() >= _options.AdviceBatchThreshold))
        {
            CallRecord first = group.First();
            found.Add(new Advice(AdviceKind.RepeatedCalls, first.DisplayName, group.Count(),
                $"{group.Count()} round trips calling {first.DisplayName}: batch the call (one server method taking all the arguments at once) or run independent calls from several threads."));
        }

        // Proxies still alive, except each connection's root (never released by design).
        List<IGrouping<string, NetrefInfo>> alive = [.. _state.AliveProxies.Values
            .Where(n => !n.IsRoot)
            .GroupBy(n => n.TypeName)
            .OrderByDescending(g => g.Count())
            .ThenBy(g => g.Key, StringComparer.Ordinal)];
        if (alive.Count > 0)
        {
            int count = alive.Sum(g => g.Count());
            string what = alive.Count == 1
                ? $"{count} netref{(count == 1 ? "" : "s")} of {alive[0].Key}"
                : $"{count} netrefs ({string.Join(", ", alive.Select(g => $"{g.Count()} {CallRecord.ShortType(g.Key)}"))})";
            found.Add(new Advice(AdviceKind.UnreleasedNetrefs, string.Join(", ", alive.Select(g => g.Key)), count,
                $"{what} never released: dispose {(count == 1 ? "it" : "them")} (using) when done, or fetch by value, so the peer can free the object{(count == 1 ? "" : "s")}."));
        }

        return [.. found.OrderByDescending(a => a.Occurrences)];
    }

    // The object a request went through: the proxy when known, else its type.
    private static string TargetKey(CallRecord r) => r.TargetNetrefId != 0 ? "#" + r.TargetNetrefId.ToString(System.Globalization.CultureInfo.InvariantCulture) : r.Target ?? "";

    // Runs of getattr on one thread where each target is the proxy the previous getattr's reply
    // created (created while that getattr was in flight).
    private List<(string Chain, int Length, int Count)> AttributeChains(List<CallRecord> trips)
    {
        var chains = new Dictionary<string, (int Length, int Count)>(StringComparer.Ordinal);
        foreach (var thread in trips.GroupBy(r => r.ThreadId))
        {
            var run = new List<CallRecord>();
            CallRecord? previous = null;
            foreach (CallRecord r in thread)
            {
                bool continues = r.Handler == "getattr" && previous is { Handler: "getattr", CreatedNetref: true }
                    && previous.ConnectionId == r.ConnectionId && r.TargetNetrefId != 0
                    && r.TargetCreatedTimestamp >= previous.SentTimestamp && r.TargetCreatedTimestamp <= previous.CompletedTimestamp;
                if (!continues)
                {
                    Close(run);
                    run.Clear();
                }
                if (r.Handler == "getattr")
                {
                    run.Add(r);
                }
                previous = r;
            }
            Close(run);
        }
        return [.. chains.Select(kv => (kv.Key, kv.Value.Length, kv.Value.Count))];

        void Close(List<CallRecord> run)
        {
            if (run.Count < _options.AdviceChainLength)
            {
                return;
            }
            string chain = (CallRecord.ShortType(run[0].Target) ?? "?") + "." + string.Join(".", run.Select(r => r.Name));
            chains[chain] = chains.TryGetValue(chain, out (int Length, int Count) seen) ? (run.Count, seen.Count + 1) : (run.Count, 1);
        }
    }
}
