using System.Diagnostics;

namespace Rpyc.Telemetry;

/// <summary>
/// A named part of the caller's code (<c>using (telemetry.Section("load")) { ... }</c>) whose
/// round trips, messages, bytes and netrefs are counted apart. It follows the calling flow
/// (an <see cref="AsyncLocal{T}"/>): work started inside it (awaits, tasks, threads) counts, and
/// so do callbacks served on the calling thread; other threads' operations do not. Sections nest;
/// an operation counts in every open one.
/// </summary>
public sealed class TelemetrySection : IDisposable
{
    private static readonly AsyncLocal<TelemetrySection?> s_current = new();

    private readonly RpycTelemetry _owner;
    private readonly long _startTimestamp;
    private long _endTimestamp;
    private int _disposed;
    private long _calls;
    private long _roundTrips;
    private long _oneWayMessages;
    private long _incomingRequests;
    private long _bytesSent;
    private long _bytesReceived;
    private long _netrefsCreated;
    private long _netrefsReleased;

    internal TelemetrySection(RpycTelemetry owner, string name)
    {
        _owner = owner;
        Name = name;
        Parent = s_current.Value;
        _startTimestamp = Stopwatch.GetTimestamp();
        s_current.Value = this;
    }

    internal static TelemetrySection? Current => s_current.Value;

    internal TelemetrySection? Parent { get; }

    internal RpycTelemetry Owner => _owner;

    /// <summary>The section's name.</summary>
    public string Name { get; }

    /// <summary>Operations started in the section.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Network round trips made in the section.</summary>
    public long RoundTrips => Interlocked.Read(ref _roundTrips);

    /// <summary>One-way messages (DEL, CLOSE) sent in the section.</summary>
    public long OneWayMessages => Interlocked.Read(ref _oneWayMessages);

    /// <summary>The peer's requests (callbacks) handled in the section.</summary>
    public long IncomingRequests => Interlocked.Read(ref _incomingRequests);

    /// <summary>Frame bytes sent in the section.</summary>
    public long BytesSent => Interlocked.Read(ref _bytesSent);

    /// <summary>Frame bytes received in the section.</summary>
    public long BytesReceived => Interlocked.Read(ref _bytesReceived);

    /// <summary>Proxies created by replies read on the section's flow.</summary>
    public long NetrefsCreated => Interlocked.Read(ref _netrefsCreated);

    /// <summary>Proxies disposed on the section's flow.</summary>
    public long NetrefsReleased => Interlocked.Read(ref _netrefsReleased);

    /// <summary>Time from opening to closing (or until now while open).</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_startTimestamp, _endTimestamp == 0 ? Stopwatch.GetTimestamp() : _endTimestamp);

    internal void AddCall() => Interlocked.Increment(ref _calls);

    internal void AddSent(bool roundTrip, long bytes)
    {
        Interlocked.Increment(ref roundTrip ? ref _roundTrips : ref _oneWayMessages);
        Interlocked.Add(ref _bytesSent, bytes);
    }

    internal void AddIncoming(long bytes)
    {
        Interlocked.Increment(ref _incomingRequests);
        Interlocked.Add(ref _bytesReceived, bytes);
    }

    internal void AddReceived(long bytes) => Interlocked.Add(ref _bytesReceived, bytes);

    internal void AddSentBytes(long bytes) => Interlocked.Add(ref _bytesSent, bytes);

    internal void AddNetrefCreated() => Interlocked.Increment(ref _netrefsCreated);

    internal void AddNetrefReleased() => Interlocked.Increment(ref _netrefsReleased);

    /// <summary>Closes the section and adds its counts to <see cref="RpycTelemetry.Sections"/>.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        _endTimestamp = Stopwatch.GetTimestamp();
        if (ReferenceEquals(s_current.Value, this))
        {
            s_current.Value = Parent;
        }
        _owner.SectionClosed(this);
    }
}

/// <summary>The totals of every closed <see cref="TelemetrySection"/> with one name.</summary>
public sealed class SectionStatistics
{
    /// <summary>The section name.</summary>
    public required string Name { get; init; }

    /// <summary>How many times a section with this name was closed.</summary>
    public long Runs { get; init; }

    /// <summary>Operations started.</summary>
    public long Calls { get; init; }

    /// <summary>Network round trips.</summary>
    public long RoundTrips { get; init; }

    /// <summary>One-way messages sent.</summary>
    public long OneWayMessages { get; init; }

    /// <summary>The peer's requests handled.</summary>
    public long IncomingRequests { get; init; }

    /// <summary>Frame bytes sent.</summary>
    public long BytesSent { get; init; }

    /// <summary>Frame bytes received.</summary>
    public long BytesReceived { get; init; }

    /// <summary>Proxies created.</summary>
    public long NetrefsCreated { get; init; }

    /// <summary>Proxies released.</summary>
    public long NetrefsReleased { get; init; }

    /// <summary>Total time spent in the sections.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>Round trips per run.</summary>
    public double RoundTripsPerRun => Runs == 0 ? 0 : (double)RoundTrips / Runs;

    internal SectionStatistics Add(TelemetrySection s) => new()
    {
        Name = Name,
        Runs = Runs + 1,
        Calls = Calls + s.Calls,
        RoundTrips = RoundTrips + s.RoundTrips,
        OneWayMessages = OneWayMessages + s.OneWayMessages,
        IncomingRequests = IncomingRequests + s.IncomingRequests,
        BytesSent = BytesSent + s.BytesSent,
        BytesReceived = BytesReceived + s.BytesReceived,
        NetrefsCreated = NetrefsCreated + s.NetrefsCreated,
        NetrefsReleased = NetrefsReleased + s.NetrefsReleased,
        Elapsed = Elapsed + s.Elapsed,
    };
}
