using System.Globalization;
using System.Text;
using Rpyc.Telemetry;

namespace Rpyc;

// The text reports, in the layout of the original rpycbench (utils/telemetry.py print_summary,
// utils/visualizer.py format_*): 80-column rules, the same headings and column widths.
public sealed partial class RpycTelemetry
{
    private const int RuleWidth = 80;
    private static readonly string s_rule = new('=', RuleWidth);
    private static readonly string s_thinRule = new('-', RuleWidth);

    /// <summary>Writes <see cref="FormatSummary"/> to <paramref name="output"/>.</summary>
    /// <param name="output">Where to write, or <c>null</c> for <see cref="Console.Out"/>.</param>
    public void PrintSummary(TextWriter? output = null) => (output ?? Console.Out).Write(FormatSummary());

    /// <summary>
    /// The summary: total calls, round trips, netrefs created and active, current and max stack
    /// depth, slow calls, average duration, then the slow calls with their stacks, the deep stacks
    /// with their frames, the active netrefs, the sections and the advice.
    /// </summary>
    /// <returns>The text, lines separated by <c>\n</c>.</returns>
    public string FormatSummary()
    {
        TelemetryStatistics stats = GetStatistics();
        List<CallRecord> records = _state.Log.Snapshot();
        var text = new StringBuilder();
        Line(text, "");
        Line(text, s_rule);
        Line(text, "RPyC TELEMETRY SUMMARY");
        Line(text, s_rule);
        Line(text, $"Total Calls:              {stats.TotalCalls}");
        Line(text, $"Network Round Trips:      {stats.RoundTrips}");
        Line(text, $"NetRefs Created:          {stats.NetrefsCreated}");
        Line(text, $"Active NetRefs:           {stats.ActiveNetrefs}");
        Line(text, $"Current Stack Depth:      {stats.CurrentStackDepth}");
        Line(text, $"Max Stack Depth:          {stats.MaxStackDepth}");
        Line(text, $"{$"Slow Calls (>{TelemetryFormat.Seconds(_options.SlowCallThreshold)}):",-26}{stats.SlowCalls}");
        Line(text, $"Avg Call Duration:        {TelemetryFormat.Milliseconds(stats.AverageCallDuration)}");
        Line(text, $"One-way Messages:         {stats.OneWayMessages}");
        Line(text, $"Incoming Requests:        {stats.IncomingRequests}");
        Line(text, $"Bytes Sent:               {stats.BytesSent}");
        Line(text, $"Bytes Received:           {stats.BytesReceived}");
        if (stats.ObjectsExported > 0)
        {
            Line(text, $"Objects Exported:         {stats.ObjectsExported} ({stats.ActiveExports} still held by the peer)");
        }
        if (stats.Errors > 0)
        {
            Line(text, $"Errors:                   {stats.Errors}");
        }
        if (stats.RecordsDropped > 0)
        {
            Line(text, $"Records Dropped:          {stats.RecordsDropped} (log full at {_options.MaxRecords})");
        }

        List<CallRecord> slow = SlowCalls(records);
        if (slow.Count > 0)
        {
            Line(text, "");
            Line(text, s_thinRule);
            Line(text, $"SLOW CALLS (>{TelemetryFormat.Seconds(_options.SlowCallThreshold)}):");
            Line(text, s_thinRule);
            // The last ten, as the original does.
            foreach (CallRecord call in slow.Skip(Math.Max(0, slow.Count - 10)))
            {
                Line(text, "");
                Line(text, $"  {call.DisplayName} ({call.Handler})");
                Line(text, string.Create(CultureInfo.InvariantCulture, $"    Duration:    {call.Duration.TotalMilliseconds,8:F2}ms"));
                Line(text, $"    Stack Depth: {call.Depth}");
                Line(text, $"    Thread:      {call.ThreadId}");
                if (call.CallSite is not null)
                {
                    Line(text, $"    Called from: {call.CallSite}");
                }
                if (call.Stack is { Count: > 1 } stack)
                {
                    Line(text, "    Stack:");
                    foreach (string frame in stack)
                    {
                        Line(text, $"      at {frame}");
                    }
                }
                if (call.Error is not null)
                {
                    Line(text, $"    Error:       {call.Error}");
                }
                if (call.Parent is not null)
                {
                    Line(text, "    Call Stack:");
                    List<CallRecord> chain = Chain(call);
                    for (int i = 0; i < chain.Count; i++)
                    {
                        string arrow = i == chain.Count - 1 ? "└─>" : "├─>";
                        string duration = chain[i].IsCompleted ? TelemetryFormat.Milliseconds(chain[i].Duration) : "...";
                        Line(text, $"      {new string(' ', 2 * i)}{arrow} {chain[i].DisplayName} ({chain[i].Handler}) [{duration}]");
                    }
                }
            }
        }

        List<(int Depth, List<CallRecord> Frames)> deep = DeepStacks(records);
        if (deep.Count > 0)
        {
            Line(text, "");
            Line(text, s_thinRule);
            Line(text, $"DEEP CALL STACKS (>={_options.DeepStackThreshold} levels):");
            Line(text, s_thinRule);
            foreach ((int depth, List<CallRecord> frames) in deep)
            {
                Line(text, $"  Depth: {depth}");
                foreach (CallRecord frame in frames)
                {
                    Line(text, $"    → {frame.DisplayName} ({frame.Handler}{(frame.Direction == CallDirection.Incoming ? ", from peer" : "")})");
                }
                Line(text, "");
            }
        }

        IReadOnlyList<NetrefInfo> active = ActiveNetrefs;
        if (active.Count > 0)
        {
            Line(text, "");
            Line(text, s_thinRule);
            Line(text, "ACTIVE NETREFS:");
            Line(text, s_thinRule);
            foreach (NetrefInfo netref in active.Take(10))
            {
                Line(text, $"  {netref}{(netref.IsRoot ? " (root)" : "")}");
            }
        }

        IReadOnlyList<SectionStatistics> sections = Sections;
        if (sections.Count > 0)
        {
            Line(text, "");
            Line(text, s_thinRule);
            Line(text, "SECTIONS:");
            Line(text, s_thinRule);
            foreach (SectionStatistics section in sections)
            {
                Line(text, string.Create(CultureInfo.InvariantCulture,
                    $"  {section.Name}: {section.RoundTrips} round trips, {section.OneWayMessages} one-way, {section.NetrefsCreated} netrefs created, {section.NetrefsReleased} released, {section.Runs} run(s), {TelemetryFormat.Duration(section.Elapsed)}"));
            }
        }

        IReadOnlyList<Advice> advice = Analyze(records);
        if (advice.Count > 0)
        {
            Line(text, "");
            Line(text, s_thinRule);
            Line(text, "ADVICE:");
            Line(text, s_thinRule);
            foreach (Advice item in advice)
            {
                Line(text, $"  - {item.Message}");
            }
        }
        Line(text, s_rule);
        Line(text, "");
        return text.ToString();
    }

