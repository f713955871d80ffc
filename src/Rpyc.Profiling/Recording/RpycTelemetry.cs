using System.Collections.Concurrent;
using System.Diagnostics;
using Rpyc.Telemetry;

namespace Rpyc;

/// <summary>
/// Records what RPyC connections really do, from the protocol layer: every round trip, one-way
/// message and handled request (handler, target, name, timestamps, frame sizes, nesting), every
/// proxy created, used and released on both sides, with per-thread call stacks and sections.
/// One counter set per instance, safe across threads; the record log is lock-free and bounded.
/// Attach it to any number of connections; reports come from the <c>Format*</c> methods.
/// </summary>
/// <example>
/// <code>
/// var telemetry = new RpycTelemetry(new RpycTelemetryOptions { SlowCallThreshold = TimeSpan.FromMilliseconds(10) });
/// using var conn = RpycConnection.Connect("127.0.0.1", 18861);
/// telemetry.Attach(conn);
/// dynamic root = conn.Root;
/// using (telemetry.Section("load"))
/// {
///     foreach (object? item in root.get_list()) { }
/// }
/// telemetry.PrintSummary();
/// Console.WriteLine(telemetry.FormatFullReport());
/// </code>
/// </example>
public sealed partial class RpycTelemetry
{
    private readonly RpycTelemetryOptions _options;
    private readonly ConcurrentDictionary<RpycConnection, TelemetryObserver> _attached = new();
    // Connection number -> observer, for its peer name: the connections attached, and those closed
    // (or detached) that the current log still keeps a record or netref of. A server attaching to
    // each of its connections kept one name per connection it ever had.
    private readonly Dictionary<int, TelemetryObserver> _peerNames = [];
    private readonly object _peerNamesLock = new();
    private readonly object _sectionsLock = new();
    private readonly List<SectionStatistics> _sections = [];
    private readonly long _slowTicks;
    private volatile TelemetryState _state;
    private int _nextConnectionId;
    private int _openSections;

    /// <summary>Creates a telemetry; attach it to connections with <see cref="Attach"/>.</summary>
    /// <param name="options">Settings, or <c>null</c> for <see cref="RpycTelemetryOptions.Default"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">A threshold or limit is out of range.</exception>
    public RpycTelemetry(RpycTelemetryOptions? options = null)
    {
        _options = options ?? RpycTelemetryOptions.Default;
        _options.Validate();
        _slowTicks = (long)(_options.SlowCallThreshold.TotalSeconds * Stopwatch.Frequency);
        _state = new TelemetryState(_options.MaxRecords);
    }

    /// <summary>The settings.</summary>
    public RpycTelemetryOptions Options => _options;

    /// <summary>
    /// Starts observing a connection (replacing any telemetry attached to it before). Attach
    /// before the first request to see the <c>getroot</c> round trip too.
    /// </summary>
    /// <param name="connection">The connection, client or server side.</param>
    /// <exception cref="ArgumentNullException"><paramref name="connection"/> is <c>null</c>.</exception>
    public void Attach(RpycConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (!_attached.TryGetValue(connection, out TelemetryObserver? observer))
        {
            var created = new TelemetryObserver(this, connection, Interlocked.Increment(ref _nextConnectionId));
            if (_attached.TryAdd(connection, created))
            {
                observer = created;
                lock (_peerNamesLock)
                {
                    _peerNames[created.ConnectionId] = created;
                }
                // A closed connection produces no more events; forget it so servers do not pile them up.
                connection.Closed += OnConnectionClosed;
            }
            else
            {
                observer = _attached[connection];
            }
        }
        connection.Observer = observer;
    }

    /// <summary>Stops observing a connection; what was recorded stays.</summary>
    /// <param name="connection">The connection.</param>
    /// <exception cref="ArgumentNullException"><paramref name="connection"/> is <c>null</c>.</exception>
    public void Detach(RpycConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        connection.Closed -= OnConnectionClosed;
        if (_attached.TryRemove(connection, out TelemetryObserver? observer))
        {
            ForgetPeerNameUnlessKept(observer);
            if (ReferenceEquals(connection.Observer, observer))
            {
                connection.Observer = null;
            }
        }
    }

    /// <summary>Whether this telemetry currently observes <paramref name="connection"/>.</summary>
    /// <param name="connection">The connection.</param>
    /// <returns><c>true</c> when attached and not replaced since.</returns>
    public bool IsAttached(RpycConnection connection) =>
        connection is not null && connection.Observer is TelemetryObserver observer && ReferenceEquals(observer.Telemetry, this);

