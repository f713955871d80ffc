namespace Rpyc.Bench;

/// <summary>
/// A benchmark: <see cref="Setup"/>, then <see cref="Run"/> (warmup, then the measured phase,
/// bounded by count and by duration), then <see cref="Teardown"/>, always. <see cref="Execute"/>
/// runs the three and returns the result.
/// </summary>
/// <typeparam name="TResult">The result type.</typeparam>
/// <example>
/// <code>
/// sealed class EchoBenchmark(BenchClient client) : BenchmarkBase&lt;LatencyResult&gt;("echo 4 KiB")
/// {
///     private readonly byte[] _data = Payload.Create(4096);
///     protected override LatencyResult Run(CancellationToken cancellationToken) =&gt;
///         new LatencyBenchmark(Name, () =&gt; { client.Echo(_data); return true; }).Execute(cancellationToken);
/// }
/// </code>
/// </example>
public abstract class BenchmarkBase<TResult>
{
    /// <summary>Creates the benchmark.</summary>
    /// <param name="name">Its name in reports.</param>
    protected BenchmarkBase(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Name = name;
    }

    /// <summary>The name in reports.</summary>
    public string Name { get; }

    /// <summary>Prepares (connects, allocates payloads). Not measured.</summary>
    protected virtual void Setup()
    {
    }

    /// <summary>Runs the warmup and the measured phase.</summary>
    /// <param name="cancellationToken">Stops the run early; the result then holds what was measured.</param>
    /// <returns>The result.</returns>
    protected abstract TResult Run(CancellationToken cancellationToken);

    /// <summary>Releases what <see cref="Setup"/> made. Runs even when <see cref="Run"/> throws.</summary>
    protected virtual void Teardown()
    {
    }

    /// <summary>Setup, Run, Teardown.</summary>
    /// <param name="cancellationToken">Stops the run early.</param>
    /// <returns>The result of <see cref="Run"/>.</returns>
    public TResult Execute(CancellationToken cancellationToken = default)
    {
        Setup();
        try
        {
            return Run(cancellationToken);
        }
        finally
        {
            Teardown();
        }
    }

    /// <summary>The message of an exception for reports: type and message, unwrapped one level.</summary>
    /// <param name="ex">The exception.</param>
    /// <returns>A one-line description.</returns>
    protected static string Describe(Exception ex)
    {
        ArgumentNullException.ThrowIfNull(ex);
        return $"{ex.GetType().Name}: {ex.Message}";
    }
}

/// <summary>
/// How long a measured phase runs: at least <paramref name="Count"/> requests and at least
/// <see cref="MinDuration"/>, and never past <paramref name="MaxDuration"/>, which wins over both.
/// </summary>
/// <param name="Count">The least number of requests (or transfers, connections) to measure.</param>
/// <param name="MaxDuration">The most time the measured phase may take.</param>
/// <param name="Warmup">Unmeasured requests before it.</param>
public readonly record struct RunLimits(int Count, TimeSpan MaxDuration, int Warmup = 0)
{
    /// <summary>
    /// The least time the measured phase lasts, whatever its count (default zero): a figure that
    /// rests on a few milliseconds of measurement moves several-fold with one scheduler hiccup.
    /// </summary>
    public TimeSpan MinDuration { get; init; }

    /// <summary>The measured phase's deadline in <see cref="Clock"/> ticks, from now.</summary>
    internal long Deadline(long start) => MaxDuration == Timeout.InfiniteTimeSpan ? long.MaxValue : start + Clock.FromSeconds(MaxDuration.TotalSeconds);

    /// <summary>The earliest end of the measured phase in <see cref="Clock"/> ticks.</summary>
    internal long MinimumEnd(long start) => start + Clock.FromSeconds(MinDuration.TotalSeconds);

    /// <summary>Whether a phase that started at <paramref name="start"/> and made <paramref name="done"/> requests goes on at <paramref name="now"/>.</summary>
    internal bool GoesOn(int done, long start, long now) =>
        now <= Deadline(start) && (done < Count || now < MinimumEnd(start));
}