    /// <summary>The calls as a tree: each operation under the one it ran inside (callbacks under the waiting call); calls still in progress are marked so.</summary>
    /// <param name="maxDepth">Deepest level shown, or <c>null</c> for all.</param>
    /// <param name="minDuration">Hide calls shorter than this (and their children), or <c>null</c> for none.</param>
    /// <param name="showNetrefs">Show the proxy each call went through and whether its reply created one.</param>
    /// <param name="collapseRepeats">Show three or more identical leaf calls in a row as one line with a count.</param>
    /// <param name="maxLines">Stop after this many call lines.</param>
    /// <returns>The text, lines separated by <c>\n</c>.</returns>
    public string FormatCallTree(int? maxDepth = null, TimeSpan? minDuration = null, bool showNetrefs = true, bool collapseRepeats = true, int maxLines = 2000)
    {
        List<CallRecord> records = _state.Log.Snapshot();
        var children = new Dictionary<long, List<CallRecord>>();
        var kept = new HashSet<long>(records.Select(r => r.Id));
        foreach (CallRecord record in records)
        {
            // A call still in progress is shown (its length unknown), or what completed inside it would be lost.
            if (record.IsCompleted && minDuration is { } min && record.Duration < min)
            {
                continue;
            }
            // A parent dropped from a full log: show the child at top level.
            long parent = kept.Contains(record.ParentId) ? record.ParentId : 0;
            if (!children.TryGetValue(parent, out List<CallRecord>? list))
            {
                children[parent] = list = [];
            }
            list.Add(record);
        }
        bool manyThreads = records.Select(r => r.ThreadId).Distinct().Skip(1).Any();
        var text = new StringBuilder();
        Line(text, s_rule);
        Line(text, "RPYC CALL TREE");
        Line(text, s_rule);
        int lines = 0;
        int hidden = 0;
        void Print(long parentId, int depth, string prefix)
        {
            if ((maxDepth is { } limit && depth >= limit) || !children.TryGetValue(parentId, out List<CallRecord>? calls))
            {
                return;
            }
            int i = 0;
            while (i < calls.Count)
            {
                CallRecord call = calls[i];
                int run = 1;
                if (collapseRepeats && call.IsCompleted && !children.ContainsKey(call.Id))
                {
                    while (i + run < calls.Count && SameLeaf(call, calls[i + run]) && !children.ContainsKey(calls[i + run].Id))
                    {
                        run++;
                    }
                    if (run < 3)
                    {
                        run = 1;
                    }
                }
                bool last = i + run >= calls.Count;
                if (lines >= maxLines)
                {
                    // Each hidden line hides the calls nested in it too (a collapsed run has none).
                    for (int k = i; k < i + run; k++)
                    {
                        hidden += 1 + Nested(calls[k].Id, depth + 1);
                    }
                    i += run;
                    continue;
                }
                lines++;
                string connector = last ? "└── " : "├── ";
                string extension = last ? "    " : "│   ";
                string netref = "";
                if (showNetrefs)
                {
                    netref = call.TargetNetrefId != 0 ? $" [NetRef #{call.TargetNetrefId}]" : "";
                    netref += call.CreatedNetref ? " → [NetRef]" : "";
                }
                string error = call.Error is null ? "" : $" ⚠ {Truncate(call.Error, 30)}";
                // Transfers show what they carried: frames of 1 KiB or more.
                long carried = Math.Max(call.RequestBytes, call.ReplyBytes);
                string bytes = run == 1 && carried >= 1024 ? $" ({TelemetryFormat.Bytes(carried)})" : "";
                string thread = manyThreads && depth == 0 ? $" (thread {call.ThreadId})" : "";
                string timing;
                if (run > 1)
                {
                    TimeSpan total = TimeSpan.Zero;
                    for (int k = i; k < i + run; k++)
                    {
                        total += calls[k].Duration;
                    }
                    timing = $" ×{run} [total {TelemetryFormat.Duration(total)}, avg {TelemetryFormat.Duration(total / run)}]";
                }
                else
                {
                    timing = call.IsCompleted ? $" [{TelemetryFormat.Duration(call.Duration)}]" : " [in progress]";
                }
                string site = run == 1 && call.CallSite is not null ? $" @ {call.CallSite}" : "";
                Line(text, $"{prefix}{connector}{call.DisplayName} ({Kind(call)}){netref}{timing}{bytes}{error}{thread}{site}");
                if (run == 1)
                {
                    Print(call.Id, depth + 1, prefix + extension);
                }
                i += run;
            }
        }
        // The calls Print would show under parentId, had it room.
        int Nested(long parentId, int depth)
        {
            if ((maxDepth is { } limit && depth >= limit) || !children.TryGetValue(parentId, out List<CallRecord>? calls))
            {
                return 0;
            }
            int count = 0;
            foreach (CallRecord call in calls)
            {
                count += 1 + Nested(call.Id, depth + 1);
            }
            return count;
        }
        Print(0, 0, "");
        if (hidden > 0)
        {
            Line(text, $"... {hidden} more calls not shown");
        }
        Line(text, s_rule);
        return text.ToString();
    }

