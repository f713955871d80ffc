using System.Runtime.CompilerServices;

namespace Rpyc.Bench;

/// <summary>
/// Throughput of N concurrent clients beside a reference's N (the suite's: a target's ten clients
/// beside the raw TCP floor's ten), measured in alternating time slices. Every client thread holds
/// one connection to each side; all threads work on one side for a slice, then on the other, and
/// again, until the limits are met. The two rates then come from the same stretch of time, so
/// their ratio holds still while the machine drifts: on a 2-vCPU VM the floor's own ten-client
/// rate moved 44,000 ↔ 65,000 req/s from one round of the suite to the next, and the ratio of two
/// phases measured seconds apart read 0.79-1.00 for the same build.
/// </summary>
/// <remarks>
/// A slice starts when the coordinating thread releases the clients and ends when the last
/// client's request in flight at the deadline has returned, so both sides' slices carry the same
/// wake-up of N threads at their start. Before the measured slices, each side has one short slice
/// that is not measured: the other side's server threads have slept meanwhile.
/// </remarks>
/// <example>
/// <code>
/// PairedThroughputResult r = new PairedConcurrentBenchmark("10 clients vs floor", rpyc, tcpRaw, clients: 10,
///     new RunLimits(4, TimeSpan.FromSeconds(10), Warmup: 5) { MinDuration = TimeSpan.FromSeconds(0.8) }).Execute();
/// Console.WriteLine($"{r.Ratio:0.00}x the floor's rate");
/// </code>
/// </example>
public sealed class PairedConcurrentBenchmark : BenchmarkBase<PairedThroughputResult>
{
    /// <summary>
    /// One slice by default: long beside the ~0.2 ms the release of ten threads took on two cores
    /// (0.2 %), and beside the start of each slice in the caches and with the sleeping server
    /// threads the other side left; short beside the machine's drift (its speed states last
    /// seconds). Ten clients of rpyc_threaded beside tcp_raw's, one 6 s suite each, read 0.85 with
    /// 25 ms slices, 0.82 with 50, 0.92 with 100 and 0.94 with 200: no trend beyond the spread of
    /// such runs (0.82-0.94), but nothing to gain below 0.1 s either.
    /// </summary>
    public static readonly TimeSpan DefaultSlice = TimeSpan.FromSeconds(0.1);

    private const int Subject = 0;
    private const int Reference = 1;

    private readonly BenchTarget[] _sides;
    private readonly int _clients;
    private readonly RunLimits _limits;

