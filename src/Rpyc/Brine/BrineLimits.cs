namespace Rpyc.Brine;

/// <summary>
/// Bounds on what one brine load accepts, because the peer is untrusted: each bound keeps the
/// work of a load linear in the size of its input. Going past a bound throws
/// <see cref="RpycProtocolException"/>.
/// </summary>
/// <example>
/// <code>
/// var limits = new BrineLimits { MaxIntDigits = 0 }; // accept ints of any length
/// object? value = Brine.Load(bytes, limits);
/// </code>
/// </example>
public sealed record BrineLimits
{
    /// <summary>Default for <see cref="MaxDepth"/>: 256 levels.</summary>
    // Real messages nest about 6 deep, and Python's own recursion limit stops near a few hundred.
    public const int DefaultMaxDepth = 256;

    /// <summary>Default for <see cref="MaxIntDigits"/>: 4300, Python's <c>sys.int_info.default_max_str_digits</c>.</summary>
    public const int DefaultMaxIntDigits = 4300;

    /// <summary>Default for <see cref="MaxItems"/>: ten million.</summary>
    // A brine item takes at least one byte, so this only binds on messages over 10 MB, whose
    // boxed form would take about 25 times their size in memory.
    public const int DefaultMaxItems = 10_000_000;

    /// <summary>The limits a connection uses unless told otherwise.</summary>
    public static BrineLimits Default { get; } = new();

    /// <summary>The deepest nesting of tuples, frozensets and slices accepted.</summary>
    /// <remarks>0 accepts scalars only.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int MaxDepth
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxDepth), value, "MaxDepth must not be negative.");
    } = DefaultMaxDepth;

    /// <summary>
    /// The most decimal digits (the sign not counted) of an int, or 0 for no limit. Brine sends
    /// ints as decimal text, and converting text to and from a .NET <see cref="System.Numerics.BigInteger"/>
    /// takes time quadratic in the digit count, so a peer that sends a million digits would hold a
    /// core for minutes. Python 3.11 and later refuse the same ints in <c>int()</c> and <c>str()</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int MaxIntDigits
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(MaxIntDigits), value, "MaxIntDigits must be 0 (no limit) or positive.");
    } = DefaultMaxIntDigits;

    /// <summary>The most tuple and frozenset items one load may hold in all, at every depth.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int MaxItems
    {
        get;
        init => field = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(MaxItems), value, "MaxItems must be at least 1.");
    } = DefaultMaxItems;
}
