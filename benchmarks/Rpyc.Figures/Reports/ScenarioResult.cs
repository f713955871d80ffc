using System.Globalization;
using Rpyc.Figures.Scenarios;
using Rpyc.Figures.Statistics;

namespace Rpyc.Figures.Reports;

/// <summary>How a scenario's figures are laid out in the table.</summary>
internal enum ScenarioKind
{
    Latency,
    Throughput,
    Codec,

    /// <summary>Calls per second over several connections at once.</summary>
    Rate,

    /// <summary>Connect plus first call: per-connection times in milliseconds.</summary>
    Connect,

    /// <summary>A figure over its reference, measured in the same run, with the goal it is held to.</summary>
    Ratio,

    /// <summary>CPU time per call on each side of a scenario (breakdown).</summary>
    CpuCost,
}

/// <summary>Names of the figures a scenario reports; the JSON keys too.</summary>
internal static class Fields
{
    public const string N = "n";
    public const string Failures = "failures";
    public const string P50Us = "p50_us";
    public const string P90Us = "p90_us";
    public const string P99Us = "p99_us";
    public const string MeanUs = "mean_us";
    public const string MinUs = "min_us";
    public const string MaxUs = "max_us";
    public const string AllocBytesPerCall = "alloc_bytes_per_call";
    public const string BytesUpPerCall = "bytes_up_per_call";
    public const string BytesDownPerCall = "bytes_down_per_call";
    public const string RttP50Ms = "rtt_p50_ms";
    public const string RttMeanMs = "rtt_mean_ms";
    public const string PayloadMBps = "payload_mb_per_s";
    public const string WireMBps = "wire_mb_per_s";
    public const string PayloadMBpsAtP50 = "payload_mb_per_s_at_p50";
    public const string Iterations = "iterations";
    public const string NsPerOp = "ns_per_op";
    public const string BytesPerOp = "alloc_bytes_per_op";
    public const string Connections = "connections";
    public const string DurationS = "duration_s";
    public const string CallsPerS = "calls_per_s";
    public const string P50Ms = "p50_ms";
    public const string P90Ms = "p90_ms";
    public const string P99Ms = "p99_ms";
    public const string MeanMs = "mean_ms";
    public const string MaxMs = "max_ms";
    public const string GapMs = "gap_ms";
    public const string Value = "value";
    public const string Reference = "reference";
    public const string Ratio = "ratio";
    public const string Goal = "goal";

    /// <summary>+1 when the ratio must be at least the goal, -1 when at most, 0 for no goal.</summary>
    public const string GoalDirection = "goal_direction";
    public const string WallUsPerCall = "wall_us_per_call";
    public const string ClientCpuUsPerCall = "client_cpu_us_per_call";
    public const string ServerCpuUsPerCall = "server_cpu_us_per_call";

    /// <summary>1 when the goal applies to the ratio, 0 when to the value.</summary>
    public const string GoalOnRatio = "goal_on_ratio";

    /// <summary>Seconds the warmup before the figure took.</summary>
    public const string WarmupS = "warmup_s";

    /// <summary>Calls made by the warmup before the figure (every connection's, for a closed loop).</summary>
    public const string WarmupCalls = "warmup_calls";

    /// <summary>1 when the warmup stopped at its max with the JIT still compiling; in the median, the number of such runs.</summary>
    public const string WarmupUnsettled = "warmup_unsettled";
}

/// <summary>The figures of one scenario in one run (or their medians over the runs).</summary>
internal sealed record ScenarioResult(string Key, string Title, ScenarioKind Kind, IReadOnlyDictionary<string, double> Values, string? Note = null)
{
    public double this[string field] => Values.TryGetValue(field, out double v) ? v : double.NaN;

    /// <summary>The note as reported: a figure whose warmup never settled says so, whatever else it says.</summary>
    public string? ReportedNote => this[Fields.WarmupUnsettled] is > 0 and double runs
        ? string.Create(CultureInfo.InvariantCulture, $"{(Note is null ? "" : Note + "; ")}WARMUP NOT SETTLED in {runs:0} run(s): it stopped at --warmup-max with the JIT still compiling, so the figure may time code that was being replaced")
        : Note;

    /// <summary>This figure with how its warmup went (<see cref="Fields.WarmupS"/>, <see cref="Fields.WarmupUnsettled"/>).</summary>
    public ScenarioResult WithWarmup(WarmupOutcome? warmup) => warmup is null ? this : this with
    {
        Values = new Dictionary<string, double>(Values)
        {
            [Fields.WarmupS] = warmup.Seconds,
            [Fields.WarmupCalls] = warmup.Calls,
            [Fields.WarmupUnsettled] = warmup.Settled ? 0 : 1,
        },
    };

    public static ScenarioResult Latency(string key, string title, LatencyStats stats, int failures, double? allocBytesPerCall = null, string? note = null)
    {
        var values = new Dictionary<string, double>
        {
            [Fields.N] = stats.N,
            [Fields.Failures] = failures,
            [Fields.P50Us] = stats.P50Us,
            [Fields.P90Us] = stats.P90Us,
            [Fields.P99Us] = stats.P99Us,
            [Fields.MeanUs] = stats.MeanUs,
            [Fields.MinUs] = stats.MinUs,
            [Fields.MaxUs] = stats.MaxUs,
        };
        if (allocBytesPerCall is double alloc)
        {
            values[Fields.AllocBytesPerCall] = alloc;
        }
        return new ScenarioResult(key, title, ScenarioKind.Latency, values, note);
    }

