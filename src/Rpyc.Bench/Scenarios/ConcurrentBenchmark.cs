using System.Runtime.CompilerServices;

namespace Rpyc.Bench;

/// <summary>
/// N clients × M requests at once. Every client connects first (not measured), then all wait on a
/// start barrier and are released together; each sends its requests back to back on its own
/// thread. Reports per-client results, throughput over the whole run (release to last reply),
/// latency under load, and the success rate. A client that cannot connect counts all its requests
/// as failures.
/// </summary>
/// <param name="name">Its name in reports.</param>
/// <param name="target">The server.</param>
/// <param name="clients">Number of clients (connections, threads).</param>
/// <param name="requestsPerClient">Requests each client sends.</param>
public sealed class ConcurrentBenchmark(string name, BenchTarget target, int clients = 10, int requestsPerClient = 100)
    : BenchmarkBase<ConcurrentResult>(name)
{
    /// <summary>The request each client sends; default <see cref="BenchClient.Ping"/>.</summary>
    public Action<BenchClient> Request { get; init; } = static c => c.Ping();

    /// <summary>The most time the measured phase may take; default 60 s.</summary>
    public TimeSpan MaxDuration { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The least time the measured phase lasts: each client goes on past its request count until
    /// then (bounded by <see cref="MaxDuration"/>). Default zero: the count alone.
    /// </summary>
    public TimeSpan MinDuration { get; init; }

    /// <summary>Unmeasured requests per client before the barrier; default 5.</summary>
    public int WarmupPerClient { get; init; } = 5;

    /// <summary>Runs once every client is connected and warm, just before the barrier's release (e.g. to let the server settle).</summary>
    public Action? BeforeRelease { get; init; }

    /// <summary>Keep every raw sample.</summary>
    public bool KeepSamples { get; init; }

    /// <inheritdoc />
    protected override ConcurrentResult Run(CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clients);
        var states = new ClientState[clients];
        using var ready = new CountdownEvent(clients);
        using var go = new ManualResetEventSlim();
        long releaseTicks = 0;
        var threads = new Thread[clients];
        for (int i = 0; i < clients; i++)
        {
            var state = new ClientState(i, new LatencyRecorder(KeepSamples));
            states[i] = state;
            threads[i] = new Thread(() => ClientLoop(state, ready, go, () => Volatile.Read(ref releaseTicks), cancellationToken))
            {
                IsBackground = true,
                Name = $"bench-client-{i}",
            };
            threads[i].Start();
        }
        // Every client is connected and warm (or failed) before anyone starts.
        ready.Wait(CancellationToken.None);
        BeforeRelease?.Invoke();
        Volatile.Write(ref releaseTicks, Clock.Now);
        go.Set();
        foreach (Thread thread in threads)
        {
            thread.Join();
        }
        ChargeRefusedClients(states);
        long end = states.Max(s => s.EndTicks);
        var merged = new LatencyRecorder(KeepSamples);
        var perClient = new List<ClientResult>(clients);
        foreach (ClientState s in states)
        {
            merged.Add(s.Recorder);
            perClient.Add(new ClientResult
            {
                Client = s.Index,
                Successes = s.Recorder.Count,
                Failures = s.Recorder.Failures,
                Seconds = s.EndTicks > s.StartTicks ? Clock.ToSeconds(s.EndTicks - s.StartTicks) : 0,
                Latency = s.Recorder.ToStatistics(),
            });
        }
        return new ConcurrentResult
        {
            Name = Name,
            Clients = clients,
            RequestsPerClient = requestsPerClient,
            Successes = merged.Count,
            Failures = merged.Failures,
            Seconds = end > releaseTicks ? Clock.ToSeconds(end - releaseTicks) : 0,
            Latency = merged.ToStatistics(),
            PerClient = perClient,
            FirstError = states.Select(s => s.FirstError).FirstOrDefault(e => e is not null),
        };
    }

    // Each client thread runs this once per phase: optimized at once, as LatencyBenchmark's
    // measured loop, so no thread compiles a copy of it mid-phase (on-stack replacement).
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ClientLoop(ClientState state, CountdownEvent ready, ManualResetEventSlim go, Func<long> release, CancellationToken cancellationToken)
    {
        BenchClient? client = null;
        try
        {
            try
            {
                client = target.Connect();
                for (int i = 0; i < WarmupPerClient; i++)
                {
                    Request(client);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                state.FirstError = $"client {state.Index} could not connect: {Describe(ex)}";
                client?.Dispose();
                client = null;
            }
            finally
            {
                ready.Signal();
            }
            go.Wait(CancellationToken.None);
            long start = Clock.Now;
            state.StartTicks = start;
            state.EndTicks = start;
            if (client is null)
            {
                // Its failures are charged once the others are done (ChargeRefusedClients).
                state.Refused = true;
                return;
            }
            var limits = new RunLimits(requestsPerClient, MaxDuration) { MinDuration = MinDuration };
            long released = release();
            for (int i = 0; !cancellationToken.IsCancellationRequested; i++)
            {
                long t0 = Clock.Now;
                if (!limits.GoesOn(i, released, t0))
                {
                    break;
                }
                try
                {
                    Request(client);
                    state.Recorder.Record(Clock.Now - t0);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    state.Recorder.RecordFailure();
                    state.FirstError ??= $"client {state.Index}: {Describe(ex)}";
                }
            }
            state.EndTicks = Clock.Now;
        }
        finally
        {
            client?.Dispose();
        }
    }

    // A client that could not connect fails every request it would have sent: as many as the
    // clients that worked sent on average (at least the count asked for; one each when none
    // worked). Charged the count asked for, it made the success rate depend on how long the
    // others ran: one of 10 refused read 0.959 over a 0.3 s phase and 0.996 over a loopback
    // phase of 0.5 s, for a tenth of the load that never ran.
    private void ChargeRefusedClients(ClientState[] states)
    {
        ClientState[] worked = states.Where(s => !s.Refused).ToArray();
        long made = worked.Length == 0 ? 1
            : (long)Math.Round(worked.Average(s => (double)(s.Recorder.Count + s.Recorder.Failures)));
        long charge = requestsPerClient == int.MaxValue ? Math.Max(1, made) : Math.Max(requestsPerClient, made);
        foreach (ClientState refused in states.Where(s => s.Refused))
        {
            refused.Recorder.RecordFailures(charge);
        }
    }

    private sealed class ClientState(int index, LatencyRecorder recorder)
    {
        public bool Refused { get; set; }

        public int Index { get; } = index;

        public LatencyRecorder Recorder { get; } = recorder;

        public long StartTicks { get; set; }

        public long EndTicks { get; set; }

        public string? FirstError { get; set; }
    }
}
