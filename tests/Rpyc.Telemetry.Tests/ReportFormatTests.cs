using System.Globalization;
using System.Text.RegularExpressions;

namespace Rpyc.Telemetry.Tests;

/// <summary>The text reports for a known scenario: the lines of the original rpycbench layout, with timings masked.</summary>
[Collection(DotnetServerCollection.Name)]
public sealed partial class ReportFormatTests(DotnetServerFixture server, ITestOutputHelper output)
{
    // getroot; ping; call_and_release(f) with the server calling f and releasing it; a loop over a
    // 5-item list; root.tree.child.child.value. 19 operations, 15 round trips, 2 one-way, 2 incoming.
    private RpycTelemetry RunKnownScenario(RpycTelemetryOptions? options = null)
    {
        var telemetry = new RpycTelemetry(options);
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry);
        Netref root = connection.RootNetref;
        root.CallMethod("ping");
        Func<long, long> times10 = x => x * 10;
        root.CallMethod("call_and_release", times10, 4L);
        using (telemetry.Section("load"))
        {
            using var list = (Netref)root.CallMethod("get_list")!;
            foreach (object? item in list)
            {
            }
        }
        // root.tree.child.child.value, holding the proxies so no finalizer adds a DEL to the trace.
        var tree = (Netref)root.GetAttr("tree")!;
        var child = (Netref)tree.GetAttr("child")!;
        var grandchild = (Netref)child.GetAttr("child")!;
        Assert.Equal(1L, grandchild.GetAttr("value"));
        telemetry.Detach(connection);
        GC.KeepAlive(tree);
        GC.KeepAlive(child);
        GC.KeepAlive(grandchild);
        return telemetry;
    }

    [GeneratedRegex(@"\d+(\.\d+)?(µs|ms|s)\b")]
    private static partial Regex Timing();

    private string Mask(string text)
    {
        output.WriteLine(text);
        return Timing().Replace(text, "T");
    }

    private static string[] Lines(string text) => text.Split('\n');

    [Fact]
    public void FormatCallTree_KnownScenario_NestsCallbacksAndCollapsesTheLoop()
    {
        RpycTelemetry telemetry = RunKnownScenario();
        string expected = """
            ================================================================================
            RPYC CALL TREE
            ================================================================================
            ├── getroot (GETROOT) → [NetRef] [T]
            ├── TelemetryTestService.ping (CALLATTR) [NetRef #1] [T]
            ├── TelemetryTestService.call_and_release (CALLATTR) [NetRef #1] [T]
            │   ├── Func<long, long>() (CALL from peer) [T]
            │   └── del(Func<long, long>) (DEL from peer) [T]
            ├── TelemetryTestService.get_list (CALLATTR) [NetRef #1] → [NetRef] [T]
            ├── List.__iter__ (CALLATTR) [NetRef #3] → [NetRef] [T]
            ├── LocalIterator.__next__ (CALLATTR) [NetRef #4] ×5 [total T, avg T]
            ├── LocalIterator.__next__ (CALLATTR) [NetRef #4] [T] ⚠ builtins.StopIteration
            ├── del(LocalIterator) (DEL, one-way) [T]
            ├── del(List) (DEL, one-way) [T]
            ├── TelemetryTestService.tree (GETATTR) [NetRef #1] → [NetRef] [T]
            ├── Node.child (GETATTR) [NetRef #5] → [NetRef] [T]
            ├── Node.child (GETATTR) [NetRef #6] → [NetRef] [T]
            └── Node.value (GETATTR) [NetRef #7] [T]
            ================================================================================

            """;
        Assert.Equal(expected, Mask(telemetry.FormatCallTree()));
    }

    [Fact]
    public void FormatCallTree_NoCollapseAndMaxDepth_OneLinePerCallTopLevelOnly()
    {
        RpycTelemetry telemetry = RunKnownScenario();
        string[] lines = Lines(Mask(telemetry.FormatCallTree(maxDepth: 1, collapseRepeats: false)));
        // 17 top-level operations between the three header lines and the closing rule.
        Assert.Equal(17, lines.Length - 5);
        Assert.Equal(6, lines.Count(l => l.Contains("LocalIterator.__next__", StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.Contains("from peer", StringComparison.Ordinal));
    }

    // The calls past maxLines were counted one per hidden line, without the calls nested in them:
    // here 9 of the 27 hidden.
    [Fact]
    public void FormatCallTree_MaxLinesReachedWithNestedCalls_CountsEveryHiddenCall()
    {
        var telemetry = new RpycTelemetry();
        using (RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry))
        {
            Netref root = connection.RootNetref;
            Func<long, long> twice = x => 2 * x;
            // Each: CALLATTR, and inside it the server's CALL of the function and its DEL of it.
            for (int i = 0; i < 10; i++)
            {
                root.CallMethod("call_and_release", twice, (long)i);
            }
            telemetry.Detach(connection);
        }
        Assert.Equal(31, telemetry.Records.Count);
        string[] lines = Lines(Mask(telemetry.FormatCallTree(maxLines: 4)));
        // getroot, then the first call_and_release with its two nested calls: 4 lines, 27 calls hidden.
        Assert.Equal(4, lines.Count(l => l.Contains("── ", StringComparison.Ordinal)));
        Assert.Contains("... 27 more calls not shown", lines);
        // Deeper levels left out by maxDepth are not counted as hidden by maxLines.
        Assert.Contains("... 8 more calls not shown", Lines(telemetry.FormatCallTree(maxDepth: 1, maxLines: 3)));
    }

    [Fact]
    public async Task FormatCallTree_CallInProgress_ShownWithWhatCompletedInsideIt()
    {
        var telemetry = new RpycTelemetry();
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry);
        Netref root = connection.RootNetref;
        using var pinged = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        // The server's callback pings back, then waits: call_back and the callback are still in progress.
        Func<long, long> pingThenWait = x =>
        {
            root.CallMethod("ping");
            pinged.Set();
            release.Wait(TimeSpan.FromSeconds(30));
            return x;
        };
        Task outer = Task.Run(() => root.CallMethod("call_back", pingThenWait, 1L));
        string tree;
        try
        {
            Assert.True(pinged.Wait(TimeSpan.FromSeconds(30)));
            tree = Mask(telemetry.FormatCallTree());
        }
        finally
        {
            release.Set();
            await outer.WaitAsync(TimeSpan.FromSeconds(30));
        }
        string[] lines = Lines(tree);
        // Made on another thread than getroot: the top-level line names its thread.
        Assert.Contains(lines, l => l.StartsWith("└── TelemetryTestService.call_back (CALLATTR) [NetRef #1] [in progress] (thread ", StringComparison.Ordinal));
        Assert.Contains("    └── Func<long, long>() (CALL from peer) [in progress]", lines);
        Assert.Contains("        └── TelemetryTestService.ping (CALLATTR) [NetRef #1] [T]", lines);
    }

    // The threshold in seconds kept three decimals: 0.5 ms read "0.001s" and 0.25 ms "0.0s".
    [Fact]
    public async Task SlowCallThreshold_UnderAMillisecond_ShownExactly()
    {
        var telemetry = new RpycTelemetry(new RpycTelemetryOptions { SlowCallThreshold = TimeSpan.FromMilliseconds(0.5) });
        Assert.Contains("Slow Calls (>0.0005s):    0", Lines(telemetry.FormatSummary()));

        var options = new Rpyc.Profiling.Wire.RpycWireProxyOptions { SlowCallThreshold = TimeSpan.FromMilliseconds(0.25) };
        await using var proxy = Rpyc.Profiling.Wire.RpycWireProxy.Start(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0), "127.0.0.1", server.Port, options);
        Assert.Contains("Slow Calls (>=0.00025s)", Rpyc.Profiling.Wire.WireProfileReport.FormatText(proxy.GetProfile()), StringComparison.Ordinal);
    }

    [Fact]
    public void FormatTimeline_KnownScenario_OneBarPerCallIndentedByDepth()
    {
        RpycTelemetry telemetry = RunKnownScenario();
        string[] lines = Lines(Mask(telemetry.FormatTimeline(width: 40)));
        Assert.Equal("RPYC CALL TIMELINE", lines[1]);
        string[] bars = lines[3..^4];
        Assert.Equal(19, bars.Length);
        Assert.All(bars, l =>
        {
            Assert.Matches("^[█ ]{40} ", l);
            Assert.Contains('█', l[..40]);
        });
        Assert.StartsWith("█", bars[0], StringComparison.Ordinal);
        Assert.EndsWith(" getroot (T)", bars[0], StringComparison.Ordinal);
        Assert.EndsWith("   Func<long, long>() (T)", bars[3], StringComparison.Ordinal);
        Assert.EndsWith(" TelemetryTestService.call_and_release (T)", bars[2], StringComparison.Ordinal);
        Assert.Equal("Total time: T", lines[^3]);
    }

    [Fact]
    public void PrintSummary_KnownScenario_CountsSlowCallsDeepStacksAndAdvice()
    {
        RpycTelemetry telemetry = RunKnownScenario(new RpycTelemetryOptions { SlowCallThreshold = TimeSpan.FromHours(1), DeepStackThreshold = 2 });
        var writer = new StringWriter();
        telemetry.PrintSummary(writer);
        string[] lines = Lines(Mask(writer.ToString()));
        string[] head =
        [
            "",
            new string('=', 80),
            "RPyC TELEMETRY SUMMARY",
            new string('=', 80),
            "Total Calls:              19",
            "Network Round Trips:      15",
            "NetRefs Created:          6",
            "Active NetRefs:           4",
            "Current Stack Depth:      0",
            "Max Stack Depth:          2",
            "Slow Calls (>T):    0",
            "Avg Call Duration:        T",
            "One-way Messages:         2",
            "Incoming Requests:        2",
        ];
        Assert.Equal(head, lines[..head.Length]);
        int deep = Array.IndexOf(lines, "DEEP CALL STACKS (>=2 levels):");
        Assert.True(deep > 0);
        Assert.Equal(
            ["  Depth: 2", "    → TelemetryTestService.call_and_release (callattr)", "    → Func<long, long>() (call, from peer)", "",
             "  Depth: 2", "    → TelemetryTestService.call_and_release (callattr)", "    → del(Func<long, long>) (del, from peer)"],
            lines[(deep + 2)..(deep + 9)]);
        Assert.Contains("ACTIVE NETREFS:", lines);
        Assert.Equal(4, lines.Count(l => l.StartsWith("  NetRef<", StringComparison.Ordinal)));
        Assert.Contains(lines, l => l.StartsWith("  NetRef<Rpyc.Telemetry.Tests.TelemetryTestService> id=1 ", StringComparison.Ordinal) && l.EndsWith(" calls=3 attrs=1 (root)", StringComparison.Ordinal));
        Assert.Contains("  load: 8 round trips, 2 one-way, 2 netrefs created, 2 released, 1 run(s), T", lines);
        Assert.Contains("ADVICE:", lines);
        Assert.DoesNotContain("SLOW CALLS (>T):", lines);
        Assert.Equal([new string('=', 80), "", ""], lines[^3..]);
    }

    [Fact]
    public void PrintSummary_SlowCalls_ListedWithTheirCallStack()
    {
        RpycTelemetry telemetry = RunKnownScenario(new RpycTelemetryOptions { SlowCallThreshold = TimeSpan.Zero });
        string[] lines = Lines(Mask(telemetry.FormatSummary()));
        Assert.Contains("Slow Calls (>T):       19", lines);
        Assert.Contains("SLOW CALLS (>T):", lines);
        // The last ten slow calls; none of them nested, so no call stack.
        Assert.Equal(10, lines.Count(l => l.StartsWith("    Duration:", StringComparison.Ordinal)));
        Assert.Equal("  Node.value (getattr)", lines.Last(l => l.StartsWith("  Node.", StringComparison.Ordinal)));
    }

    [Fact]
    public void FormatNetrefReport_KnownScenario_ActiveProxiesAndTotals()
    {
        RpycTelemetry telemetry = RunKnownScenario();
        string[] lines = Lines(Mask(telemetry.FormatNetrefReport()));
        Assert.Equal("NETREF REPORT", lines[1]);
        Assert.Equal("ID       Class                     Age        Calls    Attrs    Total   ", lines[3]);
        Assert.Matches(@"^1        TelemetryTestServi \(root\) T +3        1        4       $", lines[5]);
        Assert.Equal(3, lines.Count(l => Regex.IsMatch(l, @"^[567] +Rpyc\.Telemetry\.Tests\.Node +T +0 +1 +1 +$")));
        Assert.Contains("Total NetRefs: 4", lines);
        Assert.Contains("Total Created: 6", lines);
        Assert.Contains("Total Released: 2", lines);
        Assert.Contains("Objects Exported: 1 (released by the peer: 1, still held: 0)", lines);
    }

    [Fact]
    public void FormatSlowCallsReport_TopN_SortedByDuration()
    {
        RpycTelemetry telemetry = RunKnownScenario(new RpycTelemetryOptions { SlowCallThreshold = TimeSpan.Zero });
        string text = telemetry.FormatSlowCallsReport(topN: 5);
        string[] lines = Lines(Mask(text));
        Assert.Equal("SLOW CALLS REPORT (threshold: T)", lines[1]);
        Assert.Equal("Method                                   Duration     Type       Depth   ", lines[3]);
        Assert.Equal("Total Slow Calls: 19 (showing top 5)", lines[^3]);
        Assert.Equal(5, lines.Length - 9);
        TimeSpan[] durations = [.. telemetry.Records.Select(r => r.Duration).OrderByDescending(d => d).Take(5)];
        Assert.Equal(durations, telemetry.Records.OrderByDescending(r => r.Duration).Take(5).Select(r => r.Duration));

        RpycTelemetry fast = RunKnownScenario(new RpycTelemetryOptions { SlowCallThreshold = TimeSpan.FromHours(1) });
        Assert.Contains("(no slow calls detected)", Lines(fast.FormatSlowCallsReport()));
    }

    [Fact]
    public void FormatFullReport_KnownScenario_EverySectionInOrder()
    {
        RpycTelemetry telemetry = RunKnownScenario(new RpycTelemetryOptions { SlowCallThreshold = TimeSpan.Zero });
        string[] lines = Lines(Mask(telemetry.FormatFullReport(includeTimeline: true)));
        string[] headings = ["RPYC TELEMETRY REPORT", "RPYC CALL TREE", "RPYC CALL TIMELINE", "NETREF REPORT", "SLOW CALLS REPORT (threshold: T)", "SECTIONS REPORT", "ADVICE"];
        int[] positions = [.. headings.Select(h => Array.IndexOf(lines, h))];
        Assert.All(positions, p => Assert.True(p >= 0));
        Assert.Equal(positions.Order(), positions);
        Assert.Contains("  Network Round Trips:      15", lines);
        Assert.Contains(lines, l => Regex.IsMatch(l, "^load             1     8          8.0     2       2       2     T +$"));
    }

    [Fact]
    public void Reports_CommaDecimalCulture_UseInvariantNumbers()
    {
        RpycTelemetry telemetry = RunKnownScenario(new RpycTelemetryOptions { SlowCallThreshold = TimeSpan.Zero });
        CultureInfo saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            string report = telemetry.FormatFullReport(includeTimeline: true) + telemetry.FormatSummary();
            Assert.Matches(@"Avg Call Duration: +\d+\.\d\dms", report);
            Assert.DoesNotMatch(@"\d,\d\d(ms|s)\b", report);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }
}
