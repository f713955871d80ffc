using System.Runtime.CompilerServices;

namespace Rpyc.Bench;

/// <summary>
/// Latency of a request beside a reference request's (the suite's: a target's ping beside the raw
/// TCP floor's), measured in alternating blocks on two warm connections: a block of the subject,
/// a block of the reference, and again, until the limits are met. The two figures then come from
/// the same stretches of time, a few milliseconds apart, so their ratio holds still while the
/// machine drifts: on a 2-vCPU VM the floor's own ping p50 moved 12 ↔ 17 µs from one round of the
/// suite to the next, and a ratio of two phases measured seconds apart carried that drift.
/// </summary>
/// <remarks>
/// Each block starts with one request that is not measured: it follows the other side's block,
/// so its connection's threads have slept meanwhile and it measures a wake-up, not a back-to-back
/// request (the figure <see cref="LatencyBenchmark"/> measures). With blocks of 100 that one in
/// 101 would otherwise be the p99.
/// </remarks>
/// <example>
/// <code>
/// using BenchClient subject = rpyc.Connect(), floor = tcpRaw.Connect();
/// PairedLatencyResult r = new PairedLatencyBenchmark("ping vs floor",
///     () =&gt; { subject.Ping(); return true; }, () =&gt; { floor.Ping(); return true; },
///     new RunLimits(10, TimeSpan.FromSeconds(10), Warmup: 200) { MinDuration = TimeSpan.FromSeconds(0.5) }).Execute();
/// Console.WriteLine($"{r.Ratio:0.00}x the floor");
/// </code>
/// </example>
public sealed class PairedLatencyBenchmark : BenchmarkBase<PairedLatencyResult>
{
    /// <summary>Measured requests per block by default: 1.5-6 ms at 15-60 µs a request.</summary>
    public const int DefaultBlockSize = 100;

    private readonly Func<bool> _subject;
    private readonly Func<bool> _reference;
    private readonly RunLimits _limits;

    /// <summary>Creates the benchmark.</summary>
    /// <param name="name">Its name in reports.</param>
    /// <param name="subject">One request of the figure measured; <c>false</c> or an exception means failure.</param>
    /// <param name="reference">One request of the reference it is compared with.</param>
    /// <param name="limits">
    /// <see cref="RunLimits.Count"/>: the least number of block pairs; <see cref="RunLimits.MinDuration"/>
    /// and <see cref="RunLimits.MaxDuration"/>: of both sides' blocks together; <see cref="RunLimits.Warmup"/>:
    /// requests of each side, alternating, before the blocks.
    /// </param>
    public PairedLatencyBenchmark(string name, Func<bool> subject, Func<bool> reference, RunLimits limits)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(reference);
        _subject = subject;
        _reference = reference;
        _limits = limits;
    }

    /// <summary>Measured requests per block. Default <see cref="DefaultBlockSize"/>.</summary>
    public int BlockSize { get; init; } = DefaultBlockSize;

    /// <summary>The least time the alternating warmup lasts, whatever its count (the suite's warmup rule). Default 0.</summary>
    public TimeSpan WarmupMinDuration { get; init; }

    /// <summary>Records the subject's samples here, which may hold earlier ones (one figure over several connections). Default: a recorder of its own.</summary>
    public LatencyRecorder? SubjectInto { get; init; }

    /// <summary>Records the reference's samples here, as <see cref="SubjectInto"/>.</summary>
    public LatencyRecorder? ReferenceInto { get; init; }

    /// <inheritdoc />
    protected override PairedLatencyResult Run(CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(BlockSize, 1);
        new WarmupRule(_limits, WarmupMinDuration, null, TimeSpan.Zero).Run(() => _subject() & _reference(), cancellationToken);
        LatencyRecorder subject = SubjectInto ?? new LatencyRecorder();
        LatencyRecorder reference = ReferenceInto ?? new LatencyRecorder();
        // Each side's own: a broken side ends the phase even while the other succeeds.
        Failures subjectFailures = default, referenceFailures = default;
        int blocks = 0;
        long start = Clock.Now;
        while (!cancellationToken.IsCancellationRequested && _limits.GoesOn(blocks, start, Clock.Now) && !subjectFailures.Broken && !referenceFailures.Broken)
        {
            RunBlock(_subject, subject, ref subjectFailures);
            RunBlock(_reference, reference, ref referenceFailures);
            blocks++;
        }
        double seconds = Clock.SecondsSince(start);
        Statistics s = subject.ToStatistics(), r = reference.ToStatistics();
        return new PairedLatencyResult
        {
            Subject = s,
            Reference = r,
            Ratio = s.Count > 0 && r.Count > 0 ? s.P50 / r.P50 : double.NaN,
            Blocks = blocks,
            BlockSize = BlockSize,
            Seconds = seconds,
            Failures = subjectFailures.Count + referenceFailures.Count,
            FirstError = subjectFailures.First ?? referenceFailures.First,
        };
    }

    // Optimized at once, as LatencyBenchmark's measured loop: no recompilation between blocks.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunBlock(Func<bool> request, LatencyRecorder into, ref Failures failures)
    {
        // The wake-up request after the other side's block: not measured (see the remarks).
        Call(request, ref failures);
        for (int i = 0; i < BlockSize && !failures.Broken; i++)
        {
            long t0 = Clock.Now;
            bool ok = Call(request, ref failures);
            long elapsed = Clock.Now - t0;
            if (ok)
            {
                into.Record(elapsed);
            }
            else
            {
                into.RecordFailure();
            }
        }
    }

    private static bool Call(Func<bool> request, ref Failures failures)
    {
        try
        {
            if (request())
            {
                failures.InARow = 0;
                return true;
            }
            failures.Add("The request function returned false.");
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            failures.Add(Describe(ex));
        }
        return false;
    }

    private struct Failures
    {
        public long Count;
        public int InARow;
        public string? First;

        public readonly bool Broken => InARow >= LatencyBenchmark.MaxConsecutiveFailures;

        public void Add(string error)
        {
            Count++;
            InARow++;
            First ??= error;
        }
    }
}
