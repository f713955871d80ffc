namespace Rpyc.Bench;

/// <summary>
/// Holds the background samplers (<see cref="ResourceSampler"/>, <see cref="ThreadPlacement"/>)
/// still while a phase whose tails they would disturb is measured. On two CPUs a sampler's pass
/// (tens of <c>/proc</c> reads) takes one of them for a fraction of a millisecond, and a ping or a
/// new connection caught behind it becomes a tail: with samplers running, ping p99.9 was 3-5x the
/// figure without them. Cumulative counters (CPU seconds) still cover a quiet phase; what it loses
/// is the samples taken inside it (CPU peak, RSS, and the placement of that time, which the next
/// pass credits to the CPU each thread is on then).
/// </summary>
/// <example>
/// <code>
/// var gate = new SamplerGate();
/// using var sampler = new ResourceSampler(pid, includeDescendants: true, gate: gate);
/// using (gate.Pause())
/// {
///     MeasurePing();
/// }
/// </code>
/// </example>
public sealed class SamplerGate
{
    private readonly ManualResetEventSlim _open = new(initialState: true);
    private int _pauses;

    /// <summary>Whether the samplers are held.</summary>
    public bool IsPaused => !_open.IsSet;

    /// <summary>Holds the samplers until the returned scope is disposed (scopes may nest).</summary>
    /// <returns>The scope.</returns>
    public IDisposable Pause()
    {
        if (Interlocked.Increment(ref _pauses) == 1)
        {
            _open.Reset();
        }
        return new Scope(this);
    }

    // Blocks a sampler's thread (without waking it) while paused; false when stop was set meanwhile.
    internal bool WaitWhilePaused(ManualResetEventSlim stop)
    {
        while (!_open.IsSet && !stop.IsSet)
        {
            WaitHandle.WaitAny([_open.WaitHandle, stop.WaitHandle]);
        }
        return !stop.IsSet;
    }

    private void Resume()
    {
        if (Interlocked.Decrement(ref _pauses) == 0)
        {
            _open.Set();
        }
    }

    private sealed class Scope(SamplerGate gate) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                gate.Resume();
            }
        }
    }
}