    // Both sides drop their tables with the connection, without DELs (wire notes 7.3): what was
    // alive is gone, so it no longer counts as active nor as never released.
    private void OnConnectionClosed(RpycConnection connection, Exception? reason)
    {
        connection.Closed -= OnConnectionClosed;
        if (!_attached.TryRemove(connection, out TelemetryObserver? observer))
        {
            return;
        }
        ForgetPeerNameUnlessKept(observer);
        if (!_options.Enabled)
        {
            return;
        }
        TelemetryState state = _state;
        Interlocked.Add(ref state.NetrefsDroppedOnClose, Math.Max(0, Interlocked.Exchange(ref observer.AliveProxies, 0)));
        Interlocked.Add(ref state.ExportsDroppedOnClose, Math.Max(0, Interlocked.Exchange(ref observer.AliveExports, 0)));
        long now = Stopwatch.GetTimestamp();
        foreach (AliveTable table in new[] { state.AliveProxies, state.AliveExports })
        {
            foreach (NetrefInfo info in table.RemoveConnection(observer.ConnectionId))
            {
                info.Released(now);
            }
        }
    }

    /// <summary>
    /// Opens a named section of the calling flow whose round trips, bytes and netrefs are counted
    /// apart; dispose it to close it (<c>using (telemetry.Section("load")) { ... }</c>).
    /// </summary>
    /// <param name="name">The section name; sections with the same name are added up.</param>
    /// <returns>The open section, with live counters.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is null or empty.</exception>
    public TelemetrySection Section(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        Interlocked.Increment(ref _openSections);
        return new TelemetrySection(this, name);
    }

    internal void SectionClosed(TelemetrySection section)
    {
        Interlocked.Decrement(ref _openSections);
        lock (_sectionsLock)
        {
            int index = _sections.FindIndex(s => s.Name == section.Name);
            if (index < 0)
            {
                _sections.Add(new SectionStatistics { Name = section.Name }.Add(section));
            }
            else
            {
                _sections[index] = _sections[index].Add(section);
            }
        }
    }

    /// <summary>The closed sections, totalled by name, in the order each name first closed.</summary>
    public IReadOnlyList<SectionStatistics> Sections
    {
        get
        {
            lock (_sectionsLock)
            {
                return [.. _sections];
            }
        }
    }

    /// <summary>The kept operation records in start order (a snapshot; in-progress ones included).</summary>
    public IReadOnlyList<CallRecord> Records => _state.Log.Snapshot();

    /// <summary>Every proxy and exported object followed so far (a snapshot, in creation order), released or not.</summary>
    public IReadOnlyList<NetrefInfo> Netrefs => [.. _state.AllNetrefs];

    /// <summary>The proxies alive on this side (a snapshot), most used first.</summary>
    public IReadOnlyList<NetrefInfo> ActiveNetrefs =>
        [.. _state.AliveProxies.Values.OrderByDescending(n => n.Accesses).ThenBy(n => n.Id)];

    /// <summary>The peer address of a connection number, or <c>null</c>.</summary>
    /// <param name="connectionId">A <see cref="CallRecord.ConnectionId"/>.</param>
    /// <returns>The peer name recorded when the connection was attached.</returns>
    /// <remarks>
    /// Known while the connection is attached, and after it closed (or was detached) while a record or
    /// netref of it is kept; a <see cref="Reset"/> forgets those of connections already closed.
    /// </remarks>
    public string? PeerName(int connectionId)
    {
        lock (_peerNamesLock)
        {
            return _peerNames.TryGetValue(connectionId, out TelemetryObserver? observer) ? observer.PeerName : null;
        }
    }

    // How many peer names are kept, for tests.
    internal int PeerNamesKept
    {
        get
        {
            lock (_peerNamesLock)
            {
                return _peerNames.Count;
            }
        }
    }

    // A record or netref of this connection is kept in the log of 'state': its name must stay, even
    // when the connection closed meanwhile (the name may just have been forgotten). Once per
    // connection and state: the check before the lock keeps it off the hot path.
    private void KeepPeerName(TelemetryObserver source, TelemetryState state)
    {
        if (ReferenceEquals(Volatile.Read(ref source.KeptIn), state))
        {
            return;
        }
        lock (_peerNamesLock)
        {
            Volatile.Write(ref source.KeptIn, state);
            if (source.Gone && ReferenceEquals(state, _state))
            {
                _peerNames.TryAdd(source.ConnectionId, source);
            }
        }
    }

    // The connection closed or was detached: its name goes, unless the current log keeps some of it.
    private void ForgetPeerNameUnlessKept(TelemetryObserver observer)
    {
        lock (_peerNamesLock)
        {
            observer.Gone = true;
            if (!ReferenceEquals(observer.KeptIn, _state))
            {
                _peerNames.Remove(observer.ConnectionId);
            }
        }
    }

