namespace Rpyc.Bench;

/// <summary>
/// A client that times its own calls in its own process, as rpyc's Python client does
/// (<see cref="PythonBenchClient"/>): driven from here, each of its calls would also pay the hop
/// to it (a pipe write, a wake-up, a pipe read), tens of microseconds in every sample. So a batch is
/// run and timed there, and only the per-call times come back. The suite measures such a client
/// with <see cref="SelfTimedLatencyBenchmark"/> (latency) and <see cref="TimeConnections"/>
/// (connection time); its per-call <see cref="BenchClient"/> operations stay correct (every reply is
/// checked) but their timing includes the hop.
/// </summary>
public interface ISelfTimingClient
{
    /// <summary>Runs calls without timing them (warmup).</summary>
    /// <param name="operation">As <see cref="BenchClient.Invoke"/>, plus <c>ping_uncached</c>.</param>
    /// <param name="count">Calls.</param>
    /// <returns>The failed calls.</returns>
    public long RunUntimed(string operation, int count);

    /// <summary>Runs calls one after another, each timed by the client itself.</summary>
    /// <param name="operation">As <see cref="RunUntimed"/>.</param>
    /// <param name="count">Calls.</param>
    /// <param name="maxDuration">The most time the batch may take.</param>
    /// <returns>The successful calls' durations, the failures and the batch's time.</returns>
    public SelfTimedBatch RunTimed(string operation, int count, TimeSpan maxDuration);

    /// <summary>Opens new connections one after another, each timed from connect to the first valid reply, then closed.</summary>
    /// <param name="count">Connections.</param>
    /// <param name="gap">The pause after each (not timed), e.g. for a forking server to refill its pool.</param>
    /// <returns>The successful connections' times and the failures.</returns>
    public SelfTimedBatch TimeConnections(int count, TimeSpan gap);

    /// <summary>The round trips (sync requests) one call of an operation makes on a warm connection.</summary>
    /// <param name="operation">As <see cref="RunUntimed"/>.</param>
    /// <returns>The count.</returns>
    public long RoundTripsPerCall(string operation);
}

/// <summary>A batch of calls timed by the client that made them.</summary>
/// <param name="Ticks">The successful calls' durations, in <see cref="Clock"/> ticks, in call order.</param>
/// <param name="Failures">Failed calls.</param>
/// <param name="FirstError">The first failure's message, or <c>null</c>.</param>
/// <param name="Seconds">The batch's time, measured by the client.</param>
public sealed record SelfTimedBatch(IReadOnlyList<long> Ticks, long Failures, string? FirstError, double Seconds);
