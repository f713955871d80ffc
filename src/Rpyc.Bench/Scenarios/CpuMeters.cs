namespace Rpyc.Bench;

/// <summary>
/// Reads the CPU seconds used so far by the measuring side and by the server, so that a phase can
/// report the CPU each side spent per request (<see cref="LatencyResult.CpuPerRequest"/>). Either
/// reading may return <c>null</c>: not
/// measured on that side (a remote server, a server inside the client's process).
/// </summary>
/// <param name="Client">The client's CPU seconds so far, e.g. its process's.</param>
/// <param name="Server">The server's CPU seconds so far, e.g. its process tree's.</param>
/// <example>
/// <code>
/// var cpu = new CpuMeters(() =&gt; Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds, () =&gt; null);
/// LatencyResult r = new LatencyBenchmark("ping", () =&gt; { client.Ping(); return true; }) { Cpu = cpu }.Execute();
/// Console.WriteLine(r.CpuPerRequest?.Client * 1e6);
/// </code>
/// </example>
public sealed record CpuMeters(Func<double?> Client, Func<double?> Server)
{
    // Readings at one end of a phase.
    internal (double? Client, double? Server) Read() => (Client(), Server());

    // CPU seconds per request between two readings, each side alone; null where a reading is
    // missing, and no figure when neither side has one.
    internal static CpuPerRequest? PerRequest((double? Client, double? Server) before, (double? Client, double? Server) after, long requests)
    {
        double? client = Per(before.Client, after.Client, requests);
        double? server = Per(before.Server, after.Server, requests);
        return client is null && server is null ? null : new CpuPerRequest(client, server);
    }

    private static double? Per(double? before, double? after, long requests) =>
        before is double b && after is double a && requests > 0 ? Math.Max(0, a - b) / requests : null;
}
