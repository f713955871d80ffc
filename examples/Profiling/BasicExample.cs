namespace Rpyc.Examples.Profiling;

/// <summary>
/// Basic profiling (profiling_basic.py): a profiled connection, a few calls, the round trips
/// counted as they happen, then the summary.
/// </summary>
public static class BasicExample
{
    public static void Run()
    {
        Console.WriteLine("Basic RPyC Profiling Example");
        Console.WriteLine(new string('=', 80));

        using var server = new ThreadedServer(() => new DemoService(), new RpycServerOptions { Port = 0 });
        server.Start();

        var telemetry = new RpycTelemetry(new RpycTelemetryOptions
        {
            TrackNetrefs = true,
            SlowCallThreshold = TimeSpan.FromMilliseconds(10),
            DeepStackThreshold = 3,
        });
        using (RpycConnection conn = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry))
        {
            dynamic root = conn.Root;
            Console.WriteLine();
            Console.WriteLine("Making some remote calls...");
            Console.WriteLine(new string('-', 80));

            Console.WriteLine("1. Simple ping call:");
            string result = root.ping();
            Console.WriteLine($"   Result: {result}");
            Console.WriteLine($"   Network round trips so far: {telemetry.GetStatistics().RoundTrips}");

            Console.WriteLine();
            Console.WriteLine("2. Echo call with data:");
            byte[] data = System.Text.Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("Hello RPyC!", 100)));
            byte[] echoed = root.echo(data);
            Console.WriteLine($"   Sent {data.Length} bytes, received {echoed.Length} bytes");
            Console.WriteLine($"   Network round trips so far: {telemetry.GetStatistics().RoundTrips}");

            Console.WriteLine();
            Console.WriteLine("3. Compute call:");
            long sum = root.compute(1000);
            Console.WriteLine($"   Result: {sum}");
            Console.WriteLine($"   Network round trips so far: {telemetry.GetStatistics().RoundTrips}");

            Console.WriteLine();
            Console.WriteLine("4. Multiple sequential calls:");
            for (int i = 0; i < 5; i++)
            {
                root.ping();
            }
            Console.WriteLine("   Made 5 ping calls");
            Console.WriteLine($"   Network round trips so far: {telemetry.GetStatistics().RoundTrips}");
        }

        Console.WriteLine();
        Console.WriteLine(new string('=', 80));
        telemetry.PrintSummary();
    }
}