    /// <summary>The calls as bars on a time axis, one line per call, indented by depth.</summary>
    /// <param name="width">Width of the time axis in characters.</param>
    /// <param name="minDuration">Hide calls shorter than this, or <c>null</c> for none.</param>
    /// <param name="maxLines">Show at most this many calls (the first ones).</param>
    /// <returns>The text, lines separated by <c>\n</c>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="width"/> is less than 1.</exception>
    public string FormatTimeline(int width = 80, TimeSpan? minDuration = null, int maxLines = 2000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        List<CallRecord> history = _state.Log.Snapshot()
            .Where(r => r.IsCompleted && (minDuration is not { } min || r.Duration >= min))
            .ToList();
        var text = new StringBuilder();
        Line(text, s_rule);
        Line(text, "RPYC CALL TIMELINE");
        Line(text, s_rule);
        if (history.Count == 0)
        {
            Line(text, "(no calls recorded)");
            Line(text, s_rule);
            return text.ToString();
        }
        long start = history.Min(r => r.CreatedTimestamp);
        long end = history.Max(r => r.CompletedTimestamp);
        long total = Math.Max(1, end - start);
        var bar = new char[width];
        foreach (CallRecord call in history.Take(maxLines))
        {
            int position = (int)((double)(call.CreatedTimestamp - start) / total * width);
            int length = Math.Max(1, (int)((double)(call.CompletedTimestamp - call.CreatedTimestamp) / total * width));
            Array.Fill(bar, ' ');
            for (int i = Math.Min(position, width - 1); i < Math.Min(position + length, width); i++)
            {
                bar[i] = '█';
            }
            Line(text, $"{new string(bar)} {new string(' ', 2 * (call.Depth - 1))}{call.DisplayName} ({TelemetryFormat.Duration(call.Duration)})");
        }
        if (history.Count > maxLines)
        {
            Line(text, $"... {history.Count - maxLines} more calls not shown");
        }
        Line(text, s_rule);
        Line(text, $"Total time: {TelemetryFormat.Duration(System.Diagnostics.Stopwatch.GetElapsedTime(start, end))}");
        Line(text, s_rule);
        return text.ToString();
    }

