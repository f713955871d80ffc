using Rpyc.Telemetry;

namespace Rpyc.Examples.Profiling;

/// <summary>
/// Diagnosing slow calls in an application (profiling_diagnose_slow_calls.py): count the round
/// trips a batch really costs, read the advice, fix it, and measure again.
/// </summary>
public static class DiagnoseSlowCallsExample
{
    /// <summary>An application with the usual performance problems of RPyC code.</summary>
    private sealed class MyApplication(RpycConnection conn)
    {
        private readonly dynamic _root = conn.Root;

        // BAD: one network round trip per item.
        public List<long> ProcessBatch(IEnumerable<long> items)
        {
            var results = new List<long>();
            foreach (long item in items)
            {
                results.Add((long)_root.compute(item));
            }
            return results;
        }

        // GOOD: one round trip for the whole batch (a batch API on the server).
        public List<long> ProcessBatchOptimized(IEnumerable<long> items)
        {
            object? results = _root.batch_compute(PyTuple.From(items.Select(i => (object?)i)));
            return [.. ((PyTuple)results!).Cast<long>()];
        }

        // BAD: the list comes back by reference, so every item is a round trip.
        public long SumRemoteList()
        {
            long sum = 0;
            foreach (object? item in _root.get_items(20L))
            {
                sum += (long)item!;
            }
            return sum;
        }

        // GOOD: fetched by value (a tuple), one round trip.
        public long SumByValue() => ((PyTuple)_root.get_items_by_value(20L)).Cast<long>().Sum();
    }

    public static void Run()
    {
        Console.WriteLine("RPyC Performance Diagnosis Example");
        Console.WriteLine(new string('=', 80));
        Console.WriteLine();
        Console.WriteLine("This example shows how to use profiling to identify and fix");
        Console.WriteLine("common performance issues in RPyC applications.");
        Console.WriteLine();

        using var server = new ThreadedServer(() => new DemoService(), new RpycServerOptions { Port = 0 });
        server.Start();
        DiagnoseBatch(server.Port);
        DiagnoseNetrefs(server.Port);

        Console.WriteLine();
        Console.WriteLine(new string('=', 80));
        Console.WriteLine("SUMMARY");
        Console.WriteLine(new string('=', 80));
        Console.WriteLine("Use profiling to:");
        Console.WriteLine("  1. Count actual network round trips vs expected");
        Console.WriteLine("  2. Identify slow calls and deep call stacks");
        Console.WriteLine("  3. Track netref creation and usage");
        Console.WriteLine("  4. Visualize call patterns with trees and timelines");
        Console.WriteLine("  5. Read the advice: fetch by value, cache the method, batch the call");
        Console.WriteLine();
    }

