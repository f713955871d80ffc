namespace Rpyc.Bench;

/// <summary>
/// One run's pairing of a target's ping with the raw TCP floor's (<see cref="PairedLatencyBenchmark"/>):
/// each of the target's ping connections, right after its own measured phase, is paired with a
/// new floor connection, and the samples of both sides are gathered over the run. A new floor
/// connection each time, as the target's: each connection is one draw of where its server's
/// thread runs (the client's CPU or the other), which on 2 cores moved a connection's p50 by
/// 20-40 %; one floor connection for the run made its ratios 1.17, 1.10, 0.71 in three runs. A
/// floor that cannot be reached leaves the run without a pairing (the floor's own session reports
/// why); it never fails the target.
/// </summary>
internal sealed class FloorPairing(BenchTarget floor, bool keepSamples = false)
{
    // Block pairs each connection measures at the least, whatever its time share (Flask's ping
    // takes ~0.8 ms: 2 pairs of blocks are 0.3 s a connection).
    private const int MinBlocks = 2;

    // Alternating requests of each side before a connection's blocks, at the least (see Warmup).
    private const int WarmupRequests = 20;

    // Both sides by the run's percentile rule (--keep-samples: interpolated), as the ping itself.
    private readonly LatencyRecorder _subject = new(keepSamples);
    private readonly LatencyRecorder _reference = new(keepSamples);
    private bool _unreachable;
    private PairedLatencyResult? _last;
    private int _blocks;
    private double _seconds;
    private long _failures;
    private string? _firstError;

    /// <summary>Whether both sides keep their raw samples (the run's percentile rule, see the constructor).</summary>
    internal bool KeepsSamples => _subject.KeepsSamples && _reference.KeepsSamples;

    /// <summary>A floor connection's warmup, as long as a later ping connection's (see TargetSession).</summary>
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(0.1);

    /// <summary>The run's pairing so far, over every connection measured; <c>null</c> before any.</summary>
    public PairedLatencyResult? Result => _last is null ? null : new PairedLatencyResult
    {
        // The recorders are shared, so the last part's statistics and ratio are of the whole run.
        Subject = _last.Subject,
        Reference = _last.Reference,
        Ratio = _last.Ratio,
        Blocks = _blocks,
        BlockSize = _last.BlockSize,
        Seconds = _seconds,
        Failures = _failures,
        FirstError = _firstError,
    };

    /// <summary>Measures one of the target's connections beside the floor's.</summary>
    /// <param name="name">The benchmark's name.</param>
    /// <param name="subject">One ping on the target's warm connection.</param>
    /// <param name="minimum">The least time of both sides' blocks together.</param>
    /// <param name="maximum">The most.</param>
    /// <param name="cancellationToken">Stops early.</param>
    public void Measure(string name, Func<bool> subject, TimeSpan minimum, TimeSpan maximum, CancellationToken cancellationToken)
    {
        if (_unreachable || cancellationToken.IsCancellationRequested)
        {
            return;
        }
        BenchClient client;
        try
        {
            client = floor.Connect();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            _unreachable = true;
            return;
        }
        using BenchClient _ = client;
        PairedLatencyResult part = new PairedLatencyBenchmark(name, subject, () =>
        {
            client.Ping();
            return true;
        }, new RunLimits(MinBlocks, maximum, WarmupRequests) { MinDuration = minimum })
        {
            WarmupMinDuration = Warmup,
            SubjectInto = _subject,
            ReferenceInto = _reference,
        }.Execute(cancellationToken);
        _last = part;
        _blocks += part.Blocks;
        _seconds += part.Seconds;
        _failures += part.Failures;
        _firstError ??= part.FirstError;
    }
}
