using Rpyc.Brine;

namespace Rpyc;

/// <summary>
/// Per-connection settings. Names mirror rpyc's <c>protocol_config</c> keys in PascalCase where one exists.
/// </summary>
public sealed class RpycConnectOptions
{
    /// <summary>Default for <see cref="MaxFrameLength"/>: 64 MiB.</summary>
    public const int DefaultMaxFrameLength = 64 * 1024 * 1024;

    /// <summary>Default for <see cref="MaxDecompressedLength"/>: 64 MiB.</summary>
    public const int DefaultMaxDecompressedLength = 64 * 1024 * 1024;

    /// <summary>Default for <see cref="MaxBrineDepth"/>: 256 levels (real messages nest about 6).</summary>
    public const int DefaultMaxBrineDepth = 256;

    /// <summary>The options used when none are given.</summary>
    public static RpycConnectOptions Default { get; } = new();

    /// <summary>
    /// The message envelope this connection speaks. Default <see cref="RpycProtocolVersion.V5"/>:
    /// Debian and most distribution packages ship rpyc 5.3, and a 5.x peer cannot read a 6.x envelope.
    /// Servers detect the version from the first message regardless.
    /// </summary>
    public RpycProtocolVersion ProtocolVersion { get; init; } = RpycProtocolVersion.V5;

    /// <summary>
    /// <c>sync_request_timeout</c>: how long a synchronous request waits for its reply (Python: 30 s),
    /// or <see cref="Timeout.InfiniteTimeSpan"/> to wait for ever.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Zero, or negative and not <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    public TimeSpan SyncRequestTimeout
    {
        get;
        init => field = PositiveOrInfinite(value, nameof(SyncRequestTimeout));
    } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long <c>RpycConnection.Connect</c> waits for the TCP connect (Python: 3 s), or
    /// <see cref="Timeout.InfiniteTimeSpan"/> to wait as long as the kernel does.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Zero, or negative and not <see cref="Timeout.InfiniteTimeSpan"/>.</exception>
    public TimeSpan ConnectTimeout
    {
        get;
        init => field = PositiveOrInfinite(value, nameof(ConnectTimeout));
    } = TimeSpan.FromSeconds(3);

    // A zero or negative wait would fail every call before it is sent.
    private static TimeSpan PositiveOrInfinite(TimeSpan value, string name) =>
        value > TimeSpan.Zero || value == Timeout.InfiniteTimeSpan
            ? value
            : throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive or Timeout.InfiniteTimeSpan.");

    /// <summary>
    /// Payloads longer than this many bytes are zlib-compressed before sending. Default −1: never
    /// compress, because Python accepts an uncompressed body of any size and compression costs far
    /// more CPU than loopback or LAN bandwidth saves. Set 3000 to behave exactly as Python does.
    /// </summary>
    public int CompressionThreshold { get; init; } = -1;