    /// <summary>The proxies alive on this side, most used first, with the totals of both sides.</summary>
    /// <returns>The text, lines separated by <c>\n</c>.</returns>
    public string FormatNetrefReport()
    {
        TelemetryStatistics stats = GetStatistics();
        IReadOnlyList<NetrefInfo> active = ActiveNetrefs;
        var text = new StringBuilder();
        Line(text, s_rule);
        Line(text, "NETREF REPORT");
        Line(text, s_rule);
        if (active.Count == 0)
        {
            Line(text, "(no active netrefs)");
        }
        else
        {
            Line(text, $"{"ID",-8} {"Class",-25} {"Age",-10} {"Calls",-8} {"Attrs",-8} {"Total",-8}");
            Line(text, s_thinRule);
            foreach (NetrefInfo netref in active)
            {
                // The original shows the class's __name__; the full name is in NetrefInfo.TypeName.
                string marker = netref.IsRoot ? " (root)" : "";
                string name = netref.TypeName.Length + marker.Length <= 25 ? netref.TypeName : CallRecord.ShortType(netref.TypeName)!;
                string type = Truncate(name, 25 - marker.Length) + marker;
                Line(text, $"{netref.Id,-8} {type,-25} {TelemetryFormat.Duration(netref.Age),-10} {netref.MethodCalls,-8} {netref.AttributeAccesses,-8} {netref.Accesses,-8}");
            }
        }
        Line(text, s_rule);
        Line(text, $"Total NetRefs: {stats.ActiveNetrefs}");
        Line(text, $"Total Created: {stats.NetrefsCreated}");
        Line(text, $"Total Released: {stats.NetrefsReleased}");
        if (stats.NetrefsDroppedOnClose > 0)
        {
            Line(text, $"Dropped With Their Connection: {stats.NetrefsDroppedOnClose}");
        }
        Line(text, $"Total Accesses: {stats.NetrefAccesses}");
        Line(text, $"Objects Exported: {stats.ObjectsExported} (released by the peer: {stats.ObjectsReleased}, still held: {stats.ActiveExports})");
        Line(text, s_rule);
        return text.ToString();
    }

