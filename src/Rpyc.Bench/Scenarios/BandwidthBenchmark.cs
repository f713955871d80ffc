namespace Rpyc.Bench;

/// <summary>
/// Upload and download bandwidth, measured separately for each payload size on one warm
/// connection: rate = payload bytes / time of the successful transfers of that size. Rates are
/// never averaged across sizes. Payloads are <see cref="Payload"/> bytes (incompressible), and every
/// download is checked byte for byte.
/// </summary>
/// <param name="name">Its name in reports.</param>
/// <param name="client">A connected client.</param>
/// <param name="sizes">Payload sizes in bytes; default 1 KiB, 10 KiB, 100 KiB, 1 MiB.</param>
/// <param name="limits">Per size and direction: transfers, duration, warmup; default 50, 3 s, 3.</param>
public sealed class BandwidthBenchmark(string name, BenchClient client, IReadOnlyList<int>? sizes = null, RunLimits? limits = null)
    : BenchmarkBase<BandwidthResult>(name)
{
    /// <summary>The default payload sizes: 1 KiB, 10 KiB, 100 KiB, 1 MiB.</summary>
    public static IReadOnlyList<int> DefaultSizes { get; } = [1024, 10 * 1024, 100 * 1024, 1024 * 1024];

    private readonly IReadOnlyList<int> _sizes = sizes ?? DefaultSizes;
    private readonly RunLimits _limits = limits ?? new RunLimits(50, TimeSpan.FromSeconds(3), 3);

    /// <summary>
    /// The least time each size and direction warms before it is measured, whatever the warmup
    /// count. Three transfers are not a warmup at 100 KiB and up: a fresh server's copy loops are
    /// still tier-0 code and its large-object budget still grows, and a first run measured at 179
    /// MiB/s where the next two measured 1,171 and 1,259. Default 0.
    /// </summary>
    public TimeSpan WarmupMinDuration { get; init; }

    /// <summary>
    /// The least time the first size's upload, the connection's first transfers, warms, when that is
    /// longer than <see cref="WarmupMinDuration"/>. A new connection's first thousand or so calls are
    /// not its steady state: a ForkingServer worker is a new process whose first calls load
    /// libraries and whose first collection comes then, and the scheduler has not yet placed the
    /// client's and server's threads. Default 0.
    /// </summary>
    public TimeSpan ConnectionWarmupMinDuration { get; init; }

    /// <summary>As <see cref="LatencyBenchmark.JitActivity"/>: warm each size until the JIT has been quiet for <see cref="WarmupQuietPeriod"/>.</summary>
    public Func<long>? JitActivity { get; init; }

    /// <summary>How long <see cref="JitActivity"/> must stay still to end a size's warmup. Default 0.1 s.</summary>
    public TimeSpan WarmupQuietPeriod { get; init; } = TimeSpan.FromSeconds(0.1);

    /// <summary>
    /// Records each size and direction into these recorders (keyed by size and <c>true</c> for
    /// upload), which may hold earlier samples: one figure taken over several connections in turn.
    /// A result's counts and seconds are this execution's, its statistics those of all the samples.
    /// Default <c>null</c>: recorders of its own.
    /// </summary>
    public IDictionary<(int Size, bool Upload), LatencyRecorder>? Into { get; init; }

    /// <summary>Keep every transfer's time (exact percentiles by interpolation, as <c>--keep-samples</c> does for every figure). Default <c>false</c>.</summary>
    public bool KeepSamples { get; init; }

    /// <inheritdoc />
    protected override BandwidthResult Run(CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        var upload = new List<BandwidthSizeResult>();
        var download = new List<BandwidthSizeResult>();
        foreach (int size in _sizes)
        {
            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            byte[] data = Payload.Create(size);
            TimeSpan warmup = upload.Count == 0 && ConnectionWarmupMinDuration > WarmupMinDuration ? ConnectionWarmupMinDuration : WarmupMinDuration;
            upload.Add(Measure(size, true, warmup, () => client.Upload(data), cancellationToken));
            if (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            download.Add(Measure(size, false, WarmupMinDuration, () => client.Download(size), cancellationToken));
        }
        return new BandwidthResult { Name = Name, Upload = upload, Download = download };
    }

    private BandwidthSizeResult Measure(int size, bool isUpload, TimeSpan warmupMinDuration, Action transfer, CancellationToken cancellationToken)
    {
        LatencyRecorder? into = null;
        if (Into is not null && !Into.TryGetValue((size, isUpload), out into))
        {
            into = new LatencyRecorder(KeepSamples);
            Into[(size, isUpload)] = into;
        }
        double before = into is null ? 0 : TotalSeconds(into.ToStatistics());
        LatencyResult r = new LatencyBenchmark($"{Name} {size}", () =>
        {
            transfer();
            return true;
        }, _limits)
        {
            WarmupMinDuration = warmupMinDuration,
            JitActivity = JitActivity,
            WarmupQuietPeriod = WarmupQuietPeriod,
            Into = into,
            KeepSamples = KeepSamples,
        }.Execute(cancellationToken);
        return new BandwidthSizeResult
        {
            SizeBytes = size,
            Transfers = r.Successes,
            Failures = r.Failures,
            // This execution's own time (the recorder may hold earlier connections' samples too).
            Seconds = into is null ? TotalSeconds(r.Latency) : TotalSeconds(into.ToStatistics()) - before,
            Latency = r.Latency,
            FirstError = r.FirstError,
        };
    }

    // The transfers' summed time: count x exact mean.
    private static double TotalSeconds(Statistics s) => s.Count > 0 ? s.Mean * s.Count : 0;
}
