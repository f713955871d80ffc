using System.Net;
using System.Net.Sockets;

namespace Rpyc.Bench;

/// <summary>
/// A user-space network between a client and a server, for hosts without <c>tc netem</c>: it accepts
/// the client's connections, connects each to the server, and delivers every chunk in each direction
/// half a round trip after it arrived (plus jitter, after the rate limit's serialization), in order.
/// Sleeps are absolute <c>clock_nanosleep</c> deadlines with a 1 us timer slack and a short final spin;
/// the relay's own lateness and CPU time are measured, so a report can state both.
/// </summary>
/// <remarks>
/// The TCP handshake is not delayed: the client's connect completes against the relay's listen
/// queue, so a connect costs no round trip (the first request pays the delay as usual).
/// Four threads per connection (a reader and a writer per direction); bytes in flight per direction
/// are bounded by the link's bandwidth-delay product plus <see cref="DelayRelayOptions.QueueSlackBytes"/>.
/// Both of the relay's sockets send at once (TCP_NODELAY) and, on Linux, acknowledge every receive at
/// once (TCP_QUICKACK, re-armed after each read): the relay ends TCP on both sides, and a delayed ACK
/// there would let a peer's Nagle hold its next small write for up to 40 ms, a stall no real link adds.
/// </remarks>
/// <example>
/// <code>
/// using DelayRelay relay = DelayRelay.Start(NetworkProfile.Parse("rtt=1ms"), new IPEndPoint(IPAddress.Loopback, serverPort));
/// using var client = new TcpClient("127.0.0.1", relay.Port);   // every round trip now costs 1 ms more
/// ...
/// RelayStatistics stats = relay.GetStatistics();               // stats.Lateness.P99: the relay's error
/// </code>
/// </example>
public sealed class DelayRelay : IDisposable
{
    private static readonly TimeSpan s_joinTimeout = TimeSpan.FromSeconds(2);

    private readonly Socket _listener;
    private readonly IPEndPoint _server;
    private readonly Thread _acceptThread;
    private readonly Lock _gate = new();
    private readonly HashSet<RelayConnection> _open = [];
    private readonly LatencyRecorder _lateness = new();
    private readonly Random _seeds;
    private long _connections;
    private long _failedConnections;
    private long _resets;
    private long _bytesUp;
    private long _bytesDown;
    private long _chunks;
    private volatile bool _disposed;

    private DelayRelay(NetworkProfile profile, IPEndPoint server, Socket listener, DelayRelayOptions options)
    {
        Profile = profile;
        Options = options;
        _server = server;
        _listener = listener;
        _seeds = options.Seed is int seed ? new Random(seed) : new Random();
        Timer = new PreciseTimer(options.SpinMargin);
        DelayCompensation = options.DelayCompensation ?? RelayCalibration.Compensation;
        double oneWaySeconds = (profile.OneWayDelay + profile.Jitter).TotalSeconds;
        long window = profile.RateBitsPerSecond is long rate
            ? (long)(rate / 8.0 * oneWaySeconds)
            : options.UnlimitedRateWindowBytes;
        QueueCapacityBytes = window + options.QueueSlackBytes;
        // About 1 ms of the link per chunk, so the rate is paced smoothly, within [4 KiB, 64 KiB].
        ChunkBytes = profile.RateBitsPerSecond is long r ? (int)Math.Clamp(r / 8 / 1000, 4096, 65536) : 65536;
        EndPoint = (IPEndPoint)listener.LocalEndPoint!;
        _acceptThread = new Thread(AcceptLoop) { Name = "relay accept", IsBackground = true };
        _acceptThread.Start();
    }

    /// <summary>The network this relay plays.</summary>
    public NetworkProfile Profile { get; }

    /// <summary>The relay's tuning.</summary>
    public DelayRelayOptions Options { get; }

    /// <summary>
    /// What the relay takes off each one-way delay for its own path cost: <see cref="DelayRelayOptions.DelayCompensation"/>,
    /// or by default half the relay's own round-trip cost measured once per process (a 0.2 ms relay
    /// in front of an echo server against the echo server straight, interleaved).
    /// </summary>
    public TimeSpan DelayCompensation { get; }

    /// <summary>The address clients connect to.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The port clients connect to.</summary>
    public int Port => EndPoint.Port;

    /// <summary>Client connections accepted so far.</summary>
    public long Connections => Interlocked.Read(ref _connections);

    /// <summary>Bytes delivered to the server so far.</summary>
    public long BytesClientToServer => Interlocked.Read(ref _bytesUp);

    /// <summary>Bytes delivered to the client so far.</summary>
    public long BytesServerToClient => Interlocked.Read(ref _bytesDown);

    /// <summary>CPU seconds the relay's threads have used so far (NaN off Linux).</summary>
    public double CpuSeconds => Cpu.TotalSeconds;

