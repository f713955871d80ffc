using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Rpyc.Telemetry;

/// <summary>
/// The <c>Rpyc</c> <see cref="ActivitySource"/> and <see cref="Meter"/>, fed by every connection
/// itself (and by the Rpyc.Profiling recorder when one is attached): OpenTelemetry
/// (<c>AddSource("Rpyc")</c>, <c>AddMeter("Rpyc")</c>) and <c>dotnet-counters monitor --counters Rpyc</c>
/// see RPyC traffic with nothing else installed. Nothing is created or recorded while nobody listens.
/// </summary>
/// <example>
/// <code>
/// using var listener = new ActivityListener
/// {
///     ShouldListenTo = s =&gt; s.Name == RpycInstrumentation.ActivitySourceName,
///     Sample = (ref ActivityCreationOptions&lt;ActivityContext&gt; _) =&gt; ActivitySamplingResult.AllData,
///     ActivityStopped = a =&gt; Console.WriteLine($"{a.DisplayName} {a.Duration}"),
/// };
/// ActivitySource.AddActivityListener(listener);
/// </code>
/// </example>
public static class RpycInstrumentation
{
    /// <summary>The name of the activity source: one <c>Client</c> activity per round trip, one <c>Server</c> activity per handled request.</summary>
    public const string ActivitySourceName = "Rpyc";

    /// <summary>The name of the meter.</summary>
    public const string MeterName = "Rpyc";

    /// <summary>Counter: requests sent and waited for (network round trips). Tag <c>rpyc.handler</c>.</summary>
    public const string RoundTripsInstrument = "rpyc.round_trips";

    /// <summary>Counter: requests sent without waiting (DEL, CLOSE). Tag <c>rpyc.handler</c>.</summary>
    public const string OneWayMessagesInstrument = "rpyc.one_way_messages";

    /// <summary>Counter: the peer's requests handled by this side. Tag <c>rpyc.handler</c>.</summary>
    public const string IncomingRequestsInstrument = "rpyc.incoming_requests";

    /// <summary>Counter: frame bytes sent, headers included.</summary>
    public const string BytesSentInstrument = "rpyc.bytes_sent";

    /// <summary>Counter: frame bytes received, headers included.</summary>
    public const string BytesReceivedInstrument = "rpyc.bytes_received";

    /// <summary>Counter: proxies created for the peer's objects.</summary>
    public const string NetrefsCreatedInstrument = "rpyc.netrefs.created";

    /// <summary>Counter: proxies released (disposed or collected).</summary>
    public const string NetrefsReleasedInstrument = "rpyc.netrefs.released";

    /// <summary>Histogram: duration of round trips and handled requests, in seconds. Tags <c>rpyc.handler</c>, <c>rpyc.direction</c>.</summary>
    public const string CallDurationInstrument = "rpyc.call.duration";

    private static readonly string? s_version = typeof(RpycInstrumentation).Assembly.GetName().Version?.ToString();

    internal static readonly ActivitySource Source = new(ActivitySourceName, s_version);

    internal static readonly Meter Meter = new(MeterName, s_version);

    internal static readonly Counter<long> RoundTrips = Meter.CreateCounter<long>(RoundTripsInstrument, "{request}", "RPyC requests sent and waited for (network round trips).");

    internal static readonly Counter<long> OneWayMessages = Meter.CreateCounter<long>(OneWayMessagesInstrument, "{request}", "RPyC requests sent without waiting for the reply (DEL, CLOSE).");

    internal static readonly Counter<long> IncomingRequests = Meter.CreateCounter<long>(IncomingRequestsInstrument, "{request}", "RPyC requests of the peer handled by this process.");

    internal static readonly Counter<long> BytesSent = Meter.CreateCounter<long>(BytesSentInstrument, "By", "RPyC frame bytes sent.");

    internal static readonly Counter<long> BytesReceived = Meter.CreateCounter<long>(BytesReceivedInstrument, "By", "RPyC frame bytes received.");

    internal static readonly Counter<long> NetrefsCreated = Meter.CreateCounter<long>(NetrefsCreatedInstrument, "{netref}", "Proxies created for the peer's objects.");

    internal static readonly Counter<long> NetrefsReleased = Meter.CreateCounter<long>(NetrefsReleasedInstrument, "{netref}", "Proxies for the peer's objects released.");

    internal static readonly Histogram<double> CallDuration = Meter.CreateHistogram(
        CallDurationInstrument, "s", "Duration of RPyC round trips and handled requests.", tags: null,
        advice: new InstrumentAdvice<double>
        {
            // Loopback RPyC calls take tens of microseconds: OpenTelemetry's default buckets start at 5 ms.
            HistogramBucketBoundaries = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        });

    // Each instrument is enabled while a listener subscribes to it: nothing to compute otherwise.
    internal static bool AnyEnabled =>
        RoundTrips.Enabled || OneWayMessages.Enabled || IncomingRequests.Enabled || BytesSent.Enabled
        || BytesReceived.Enabled || NetrefsCreated.Enabled || NetrefsReleased.Enabled || CallDuration.Enabled;

    internal static Activity? StartActivity(ActivityKind kind, string handler, string? target, string? name, string peer)
    {
        if (!Source.HasListeners())
        {
            return null;
        }
        string? type = target is null ? null : target[(target.LastIndexOf('.') + 1)..];
        string displayName = name is null ? (type is null ? handler : $"{handler} {type}") : $"{type}/{name}";
        Activity? activity = Source.StartActivity(displayName, kind);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag("rpc.system", "rpyc");
            activity.SetTag("rpc.service", target);
            activity.SetTag("rpc.method", name);
            activity.SetTag(HandlerTag, handler);
            activity.SetTag("network.peer.address", peer);
        }
        return activity;
    }

    internal static void StopActivity(Activity? activity, long requestBytes, long replyBytes, bool createdNetref, Exception? error)
    {
        if (activity is null)
        {
            return;
        }
        if (activity.IsAllDataRequested)
        {
            activity.SetTag("rpyc.request_bytes", requestBytes);
            activity.SetTag("rpyc.reply_bytes", replyBytes);
            if (createdNetref)
            {
                activity.SetTag("rpyc.created_netref", true);
            }
        }
        if (error is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, error.Message);
            activity.AddException(error);
        }
        activity.Stop();
    }

    internal const string HandlerTag = "rpyc.handler";
    internal const string DirectionTag = "rpyc.direction";
}
