using Rpyc.Telemetry;

namespace Rpyc.Examples.Profiling;

/// <summary>
/// Every visualisation (profiling_advanced.py): call tree, timeline, netref report, slow calls,
/// sections, advice and the full report, over calls that nest, create netrefs and run slow.
/// </summary>
public static class AdvancedExample
{
    public static void Run()
    {
        Console.WriteLine("Advanced RPyC Profiling Example");
        Console.WriteLine(new string('=', 80));

        using var server = new ThreadedServer(() => new DemoService(), new RpycServerOptions { Port = 0 });
        server.Start();
        using RpycConnection conn = RpycConnection.Connect("127.0.0.1", server.Port);

        RpycTelemetry telemetry;
        using (ProfilingScope profiled = RpycProfiler.Profile(conn, slowCallThreshold: TimeSpan.FromMilliseconds(10), deepStackThreshold: 2, printSummary: false))
        {
            telemetry = profiled.Telemetry;
            dynamic root = profiled.Root;

            Console.WriteLine();
            Console.WriteLine("Scenario 1: Simple calls");
            Console.WriteLine(new string('-', 40));
            for (int i = 0; i < 3; i++)
            {
                root.ping();
            }

            Console.WriteLine();
            Console.WriteLine("Scenario 2: Data transfer");
            Console.WriteLine(new string('-', 40));
            root.upload(new byte[10240]);
            byte[] downloaded = root.download(5120);

            Console.WriteLine();
            Console.WriteLine("Scenario 3: Computation (slower)");
            Console.WriteLine(new string('-', 40));
            root.compute(10000);

            Console.WriteLine();
            Console.WriteLine("Scenario 4: Sleep (triggers slow call detection)");
            Console.WriteLine(new string('-', 40));
            root.sleep(0.02);

            Console.WriteLine();
            Console.WriteLine("Scenario 5: Nested calls (the server calls back, the callback calls the server)");
            Console.WriteLine(new string('-', 40));
            Func<long, long> callback = x => (long)profiled.RootNetref.CallMethod("compute", x)!;
            root.call_back(callback, 100L);

            Console.WriteLine();
            Console.WriteLine("Scenario 6: Remote objects, a loop over a remote list, an attribute chain");
            Console.WriteLine(new string('-', 40));
            using (profiled.Section("objects"))
            {
                dynamic obj = root.get_object();
                obj.method_a();
                obj.method_b();
                long total = 0;
                foreach (object? item in root.get_items(8L))
                {
                    total += (long)item!;
                }
                long poolSize = root.config.database.pool.size;
                Console.WriteLine($"   sum of items {total}, pool size {poolSize}");
            }
        }

        // FormatCallTree prints its own "RPYC CALL TREE" banner.
        Console.WriteLine();
        Console.WriteLine(telemetry.FormatCallTree(maxDepth: 10));

        Console.WriteLine();
        Console.WriteLine(new string('=', 80));
        Console.WriteLine("TIMELINE VISUALIZATION");
        Console.WriteLine(telemetry.FormatTimeline(width: 60));

        Console.WriteLine();
        Console.WriteLine(new string('=', 80));
        Console.WriteLine("NETREF REPORT");
        Console.WriteLine(telemetry.FormatNetrefReport());

        Console.WriteLine();
        Console.WriteLine(new string('=', 80));
        Console.WriteLine("SLOW CALLS REPORT");
        Console.WriteLine(telemetry.FormatSlowCallsReport(topN: 10));

        Console.WriteLine();
        Console.WriteLine(new string('=', 80));
        Console.WriteLine("SECTIONS AND ADVICE");
        Console.WriteLine(telemetry.FormatSectionsReport());
        Console.WriteLine(telemetry.FormatAdviceReport());

        Console.WriteLine();
        Console.WriteLine(new string('=', 80));
        Console.WriteLine("FULL TELEMETRY REPORT");
        Console.WriteLine(new string('=', 80));
        telemetry.PrintSummary();
    }
}