    /// <summary>
    /// <c>bytes</c> values of at least this many bytes in a reply arrive as a <see cref="PooledBytes"/>
    /// lent from the array pool, which the caller disposes, instead of a new <c>byte[]</c>. Default 0:
    /// never (every <c>bytes</c> value is a <c>byte[]</c>). Values under 256 bytes are always arrays.
    /// A service needs no option: a parameter typed <see cref="ReadOnlyMemory{T}"/> of <see cref="byte"/>
    /// or <see cref="PooledBytes"/> receives a large argument without a new array.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int PooledBytesThreshold
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(PooledBytesThreshold), value, "PooledBytesThreshold must be 0 (never) or positive.");
    }

    /// <summary>The largest frame body accepted from the peer; a larger header closes the connection.</summary>
    public int MaxFrameLength { get; init; } = DefaultMaxFrameLength;

    /// <summary>The largest payload a compressed frame may inflate to (zlib bomb guard).</summary>
    public int MaxDecompressedLength { get; init; } = DefaultMaxDecompressedLength;

    private readonly RpycMemoryBudget _memoryBudget = RpycMemoryBudget.Shared;

    /// <summary>
    /// Where this connection counts the bytes it holds for incoming frames (buffered as they arrive,
    /// and inflated); connections with the same budget share it. Default <see cref="RpycMemoryBudget.Shared"/>,
    /// one per process. A connection that needs more than the budget has left is closed, with the
    /// reason logged through <see cref="RpycLog"/>.
    /// </summary>
    /// <exception cref="ArgumentNullException">Set to <c>null</c>.</exception>
    public RpycMemoryBudget MemoryBudget
    {
        get => _memoryBudget;
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            _memoryBudget = value;
        }
    }

    /// <summary>
    /// The deepest brine nesting of one message from the peer, its envelope tuple included
    /// (<see cref="BrineLimits.MaxDepth"/>); 0 or less refuses every message.
    /// </summary>
    public int MaxBrineDepth { get; init; } = DefaultMaxBrineDepth;

    /// <summary>
    /// The most decimal digits of an int in a message from the peer, or 0 for no limit
    /// (<see cref="BrineLimits.MaxIntDigits"/>). Default <see cref="BrineLimits.DefaultMaxIntDigits"/>,
    /// Python's own limit for int to text conversion: brine sends ints as text, and converting a
    /// million digits takes minutes. A message past the limit closes the connection.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public int MaxIntDigits
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            field = value;
        }
    } = BrineLimits.DefaultMaxIntDigits;

    /// <summary>
    /// The most tuple and frozenset items, at every depth, of one message from the peer
    /// (<see cref="BrineLimits.MaxItems"/>). Default <see cref="BrineLimits.DefaultMaxItems"/>.
    /// A message past the limit closes the connection.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public int MaxBrineItems
    {
        get;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            field = value;
        }
    } = BrineLimits.DefaultMaxItems;

    // Built once per options instance (the properties are init-only), shared by its connections:
    // each message is read without allocating limits.
    private Brine.BrineLimits? _brineLimits;
    private Brine.BrineLimits? _brineArgsLimits;

    /// <summary>The brine limits of one message (<see cref="MaxBrineDepth"/>, <see cref="MaxIntDigits"/>, <see cref="MaxBrineItems"/>).</summary>
    internal Brine.BrineLimits BrineLimits => _brineLimits ??= MakeBrineLimits();

    /// <summary>The same, one level shallower: the args inside a message's envelope tuple.</summary>
    internal Brine.BrineLimits BrineArgsLimits => _brineArgsLimits ??= Protocol.Envelope.ArgsLimits(BrineLimits);

    private Brine.BrineLimits MakeBrineLimits()
    {
        int depth = Math.Max(MaxBrineDepth, 0);
        return depth == Brine.BrineLimits.DefaultMaxDepth && MaxIntDigits == Brine.BrineLimits.DefaultMaxIntDigits && MaxBrineItems == Brine.BrineLimits.DefaultMaxItems
            ? Brine.BrineLimits.Default
            : new Brine.BrineLimits { MaxDepth = depth, MaxIntDigits = MaxIntDigits, MaxItems = MaxBrineItems };
    }

    /// <summary><c>allow_public_attrs</c>: let the peer reach public members of objects this side passes by reference.</summary>
    public bool AllowPublicAttrs { get; init; }

    /// <summary><c>allow_setattr</c>: let the peer set exposed attributes.</summary>
    public bool AllowSetAttr { get; init; }

    /// <summary><c>allow_delattr</c>: let the peer delete attributes (always refused: .NET objects have no deletable attributes).</summary>
    public bool AllowDelAttr { get; init; }

    /// <summary><c>include_local_traceback</c>: send the .NET stack trace with exceptions.</summary>
    public bool IncludeLocalTraceback { get; init; } = true;

    /// <summary>Disable Nagle's algorithm (on by default: RPC latency matters more than packet count).</summary>
    public bool NoDelay { get; init; } = true;

    /// <summary>The longest <see cref="ReceiveSpin"/>: beyond it, spinning costs more CPU than a wake-up costs time.</summary>
    public static readonly TimeSpan MaxReceiveSpin = TimeSpan.FromMilliseconds(1);

    private readonly TimeSpan _receiveSpin;

    /// <summary>
    /// Before blocking for the next message, poll the socket for up to this long (yielding the CPU
    /// between polls), so a reply that comes quickly is read without the thread going to sleep.
    /// Default zero (off), as Python rpyc and plain blocking sockets. It trades CPU for latency where
    /// an idle CPU is slow to wake, as on many VMs: on the reference 2-vCPU VM, 30 µs on the server
    /// took an unpinned ping from about 58 to 23 µs, and 100 µs on both sides to 10 µs. Each message
    /// costs up to this much extra CPU on the waiting side; ASP.NET Core's thread pool makes the same
    /// trade by default. At most <see cref="MaxReceiveSpin"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative or above <see cref="MaxReceiveSpin"/>.</exception>
    public TimeSpan ReceiveSpin
    {
        get => _receiveSpin;
        init
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, MaxReceiveSpin);
            _receiveSpin = value;
        }
    }

    private readonly RpycTlsClientOptions? _tls;

    /// <summary>
    /// TLS for connections made with these options (<see cref="RpycConnection.Connect"/>), as Python's
    /// <c>rpyc.ssl_connect</c>; the handshake counts against <see cref="ConnectTimeout"/>. Default
    /// <c>null</c>: plain TCP. <see cref="ReceiveSpin"/> does not apply to TLS connections. Servers
    /// take their TLS settings from <see cref="RpycServerOptions.Tls"/> and ignore this one.
    /// </summary>
    /// <exception cref="ArgumentException">The TLS options contradict each other (see <see cref="RpycTlsClientOptions"/>).</exception>
    public RpycTlsClientOptions? Tls
    {
        get => _tls;
        init
        {
            value?.Validate();
            _tls = value;
        }
    }

    internal Channel.ChannelLimits Limits => new(MaxFrameLength, MaxDecompressedLength, MaxBrineDepth);
}

/// <summary>The RPyC message envelope, which differs between rpyc 5.x and 6.x.</summary>
public enum RpycProtocolVersion
{
    /// <summary>rpyc ≤ 5.3.1: the message is the brine tuple <c>(msg, seq, args)</c>.</summary>
    V5 = 5,

    /// <summary>rpyc ≥ 6.0: a raw message-type byte, then brine <c>(seq, args)</c>.</summary>
    V6 = 6,
}