    /// <summary>A snapshot of the counters.</summary>
    /// <returns>The statistics; each counter is exact.</returns>
    public TelemetryStatistics GetStatistics()
    {
        TelemetryState s = _state;
        long kept = Math.Min(s.Log.Claimed, _options.MaxRecords);
        return new TelemetryStatistics
        {
            TotalCalls = Interlocked.Read(ref s.TotalCalls),
            RoundTrips = Interlocked.Read(ref s.RoundTrips),
            OneWayMessages = Interlocked.Read(ref s.OneWayMessages),
            IncomingRequests = Interlocked.Read(ref s.IncomingRequests),
            Errors = Interlocked.Read(ref s.Errors),
            BytesSent = Interlocked.Read(ref s.BytesSent),
            BytesReceived = Interlocked.Read(ref s.BytesReceived),
            UnmatchedReplies = Interlocked.Read(ref s.UnmatchedReplies),
            UnmatchedReplyBytes = Interlocked.Read(ref s.UnmatchedReplyBytes),
            NetrefsCreated = Interlocked.Read(ref s.NetrefsCreated),
            NetrefsReleased = Interlocked.Read(ref s.NetrefsReleased),
            NetrefsDroppedOnClose = Interlocked.Read(ref s.NetrefsDroppedOnClose),
            ExportsDroppedOnClose = Interlocked.Read(ref s.ExportsDroppedOnClose),
            NetrefAccesses = Interlocked.Read(ref s.NetrefAccesses),
            ObjectsExported = Interlocked.Read(ref s.ObjectsExported),
            ObjectsReleased = Interlocked.Read(ref s.ObjectsReleased),
            CurrentStackDepth = CurrentOpen(s)?.Depth ?? 0,
            MaxStackDepth = Volatile.Read(ref s.MaxDepth),
            SlowCalls = Interlocked.Read(ref s.SlowCalls),
            DeepStacks = Interlocked.Read(ref s.DeepStacks),
            TotalRoundTripTime = Stopwatch.GetElapsedTime(0, Interlocked.Read(ref s.RoundTripTicks)),
            RecordsKept = kept,
            RecordsDropped = s.Log.Dropped,
        };
    }

    /// <summary>
    /// Forgets every record, counter, netref entry and section (after a warm-up, say). Operations
    /// in progress complete into the old state and are not counted; calls made inside them afterwards are
    /// recorded at top level.
    /// </summary>
    public void Reset()
    {
        var state = new TelemetryState(_options.MaxRecords);
        _state = state;
        lock (_peerNamesLock)
        {
            // The records of the connections gone went with the old log, and so do their names.
            foreach (int id in _peerNames.Where(p => p.Value.Gone && !ReferenceEquals(p.Value.KeptIn, state)).Select(p => p.Key).ToList())
            {
                _peerNames.Remove(id);
            }
        }
        foreach (TelemetryObserver observer in _attached.Values)
        {
            Interlocked.Exchange(ref observer.AliveProxies, 0);
            Interlocked.Exchange(ref observer.AliveExports, 0);
        }
        lock (_sectionsLock)
        {
            _sections.Clear();
        }
    }

    private static string Describe(Exception error) => error switch
    {
        RpycRemoteException remote => remote.RemoteArgs.Count == 0
            ? remote.RemoteTypeName
            : $"{remote.RemoteTypeName}: {PyValue.Str(remote.RemoteArgs[0])}",
        _ => $"{error.GetType().Name}: {error.Message}",
    };

    // Everything Reset replaces: counters (Interlocked), the record log and the netref tables.
    internal sealed class TelemetryState(int maxRecords)
    {
        public readonly RecordLog Log = new(maxRecords);
        public readonly AliveTable AliveProxies = new();
        public readonly AliveTable AliveExports = new();
        public readonly ConcurrentQueue<NetrefInfo> AllNetrefs = new();
        public long NetrefIds;
        public long TotalCalls;
        public long RoundTrips;
        public long OneWayMessages;
        public long IncomingRequests;
        public long Errors;
        public long BytesSent;
        public long BytesReceived;
        public long UnmatchedReplies;
        public long UnmatchedReplyBytes;
        public long NetrefsCreated;
        public long NetrefsReleased;
        public long NetrefsDroppedOnClose;
        public long ExportsDroppedOnClose;
        public long NetrefAccesses;
        public long ObjectsExported;
        public long ObjectsReleased;
        public int MaxDepth;
        public long SlowCalls;
        public long DeepStacks;
        public long RoundTripTicks;
    }

    internal readonly record struct NetrefKey(int ConnectionId, string TypeName, long InstanceId);
}
