using Rpyc;

namespace Examples.AutoBench;

// The "existing program": an ordinary RPyC client with no benchmarking or profiling code in it,
// as an application would be written. AutoBench runs it unmodified.
internal static class ExistingProgram
{
    public static int Run(string host, int port)
    {
        Console.WriteLine("Connecting to the RPyC server...");
        using RpycConnection conn = RpycConnection.Connect(host, port);
        dynamic root = conn.Root;
        Console.WriteLine("Connected! Making some calls...");
        for (int i = 0; i < 5; i++)
        {
            string pong = root.ping();
            if (pong != "pong")
            {
                return 1;
            }
        }
        Console.WriteLine("  Completed 5 pings");
        long sum = 0;
        foreach (object? item in root.get_list(20))
        {
            sum += Convert.ToInt64(item, System.Globalization.CultureInfo.InvariantCulture);
        }
        Console.WriteLine($"  Iterated a remote list of 20 items (sum {sum})");
        long chained = root.service.child.method(3);
        Console.WriteLine($"  root.service.child.method(3) = {chained}");
        byte[] data = root.download(64 * 1024);
        Console.WriteLine($"  Downloaded {data.Length} bytes");
        Console.WriteLine("Done!");
        return 0;
    }
}