    private static void DiagnoseBatch(int port)
    {
        Console.WriteLine("DIAGNOSING SLOW BATCH PROCESSING");
        Console.WriteLine(new string('=', 80));
        var telemetry = new RpycTelemetry(new RpycTelemetryOptions
        {
            SlowCallThreshold = TimeSpan.FromMilliseconds(50),
            DeepStackThreshold = 2,
        });
        using RpycConnection conn = RpycProfiler.CreateProfiledConnection("127.0.0.1", port, telemetry);
        var app = new MyApplication(conn);
        long[] items = [.. Enumerable.Range(10, 10).Select(i => (long)i)];

        // Both paths run once before anything is measured: a first call pays JIT compilation of the
        // client and server code paths and the server's first dispatch, which would make whichever
        // path runs first look slower. The telemetry forgets the warm-up.
        app.ProcessBatch(items);
        app.ProcessBatchOptimized(items);
        telemetry.Reset();

        Console.WriteLine();
        Console.WriteLine($"Processing batch of {items.Length} items...");
        Console.WriteLine("(This will be slow due to N network round trips)");
        Console.WriteLine(new string('-', 80));
        TelemetryStatistics before = telemetry.GetStatistics();
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        using (telemetry.Section("process_batch"))
        {
            app.ProcessBatch(items);
        }
        TimeSpan naive = System.Diagnostics.Stopwatch.GetElapsedTime(start);
        TelemetryStatistics after = telemetry.GetStatistics();
        Console.WriteLine($"Completed in {naive.TotalMilliseconds:F2}ms");
        Console.WriteLine($"Average time per item: {naive.TotalMilliseconds / items.Length:F2}ms");

        Console.WriteLine();
        Console.WriteLine(new string('=', 80));
        Console.WriteLine("DIAGNOSIS");
        Console.WriteLine(new string('=', 80));
        long trips = after.RoundTrips - before.RoundTrips;
        Console.WriteLine();
        Console.WriteLine($"Round trips for the batch: {trips} (expected: 1 batch call)");
        Console.WriteLine($"PROBLEM: Making {trips} calls instead of 1!");
        Console.WriteLine($"  - Average latency per call: {after.AverageCallDuration.TotalMilliseconds:F3}ms");
        Console.WriteLine($"  - Total overhead: {trips * after.AverageCallDuration.TotalMilliseconds:F3}ms just from round trips");
        Console.WriteLine();
        Console.WriteLine("What the telemetry advises:");
        foreach (Advice advice in telemetry.GetAdvice())
        {
            Console.WriteLine($"  - {advice.Message}");
        }

        Console.WriteLine();
        Console.WriteLine(new string('=', 80));
        Console.WriteLine("SOLUTION: a batch API on the server");
        Console.WriteLine(new string('=', 80));
        start = System.Diagnostics.Stopwatch.GetTimestamp();
        using (telemetry.Section("process_batch_optimized"))
        {
            app.ProcessBatchOptimized(items);
        }
        TimeSpan batched = System.Diagnostics.Stopwatch.GetElapsedTime(start);
        foreach (SectionStatistics section in telemetry.Sections)
        {
            Console.WriteLine($"  {section.Name,-26} {section.RoundTrips,3} round trips");
        }
        Console.WriteLine($"  {naive.TotalMilliseconds:F2}ms -> {batched.TotalMilliseconds:F2}ms (both warm; one run each, so on a busy machine the times vary: the round trips are the reliable figure)");

        Console.WriteLine();
        Console.WriteLine(new string('=', 80));
        Console.WriteLine("DETAILED TELEMETRY REPORT");
        Console.WriteLine(telemetry.FormatFullReport(includeTimeline: true));
    }

    private static void DiagnoseNetrefs(int port)
    {
        Console.WriteLine();
        Console.WriteLine();
        Console.WriteLine("DIAGNOSING NETREF OVERHEAD");
        Console.WriteLine(new string('=', 80));
        var telemetry = new RpycTelemetry();
        using RpycConnection conn = RpycProfiler.CreateProfiledConnection("127.0.0.1", port, telemetry);
        var app = new MyApplication(conn);
        using (telemetry.Section("by reference"))
        {
            app.SumRemoteList();
        }
        using (telemetry.Section("by value"))
        {
            app.SumByValue();
        }

        Console.WriteLine();
        Console.WriteLine(new string('=', 80));
        Console.WriteLine("NETREF ANALYSIS");
        Console.WriteLine(new string('=', 80));
        TelemetryStatistics stats = telemetry.GetStatistics();
        Console.WriteLine($"Total NetRefs created: {stats.NetrefsCreated}");
        Console.WriteLine($"Active NetRefs: {stats.ActiveNetrefs}");
        foreach (SectionStatistics section in telemetry.Sections)
        {
            Console.WriteLine($"  {section.Name,-14} {section.RoundTrips,3} round trips, {section.NetrefsCreated} netrefs created");
        }
        Console.WriteLine();
        Console.WriteLine("Each netref operation is a network round trip. Consider:");
        Console.WriteLine("  - Return simple values (tuples) instead of objects when possible");
        Console.WriteLine("  - Batch operations on netrefs in one server method");
        Console.WriteLine("  - Dispose netrefs you are done with");
        Console.WriteLine(telemetry.FormatAdviceReport());
    }
}
