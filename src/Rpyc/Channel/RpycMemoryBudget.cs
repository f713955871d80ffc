namespace Rpyc;

/// <summary>
/// Bytes that connections may hold for incoming frames at once: the receive buffers past each
/// connection's first 64 KiB, and the output of inflating compressed frames. Connections made with
/// the same <see cref="RpycConnectOptions.MemoryBudget"/> share it; by default that is
/// <see cref="Shared"/>, one per process.
/// </summary>
/// <remarks>
/// <para>
/// A connection takes from the budget as bytes arrive (or inflate), never what a frame header
/// announces, so a peer that announces 60 MiB and sends nothing costs nothing. When a connection
/// needs more and the budget is spent, that connection is closed with a logged reason; it does not
/// wait. Waiting would hold the thread and the partial frame with no bound on when others release
/// theirs (a peer that stops mid-frame holds its share until it hangs up), and a reader blocked on
/// the budget cannot serve the callbacks a frame in flight may depend on.
/// </para>
/// <para>
/// A frame larger than <see cref="Capacity"/> can never be received, so keep the capacity above
/// <see cref="RpycConnectOptions.MaxFrameLength"/> and <see cref="RpycConnectOptions.MaxDecompressedLength"/>.
/// Buffers a connection keeps for its next large message stay counted; connections keep them only
/// while less than half of the budget is in use, so idle connections never hold more than about half.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// var budget = new RpycMemoryBudget(512L * 1024 * 1024);
/// var options = new RpycServerOptions { ConnectionOptions = new RpycConnectOptions { MemoryBudget = budget } };
/// </code>
/// </example>
public sealed class RpycMemoryBudget
{
    private const long MiB = 1024 * 1024;
    private long _capacity;
    private long _inUse;
    private long _peak;
    private long _refusals;

    /// <summary>Creates a budget of <paramref name="capacity"/> bytes.</summary>
    /// <param name="capacity">The most bytes its connections may hold at once.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is negative.</exception>
    public RpycMemoryBudget(long capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _capacity = capacity;
    }

    /// <summary>
    /// The capacity of <see cref="Shared"/>: a quarter of the memory the GC may use
    /// (<see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/>, which honours a heap hard limit or a
    /// container's limit), at least 64 MiB (the default <see cref="RpycConnectOptions.MaxFrameLength"/>)
    /// and at most 256 MiB.
    /// </summary>
    public static long DefaultCapacity { get; } = Math.Clamp(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4, 64 * MiB, 256 * MiB);

    /// <summary>The budget of connections whose options name none: one per process.</summary>
    public static RpycMemoryBudget Shared { get; } = new(DefaultCapacity);

    /// <summary>The most bytes its connections may hold at once; may be changed at any time (new reservations see it).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set to a negative value.</exception>
    public long Capacity
    {
        get => Volatile.Read(ref _capacity);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            Volatile.Write(ref _capacity, value);
        }
    }

    /// <summary>Bytes held now.</summary>
    public long InUse => Volatile.Read(ref _inUse);

    /// <summary>The most bytes held at once so far.</summary>
    public long Peak => Volatile.Read(ref _peak);

    /// <summary>How many times a connection was refused memory (and closed).</summary>
    public long Refusals => Volatile.Read(ref _refusals);

    /// <summary>Whether a connection may keep its grown buffers for its next message.</summary>
    internal bool RoomToRetain => InUse <= Capacity / 2;

    internal bool TryReserve(long bytes)
    {
        long capacity = Capacity;
        long current = Volatile.Read(ref _inUse);
        while (true)
        {
            long next = current + bytes;
            if (next > capacity)
            {
                Interlocked.Increment(ref _refusals);
                return false;
            }
            long seen = Interlocked.CompareExchange(ref _inUse, next, current);
            if (seen == current)
            {
                UpdatePeak(next);
                return true;
            }
            current = seen;
        }
    }

    internal void Release(long bytes) => Interlocked.Add(ref _inUse, -bytes);

    private void UpdatePeak(long value)
    {
        long peak = Volatile.Read(ref _peak);
        while (value > peak)
        {
            long seen = Interlocked.CompareExchange(ref _peak, value, peak);
            if (seen == peak)
            {
                return;
            }
            peak = seen;
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{InUse / (double)MiB:0.#} of {Capacity / (double)MiB:0.#} MiB in use";
}