    /// <summary>The slowest calls at or above <see cref="RpycTelemetryOptions.SlowCallThreshold"/>.</summary>
    /// <param name="topN">How many to list.</param>
    /// <returns>The text, lines separated by <c>\n</c>.</returns>
    public string FormatSlowCallsReport(int topN = 20)
    {
        List<CallRecord> slow = SlowCalls(_state.Log.Snapshot());
        var text = new StringBuilder();
        Line(text, s_rule);
        Line(text, $"SLOW CALLS REPORT (threshold: {TelemetryFormat.Duration(_options.SlowCallThreshold)})");
        Line(text, s_rule);
        if (slow.Count == 0)
        {
            Line(text, "(no slow calls detected)");
            Line(text, s_rule);
            return text.ToString();
        }
        List<CallRecord> top = [.. slow.OrderByDescending(c => c.Duration).Take(topN)];
        Line(text, $"{"Method",-40} {"Duration",-12} {"Type",-10} {"Depth",-8}");
        Line(text, s_thinRule);
        foreach (CallRecord call in top)
        {
            Line(text, $"{Truncate(call.DisplayName, 40),-40} {TelemetryFormat.Duration(call.Duration),-12} {call.Handler,-10} {call.Depth,-8}");
            if (call.CallSite is not null)
            {
                Line(text, $"  called from {call.CallSite}");
            }
        }
        Line(text, s_rule);
        Line(text, $"Total Slow Calls: {slow.Count} (showing top {top.Count})");
        Line(text, s_rule);
        return text.ToString();
    }

    /// <summary>The sections, one line per name.</summary>
    /// <returns>The text, lines separated by <c>\n</c>.</returns>
    public string FormatSectionsReport()
    {
        IReadOnlyList<SectionStatistics> sections = Sections;
        var text = new StringBuilder();
        Line(text, s_rule);
        Line(text, "SECTIONS REPORT");
        Line(text, s_rule);
        if (sections.Count == 0)
        {
            Line(text, "(no sections recorded)");
            Line(text, s_rule);
            return text.ToString();
        }
        // As wide as the longest name (at least 16): names are not cut.
        int nameWidth = Math.Max(16, sections.Max(s => s.Name.Length));
        Line(text, $"{"Section".PadRight(nameWidth)} {"Runs",-5} {"RoundTrips",-10} {"RT/run",-7} {"One-way",-7} {"NetRefs",-7} {"Freed",-5} {"Time",-10}");
        Line(text, s_thinRule);
        foreach (SectionStatistics s in sections)
        {
            Line(text, string.Create(CultureInfo.InvariantCulture,
                $"{s.Name.PadRight(nameWidth)} {s.Runs,-5} {s.RoundTrips,-10} {s.RoundTripsPerRun,-7:F1} {s.OneWayMessages,-7} {s.NetrefsCreated,-7} {s.NetrefsReleased,-5} {TelemetryFormat.Duration(s.Elapsed),-10}"));
        }
        Line(text, s_rule);
        return text.ToString();
    }

    /// <summary>One line per known costly pattern found, with what to do instead.</summary>
    /// <returns>The text, lines separated by <c>\n</c>.</returns>
    public string FormatAdviceReport()
    {
        IReadOnlyList<Advice> advice = GetAdvice();
        var text = new StringBuilder();
        Line(text, s_rule);
        Line(text, "ADVICE");
        Line(text, s_rule);
        if (advice.Count == 0)
        {
            Line(text, "(no costly patterns detected)");
        }
        foreach (Advice item in advice)
        {
            Line(text, $"- {item.Message}");
        }
        Line(text, s_rule);
        return text.ToString();
    }