    internal PreciseTimer Timer { get; }

    internal ThreadCpuClock Cpu { get; } = new();

    internal long QueueCapacityBytes { get; }

    internal int ChunkBytes { get; }

    /// <summary>Starts a relay that plays <paramref name="profile"/> in front of <paramref name="server"/>.</summary>
    /// <param name="profile">The network; not <see cref="NetworkProfile.Loopback"/>, which means no relay.</param>
    /// <param name="server">Where each client connection is forwarded.</param>
    /// <param name="listenHost">The address to listen on.</param>
    /// <param name="listenPort">The port to listen on; 0 picks a free one (see <see cref="Port"/>).</param>
    /// <param name="options">Tuning; <c>null</c> for the defaults.</param>
    /// <returns>The running relay; dispose it to close every connection.</returns>
    /// <exception cref="ArgumentException">The profile is loopback, or the listen host is not an IP address.</exception>
    /// <exception cref="SocketException">The listen address cannot be bound.</exception>
    public static DelayRelay Start(NetworkProfile profile, IPEndPoint server, string listenHost = "127.0.0.1", int listenPort = 0, DelayRelayOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(listenHost);
        if (profile.IsLoopback)
        {
            throw new ArgumentException("The loopback profile means no relay: connect to the server directly.", nameof(profile));
        }
        if (!IPAddress.TryParse(listenHost, out IPAddress? address))
        {
            throw new ArgumentException($"The relay's listen host '{listenHost}' is not an IP address.", nameof(listenHost));
        }
        ArgumentOutOfRangeException.ThrowIfNegative(listenPort);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(listenPort, IPEndPoint.MaxPort);
        options ??= new DelayRelayOptions();
        options.Validate();
        var listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(new IPEndPoint(address, listenPort));
            listener.Listen(512);
            return new DelayRelay(profile, server, listener, options);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    /// <summary>A snapshot of the counters and of the measured lateness.</summary>
    /// <returns>The statistics so far.</returns>
    public RelayStatistics GetStatistics()
    {
        double cpu = CpuSeconds;
        lock (_gate)
        {
            return new RelayStatistics(
                Profile, Connections, _open.Count, Interlocked.Read(ref _failedConnections), Interlocked.Read(ref _resets),
                _bytesUp, _bytesDown, _chunks, cpu, _lateness.ToStatistics(), Timer.SpinMargin, DelayCompensation);
        }
    }

    /// <summary>Stops listening, resets every open connection and waits for the relay's threads.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        _listener.Dispose();
        _acceptThread.Join(s_joinTimeout);
        // A closed connection's threads have ended or are ending on their own; only open ones need a push.
        RelayConnection[] all;
        lock (_gate)
        {
            all = [.. _open];
        }
        foreach (RelayConnection connection in all)
        {
            connection.Abort();
        }
        foreach (RelayConnection connection in all)
        {
            connection.Join(s_joinTimeout);
        }
    }

    internal Random NewRandom()
    {
        lock (_gate)
        {
            return new Random(_seeds.Next());
        }
    }

    internal void OnDelivered(bool clientToServer, int bytes, long latenessTicks)
    {
        // Under the lock with the lateness, so a snapshot's chunk count matches its lateness count.
        lock (_gate)
        {
            Interlocked.Add(ref clientToServer ? ref _bytesUp : ref _bytesDown, bytes);
            _chunks++;
            _lateness.Record(PreciseTimer.ToStopwatchTicks(latenessTicks));
        }
    }

    internal void OnReset() => Interlocked.Increment(ref _resets);

    internal void OnConnectionClosed(RelayConnection connection)
    {
        lock (_gate)
        {
            _open.Remove(connection);
        }
    }

    private void AcceptLoop()
    {
        using ThreadCpuClock.Registration cpu = Cpu.Enter();
        while (!_disposed)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Disposed: the listener is closed. Anything else (out of descriptors): keep serving.
                if (_disposed)
                {
                    return;
                }
                continue;
            }
            int id = (int)Interlocked.Increment(ref _connections);
            var server = new Socket(_server.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                // Connecting on this thread keeps accepts in order; the server is local or one real RTT away.
                server.Connect(_server);
                client.NoDelay = true;
                server.NoDelay = true;
            }
            catch (SocketException)
            {
                Interlocked.Increment(ref _failedConnections);
                server.Dispose();
                client.LingerState = new LingerOption(true, 0);
                client.Dispose();
                continue;
            }
            var connection = new RelayConnection(this, id, client, server);
            lock (_gate)
            {
                if (_disposed)
                {
                    client.Dispose();
                    server.Dispose();
                    return;
                }
                _open.Add(connection);
            }
            connection.Start();
        }
    }
}
