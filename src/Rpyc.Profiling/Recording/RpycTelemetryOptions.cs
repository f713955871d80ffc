namespace Rpyc;

/// <summary>Settings of an <see cref="RpycTelemetry"/>, mirroring the original rpycbench <c>RPyCTelemetry</c> arguments.</summary>
public sealed class RpycTelemetryOptions
{
    /// <summary>The defaults: recording on, netrefs tracked, 100 ms slow calls, depth 5 deep stacks.</summary>
    public static RpycTelemetryOptions Default { get; } = new();

    /// <summary>
    /// Record operations, counters and netrefs. When <c>false</c> an attached telemetry only feeds
    /// <see cref="Telemetry.RpycInstrumentation"/> (activities and metrics, when someone listens).
    /// </summary>
    public bool Enabled { get; init; } = true;

    /// <summary>Keep one entry per proxy and per exported object (creation, accesses, release), not just the counts.</summary>
    public bool TrackNetrefs { get; init; } = true;

    /// <summary>Operations lasting at least this long are slow calls.</summary>
    public TimeSpan SlowCallThreshold { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Operations nested at least this deep (1 = top level) are reported with their stack.</summary>
    public int DeepStackThreshold { get; init; } = 5;

    /// <summary>
    /// Record where each request was made: the file and line of the first frame outside the RPyC
    /// libraries (and the dynamic binder), shown on slow calls and in the call tree. Line numbers need
    /// the program's symbols (.pdb). Costs a stack walk per request (tens of µs): off by default,
    /// on in <c>rpycbench profile run</c>.
    /// </summary>
    public bool CaptureCallSites { get; init; }

    /// <summary>With <see cref="CaptureCallSites"/>, also keep the whole stack of the user's code (shown on slow calls).</summary>
    public bool CaptureStacks { get; init; }

    /// <summary>How many operation records (and netref entries) to keep; later ones are counted but not kept.</summary>
    public int MaxRecords { get; init; } = 100_000;

    /// <summary>Start an <see cref="System.Diagnostics.Activity"/> per round trip and per handled request when a listener samples the <c>Rpyc</c> source.</summary>
    public bool EmitActivities { get; init; } = true;

    /// <summary>Update the <c>Rpyc</c> meter's counters and call-duration histogram when a listener is subscribed.</summary>
    public bool EmitMetrics { get; init; } = true;

    /// <summary>How many round trips over one remote sequence, or reads of one attribute, make a pattern worth advice.</summary>
    public int AdviceRepeatThreshold { get; init; } = 3;

    /// <summary>How many calls of the same remote method make the "batch the call" advice.</summary>
    public int AdviceBatchThreshold { get; init; } = 10;

    /// <summary>How many getattrs in a row, each on the object the previous one returned, make a long attribute chain.</summary>
    public int AdviceChainLength { get; init; } = 3;

    internal void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(SlowCallThreshold, TimeSpan.Zero, nameof(SlowCallThreshold));
        ArgumentOutOfRangeException.ThrowIfLessThan(DeepStackThreshold, 1, nameof(DeepStackThreshold));
        ArgumentOutOfRangeException.ThrowIfNegative(MaxRecords, nameof(MaxRecords));
        ArgumentOutOfRangeException.ThrowIfLessThan(AdviceRepeatThreshold, 2, nameof(AdviceRepeatThreshold));
        ArgumentOutOfRangeException.ThrowIfLessThan(AdviceBatchThreshold, 2, nameof(AdviceBatchThreshold));
        ArgumentOutOfRangeException.ThrowIfLessThan(AdviceChainLength, 2, nameof(AdviceChainLength));
    }
}