    /// <summary>The full report: statistics, then the call tree, timeline, netrefs, slow calls, sections and advice.</summary>
    /// <param name="includeTree">Include <see cref="FormatCallTree"/>.</param>
    /// <param name="includeTimeline">Include <see cref="FormatTimeline"/>.</param>
    /// <param name="includeNetrefs">Include <see cref="FormatNetrefReport"/>.</param>
    /// <param name="includeSlowCalls">Include <see cref="FormatSlowCallsReport"/>.</param>
    /// <param name="includeSections">Include <see cref="FormatSectionsReport"/> when there are sections.</param>
    /// <param name="includeAdvice">Include <see cref="FormatAdviceReport"/>.</param>
    /// <returns>The text, lines separated by <c>\n</c>.</returns>
    public string FormatFullReport(bool includeTree = true, bool includeTimeline = false, bool includeNetrefs = true, bool includeSlowCalls = true, bool includeSections = true, bool includeAdvice = true)
    {
        TelemetryStatistics stats = GetStatistics();
        var text = new StringBuilder();
        Line(text, s_rule);
        Line(text, "RPYC TELEMETRY REPORT");
        Line(text, s_rule);
        Line(text, "");
        Line(text, "SUMMARY:");
        Line(text, $"  Total Calls:              {stats.TotalCalls}");
        Line(text, $"  Network Round Trips:      {stats.RoundTrips}");
        Line(text, $"  NetRefs Created:          {stats.NetrefsCreated}");
        Line(text, $"  Active NetRefs:           {stats.ActiveNetrefs}");
        Line(text, $"  Max Stack Depth:          {stats.MaxStackDepth}");
        Line(text, $"  Avg Call Duration:        {TelemetryFormat.Duration(stats.AverageCallDuration)}");
        Line(text, $"  Slow Calls:               {stats.SlowCalls}");
        Line(text, $"  One-way Messages:         {stats.OneWayMessages}");
        Line(text, $"  Incoming Requests:        {stats.IncomingRequests}");
        Line(text, $"  Bytes Sent:               {stats.BytesSent}");
        Line(text, $"  Bytes Received:           {stats.BytesReceived}");
        Line(text, $"  Errors:                   {stats.Errors}");
        Line(text, "");
        bool any = stats.TotalCalls > 0;
        if (includeTree && any)
        {
            Line(text, FormatCallTree(maxLines: 500));
        }
        if (includeTimeline && any)
        {
            Line(text, FormatTimeline(maxLines: 500));
        }
        if (includeNetrefs && (stats.NetrefsCreated > 0 || stats.ObjectsExported > 0))
        {
            Line(text, FormatNetrefReport());
        }
        if (includeSlowCalls && stats.SlowCalls > 0)
        {
            Line(text, FormatSlowCallsReport());
        }
        if (includeSections && Sections.Count > 0)
        {
            Line(text, FormatSectionsReport());
        }
        if (includeAdvice)
        {
            Line(text, FormatAdviceReport());
        }
        return text.ToString();
    }

    private static void Line(StringBuilder text, string line) => text.Append(line).Append('\n');

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..length];

    private static string Kind(CallRecord call) => call.Direction == CallDirection.Incoming
        ? $"{call.Handler.ToUpperInvariant()} from peer"
        : call.IsOneWay ? $"{call.Handler.ToUpperInvariant()}, one-way" : call.Handler.ToUpperInvariant();

    private static bool SameLeaf(CallRecord a, CallRecord b) =>
        a.Handler == b.Handler && a.Direction == b.Direction && a.IsRoundTrip == b.IsRoundTrip && a.Target == b.Target && a.Name == b.Name
        && a.TargetNetrefId == b.TargetNetrefId && a.CreatedNetref == b.CreatedNetref && (a.Error is null) == (b.Error is null)
        && b.IsCompleted;

    private List<CallRecord> SlowCalls(List<CallRecord> records) =>
        [.. records.Where(r => r.IsCompleted && r.Duration >= _options.SlowCallThreshold)];

    // Root first.
    private static List<CallRecord> Chain(CallRecord call)
    {
        var chain = new List<CallRecord>();
        for (CallRecord? r = call; r is not null; r = r.Parent)
        {
            chain.Add(r);
        }
        chain.Reverse();
        return chain;
    }

    // The last five distinct stacks that reached the threshold, each taken at its deepest frame.
    private List<(int Depth, List<CallRecord> Frames)> DeepStacks(List<CallRecord> records)
    {
        var deepest = records.Where(r => r.Depth >= _options.DeepStackThreshold).ToList();
        var parents = deepest.Where(d => d.Parent is not null).Select(d => d.Parent!.Id).ToHashSet();
        var leaves = deepest.Where(r => !parents.Contains(r.Id)).ToList();
        var seen = new HashSet<string>();
        var result = new List<(int, List<CallRecord>)>();
        for (int i = leaves.Count - 1; i >= 0 && result.Count < 5; i--)
        {
            List<CallRecord> frames = Chain(leaves[i]);
            string key = string.Join("|", frames.Select(f => $"{f.Handler}:{f.DisplayName}:{f.Direction}"));
            if (seen.Add(key))
            {
                result.Add((leaves[i].Depth, frames));
            }
        }
        result.Reverse();
        return result;
    }
}