    /// <summary>
    /// Bulk transfer: payload MB/s is the payload size (one direction) over the mean round trip;
    /// wire MB/s counts every payload byte that crossed the socket (up + down). MB = 10^6 bytes.
    /// The payload rate at the median round trip is kept too: it ignores the occasional stalled call.
    /// </summary>
    public static ScenarioResult Throughput(string key, string title, LatencyStats rtt, int failures, long payloadBytes, long bytesUp, long bytesDown, double? allocBytesPerCall = null, string? note = null)
    {
        double meanSeconds = rtt.MeanUs / 1e6;
        var values = new Dictionary<string, double>
        {
            [Fields.N] = rtt.N,
            [Fields.Failures] = failures,
            [Fields.BytesUpPerCall] = bytesUp,
            [Fields.BytesDownPerCall] = bytesDown,
            [Fields.RttP50Ms] = rtt.P50Us / 1000,
            [Fields.RttMeanMs] = rtt.MeanUs / 1000,
            [Fields.PayloadMBps] = payloadBytes / meanSeconds / 1e6,
            [Fields.WireMBps] = (bytesUp + bytesDown) / meanSeconds / 1e6,
            [Fields.PayloadMBpsAtP50] = payloadBytes / (rtt.P50Us / 1e6) / 1e6,
        };
        if (allocBytesPerCall is double alloc)
        {
            values[Fields.AllocBytesPerCall] = alloc;
        }
        return new ScenarioResult(key, title, ScenarioKind.Throughput, values, note);
    }

    /// <summary>Closed-loop throughput: every connection calls back to back for the measured duration.</summary>
    public static ScenarioResult Rate(string key, string title, int connections, long calls, double seconds, LatencyStats perCall, int failures, string? note = null) =>
        new(key, title, ScenarioKind.Rate, new Dictionary<string, double>
        {
            [Fields.Connections] = connections,
            [Fields.N] = calls,
            [Fields.Failures] = failures,
            [Fields.DurationS] = seconds,
            [Fields.CallsPerS] = calls / seconds,
            [Fields.P50Us] = perCall.P50Us,
            [Fields.P99Us] = perCall.P99Us,
        }, note);

    /// <summary>Connect plus first call, one sample per new connection; <paramref name="gapMs"/> = pause between connections (0: back to back).</summary>
    public static ScenarioResult Connect(string key, string title, LatencyStats stats, int failures, double gapMs, string? note = null) =>
        new(key, title, ScenarioKind.Connect, new Dictionary<string, double>
        {
            [Fields.N] = stats.N,
            [Fields.Failures] = failures,
            [Fields.GapMs] = gapMs,
            [Fields.P50Ms] = stats.P50Us / 1000,
            [Fields.P90Ms] = stats.P90Us / 1000,
            [Fields.P99Ms] = stats.P99Us / 1000,
            [Fields.MeanMs] = stats.MeanUs / 1000,
            [Fields.MaxMs] = stats.MaxUs / 1000,
        }, note);

    /// <summary>
    /// A figure beside its reference from the same run (<c>ratio</c> = value / reference) and the goal it is
    /// held to: on the ratio when <paramref name="goalOnRatio"/>, else on the value itself.
    /// <paramref name="goalDirection"/>: +1 = the goal is a minimum, -1 = a maximum, 0 = no goal (comparison only).
    /// </summary>
    public static ScenarioResult Compare(string key, string title, double value, double reference, double goal = double.NaN, int goalDirection = 0, bool goalOnRatio = true, string? note = null) =>
        new(key, title, ScenarioKind.Ratio, new Dictionary<string, double>
        {
            [Fields.Value] = value,
            [Fields.Reference] = reference,
            [Fields.Ratio] = value / reference,
            [Fields.Goal] = goal,
            [Fields.GoalDirection] = goalDirection,
            [Fields.GoalOnRatio] = goalOnRatio ? 1 : 0,
        }, note);

    /// <summary>Whether a <see cref="ScenarioKind.Ratio"/> row meets its goal; <c>null</c> when it has none or a figure is missing.</summary>
    public bool? GoalMet()
    {
        double direction = this[Fields.GoalDirection];
        double goal = this[Fields.Goal];
        double measured = this[Fields.GoalOnRatio] == 1 ? this[Fields.Ratio] : this[Fields.Value];
        if (Kind != ScenarioKind.Ratio || direction == 0 || double.IsNaN(goal) || double.IsNaN(measured))
        {
            return null;
        }
        return direction > 0 ? measured >= goal : measured <= goal;
    }

    /// <summary>
    /// CPU per call of a scenario on the client (this process) and on the server (another process, or NaN when in this one),
    /// beside the wall time per call; 2 cores busy means CPU-bound.
    /// </summary>
    public static ScenarioResult CpuCost(string key, string title, long calls, double wallSeconds, double clientCpuSeconds, double serverCpuSeconds) =>
        new(key, title, ScenarioKind.CpuCost, new Dictionary<string, double>
        {
            [Fields.N] = calls,
            [Fields.WallUsPerCall] = wallSeconds * 1e6 / calls,
            [Fields.ClientCpuUsPerCall] = clientCpuSeconds * 1e6 / calls,
            [Fields.ServerCpuUsPerCall] = serverCpuSeconds * 1e6 / calls,
        });

    public static ScenarioResult Codec(string key, string title, long iterations, double nsPerOp, double bytesPerOp) =>
        new(key, title, ScenarioKind.Codec, new Dictionary<string, double>
        {
            [Fields.Iterations] = iterations,
            [Fields.NsPerOp] = nsPerOp,
            [Fields.BytesPerOp] = bytesPerOp,
        });
}