    /// <summary>Creates the benchmark.</summary>
    /// <param name="name">Its name in reports.</param>
    /// <param name="subject">The server measured.</param>
    /// <param name="reference">The server it is compared with.</param>
    /// <param name="clients">Clients on each side (threads; each holds one connection to either side).</param>
    /// <param name="limits">
    /// <see cref="RunLimits.Count"/>: the least number of slice pairs; <see cref="RunLimits.MinDuration"/>
    /// and <see cref="RunLimits.MaxDuration"/>: of both sides' measured slices together;
    /// <see cref="RunLimits.Warmup"/>: requests of each client on each side after connecting.
    /// </param>
    public PairedConcurrentBenchmark(string name, BenchTarget subject, BenchTarget reference, int clients, RunLimits limits)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(clients);
        _sides = [subject, reference];
        _clients = clients;
        _limits = limits;
    }

    /// <summary>The length of one slice; default <see cref="DefaultSlice"/>.</summary>
    public TimeSpan Slice { get; init; } = DefaultSlice;

    /// <summary>The request each client sends to either side; default <see cref="BenchClient.Ping"/>.</summary>
    public Action<BenchClient> Request { get; init; } = static c => c.Ping();

    /// <summary>Runs once every client is connected and warm, just before the first slice (e.g. to let the servers settle).</summary>
    public Action? BeforeRelease { get; init; }

    /// <inheritdoc />
    protected override PairedThroughputResult Run(CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(Slice, TimeSpan.Zero);
        using var slice = new SliceControl(_clients);
        var workers = new Worker[_clients];
        var threads = new Thread[_clients];
        for (int i = 0; i < _clients; i++)
        {
            var worker = new Worker(i, this, slice);
            workers[i] = worker;
            threads[i] = new Thread(worker.Loop) { IsBackground = true, Name = $"bench-paired-client-{i}" };
            threads[i].Start();
        }
        var totals = new SideTotals[2];
        int pairs = 0;
        double measured = 0;
        try
        {
            // Connected and warm, or failed, on both sides.
            slice.Ready.Wait(CancellationToken.None);
            if (workers.All(w => w.FirstError is null))
            {
                BeforeRelease?.Invoke();
                TimeSpan warmup = Slice / 4;
                RunSlice(slice, workers, Subject, warmup);
                RunSlice(slice, workers, Reference, warmup);
                long start = Clock.Now;
                while (!cancellationToken.IsCancellationRequested && _limits.GoesOn(pairs, start, Clock.Now)
                    && totals[Subject].Failures == 0 && totals[Reference].Failures == 0)
                {
                    totals[Subject].Add(RunSlice(slice, workers, Subject, Slice));
                    totals[Reference].Add(RunSlice(slice, workers, Reference, Slice));
                    pairs++;
                }
                measured = Clock.SecondsSince(start);
            }
        }
        finally
        {
            slice.Stop();
            foreach (Thread thread in threads)
            {
                thread.Join();
            }
        }
        double subjectRate = totals[Subject].Rate, referenceRate = totals[Reference].Rate;
        return new PairedThroughputResult
        {
            Subject = subjectRate,
            Reference = referenceRate,
            Ratio = subjectRate > 0 && referenceRate > 0 ? subjectRate / referenceRate : double.NaN,
            Clients = _clients,
            Slices = pairs,
            SliceSeconds = Slice.TotalSeconds,
            Seconds = measured,
            Failures = totals[Subject].Failures + totals[Reference].Failures + workers.Count(w => w.ConnectFailed),
            FirstError = workers.Select(w => w.FirstError).FirstOrDefault(e => e is not null),
        };
    }

    // Releases every client on one side until the deadline; returns what the slice did.
    private static SliceOutcome RunSlice(SliceControl slice, Worker[] workers, int side, TimeSpan length)
    {
        long released = Clock.Now;
        slice.Begin(side, released + Clock.FromSeconds(length.TotalSeconds));
        slice.WaitForEnd();
        long end = released;
        long successes = 0, failures = 0;
        foreach (Worker w in workers)
        {
            end = Math.Max(end, w.SliceEnd);
            successes += w.SliceSuccesses;
            failures += w.SliceFailures;
        }
        return new SliceOutcome(successes, failures, Clock.ToSeconds(end - released));
    }

    private readonly record struct SliceOutcome(long Successes, long Failures, double Seconds);

    private struct SideTotals
    {
        public long Successes;
        public long Failures;
        public double Seconds;

        public readonly double Rate => Seconds > 0 ? Successes / Seconds : 0;

        public void Add(SliceOutcome o)
        {
            Successes += o.Successes;
            Failures += o.Failures;
            Seconds += o.Seconds;
        }
    }

    // The coordinator's side of the slices: two barrier phases per slice (start, end), the side and
    // deadline published before the start. The barrier has the clients and the coordinator.
    private sealed class SliceControl(int clients) : IDisposable
    {
        private readonly Barrier _barrier = new(clients + 1);
        private volatile bool _stopped;

        public CountdownEvent Ready { get; } = new(clients);

        public int Side { get; private set; }

        public long Deadline { get; private set; }

        public bool Stopped => _stopped;

        public void Begin(int side, long deadline)
        {
            Side = side;
            Deadline = deadline;
            // The barrier's phase change publishes both fields to the released threads.
            _barrier.SignalAndWait();
        }

        public void WaitForEnd() => _barrier.SignalAndWait();

        // Called once, by the coordinator, after its last slice (or when a client could not connect).
        public void Stop()
        {
            _stopped = true;
            _barrier.SignalAndWait();
        }

        // A client's wait for the next slice (or the stop).
        public void AwaitStart() => _barrier.SignalAndWait();

        public void Finished() => _barrier.SignalAndWait();

        public void Dispose()
        {
            _barrier.Dispose();
            Ready.Dispose();
        }
    }

    private sealed class Worker(int index, PairedConcurrentBenchmark owner, SliceControl control)
    {
        private readonly BenchClient?[] _clients = new BenchClient?[2];

        public string? FirstError { get; private set; }

        public bool ConnectFailed { get; private set; }

        public long SliceEnd { get; private set; }

        public long SliceSuccesses { get; private set; }

        public long SliceFailures { get; private set; }

        public void Loop()
        {
            try
            {
                Connect();
                while (true)
                {
                    control.AwaitStart();
                    if (control.Stopped)
                    {
                        return;
                    }
                    RunSlice(control.Side, control.Deadline);
                    control.Finished();
                }
            }
            finally
            {
                foreach (BenchClient? client in _clients)
                {
                    client?.Dispose();
                }
            }
        }

        private void Connect()
        {
            try
            {
                for (int side = 0; side < 2; side++)
                {
                    _clients[side] = owner._sides[side].Connect();
                }
                for (int i = 0; i < owner._limits.Warmup; i++)
                {
                    owner.Request(_clients[Subject]!);
                    owner.Request(_clients[Reference]!);
                }
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                ConnectFailed = true;
                FirstError = $"client {index} could not connect and warm up: {Describe(ex)}";
            }
            finally
            {
                control.Ready.Signal();
            }
        }

        // Optimized at once, as LatencyBenchmark's measured loop: no recompilation between slices.
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void RunSlice(int side, long deadline)
        {
            long successes = 0, failures = 0;
            BenchClient? client = _clients[side];
            // At least one request, even when this thread woke after the deadline: every client
            // takes part in every slice, and the slice's time runs to the last one's reply.
            while (client is not null)
            {
                try
                {
                    owner.Request(client);
                    successes++;
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    failures++;
                    FirstError ??= $"client {index}, {(side == Subject ? "measured side" : "reference")}: {Describe(ex)}";
                    // A broken side ends the measurement after this slice (see Run): no need to hammer it.
                    break;
                }
                if (Clock.Now >= deadline)
                {
                    break;
                }
            }
            SliceSuccesses = successes;
            SliceFailures = failures;
            SliceEnd = Clock.Now;
        }
    }
}
