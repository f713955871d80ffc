using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Rpyc.Servers;

namespace Rpyc;

/// <summary>
/// Base of the RPyC servers: binds, accepts, waits for each connection's first bytes without a
/// thread of its own, and hands the connection to the concrete server. Idle or silent peers cannot
/// lock a server: a connection that sends no complete frame within
/// <see cref="RpycServerOptions.HandshakeTimeout"/> is closed, at most
/// <see cref="RpycServerOptions.MaxPendingConnections"/> wait (the oldest goes first), at most
/// <see cref="RpycServerOptions.MaxConnections"/> are served, and every kind of refusal is logged
/// once per burst. Stopping closes the listener and every connection.
/// </summary>
public abstract partial class RpycServer : IDisposable
{
    private readonly Socket _listener;
    private readonly BurstLog _refused;
    private readonly BurstLog _silent;
    private readonly BurstLog _evicted;
    private readonly BurstLog _idle;
    private readonly BurstLog _acceptFailed;
    private readonly BurstLog _failed;
    // See TryReserveConnection.
    private readonly Lock _admission = new();
    private PendingConnections? _pending;
    private int _handedOnAtAccept;
    private int _started;
    private int _stopped;
    private string _lastAcceptError = "";
    private string _lastFailure = "";

    /// <summary>Binds the listening socket (nothing is accepted before <see cref="Start"/>).</summary>
    /// <param name="options">The server settings.</param>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    /// <exception cref="SocketException">
    /// The address cannot be bound; <see cref="SocketException.SocketErrorCode"/> is
    /// <see cref="SocketError.AddressAlreadyInUse"/> when another socket listens on the port.
    /// </exception>
    protected RpycServer(RpycServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(nameof(options));
        Options = options;
        IPAddress address = ResolveBindAddress(options.Host);
        if (!IPAddress.IsLoopback(address))
        {
            RpycLog.Warn($"binding {address}: RPyC has no authentication, so anyone who can reach this port can call the service.");
        }
        _listener = Bind(new IPEndPoint(address, options.Port), options.ReusePort);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        string prefix = $"port {Port.ToString(CultureInfo.InvariantCulture)}: ";
        TimeSpan window = BurstLog.DefaultWindow;
        _refused = new BurstLog(prefix, "refused", () => $"MaxConnections ({Options.MaxConnections}) are being served", window);
        _silent = new BurstLog(prefix, "closed", () => $"no complete frame within HandshakeTimeout ({Seconds(Options.HandshakeTimeout)} s) of connecting", window);
        _evicted = new BurstLog(prefix, "closed", () => $"the oldest of MaxPendingConnections ({Options.MaxPendingConnections}) connections that had sent nothing, to make room", window);
        _idle = new BurstLog(prefix, "closed", () => $"no frame for IdleTimeout ({Seconds(Options.IdleTimeout)} s)", window);
        _acceptFailed = new BurstLog(prefix, "could not accept", () => Volatile.Read(ref _lastAcceptError), window);
        _failed = new BurstLog(prefix, "closed", () => Volatile.Read(ref _lastFailure), window);
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    // The address a host text binds: localhost is loopback, a name its first IPv4 or IPv6 address.
    // Also the rule of the suite's raw TCP and Kestrel servers, so every target reads --host alike.
    /// <exception cref="SocketException">The name does not resolve, or to no IP address.</exception>
    internal static IPAddress ResolveBindAddress(string host) =>
        host == "localhost" ? IPAddress.Loopback
        : IPAddress.TryParse(host, out IPAddress? parsed) ? parsed
        : Dns.GetHostAddresses(host).FirstOrDefault(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            ?? throw new SocketException((int)SocketError.HostNotFound);

    private static Socket Bind(IPEndPoint endpoint, bool reusePort)
    {
        var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            AllowReuse(listener, reusePort);
            listener.Bind(endpoint);
            return listener;
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            string why = ex.SocketErrorCode == SocketError.AddressAlreadyInUse
                ? "the port is already in use (another server listens on it). Stop that server, pick another port (0 picks a free one), or set RpycServerOptions.ReusePort to share it on purpose"
                : ex.Message;
            throw new SocketException((int)ex.SocketErrorCode, $"Cannot listen on {endpoint}: {why}.");
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    // .NET's ReuseAddress sets SO_REUSEPORT as well on Linux and macOS, which lets a second server
    // bind a busy port and take half its clients; SO_REUSEADDR alone only allows binding over
    // connections in TIME_WAIT, as every Unix server does. Windows' SO_REUSEADDR means sharing.
    private static void AllowReuse(Socket listener, bool reusePort)
    {
        if (OperatingSystem.IsWindows())
        {
            if (reusePort)
            {
                listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            }
            return;
        }
        bool linux = OperatingSystem.IsLinux();
        int solSocket = linux ? 1 : 0xffff;
        Span<byte> on = [1, 0, 0, 0];
        listener.SetRawSocketOption(solSocket, linux ? 2 : 0x4, on);
        if (reusePort)
        {
            listener.SetRawSocketOption(solSocket, linux ? 15 : 0x200, on);
        }
    }

    /// <summary>The server settings.</summary>
    public RpycServerOptions Options { get; }

    /// <summary>The bound TCP port (the one picked when <see cref="RpycServerOptions.Port"/> was 0).</summary>
    public int Port { get; }

    /// <summary>The bound address.</summary>
    public string Host => ((IPEndPoint)_listener.LocalEndPoint!).Address.ToString();

    /// <summary>This server's refused connections still being told why (<see cref="Stop"/> ends them).</summary>
    private protected Refusal Refusals { get; } = new();

    /// <summary>Refused connections not yet closed (tests).</summary>
    internal int RefusalsInProgress => Refusals.InFlight;

    /// <summary>Whether <see cref="Stop"/> has been called.</summary>
    public bool IsStopped => Volatile.Read(ref _stopped) != 0;

    /// <summary>
    /// Connections open now: those being served, and those accepted that have not sent their first
    /// bytes yet (<see cref="PendingConnections"/>).
    /// </summary>
    public int ActiveConnections => ServedConnections + PendingConnections;

    /// <summary>Connections whose first bytes were there at accept (or within the receive spin), handed on without the pending connections' thread (tests and diagnostics).</summary>
    internal int HandedOnAtAccept => Volatile.Read(ref _handedOnAtAccept);

    /// <summary>Accepted connections that have not sent anything yet; each costs a descriptor, nothing more.</summary>
    public int PendingConnections => _pending?.Count ?? 0;

    /// <summary>Connections handed to the concrete server and not yet closed: what <see cref="RpycServerOptions.MaxConnections"/> caps.</summary>
    protected abstract int ServedConnections { get; }

    /// <summary>
    /// Counts one more connection in <see cref="ServedConnections"/>, before it is handed on; the
    /// concrete server gives the count back when the connection ends, or when the hand-off fails.
    /// Called under the admission lock, after the check against MaxConnections, so it must only
    /// check and count: <c>false</c> when a limit of the concrete server's own is reached.
    /// </summary>
    private protected abstract bool ReserveConnection();

    /// <summary>Closes a connection that <see cref="ReserveConnection"/> turned away, and logs why.</summary>
    /// <param name="client">The refused socket, its first bytes there.</param>
    private protected virtual void RefuseAtOwnLimit(Socket client) => client.Dispose();

    /// <summary>Gives back a <see cref="ReserveConnection"/> whose connection was never handed on.</summary>
    private protected abstract void ReleaseConnection();

    /// <summary>Starts listening and accepting on a background thread; returns at once.</summary>
    /// <exception cref="InvalidOperationException">The server was already started or stopped.</exception>
    public void Start()
    {
        if (IsStopped || Interlocked.Exchange(ref _started, 1) != 0)
        {
            throw new InvalidOperationException("The server was already started.");
        }
        _listener.Listen(Options.Backlog);
        _pending = new PendingConnections($"rpyc-pending:{Port}", Options.HandshakeTimeout, Options.MaxPendingConnections,
            OnFirstBytes, _silent.Record, _evicted.Record);
        OnStarting();
        StartAcceptor();
    }

    /// <summary>Hook run after the listener opens and before the first accept.</summary>
    protected virtual void OnStarting()
    {
    }

    /// <summary>
    /// Tests only: called with the stage's name (<c>accept</c>, <c>first-bytes</c>, <c>start-worker</c>)
    /// on the server's own threads, so a test can make a stage throw (an <see cref="OutOfMemoryException"/>
    /// above all) and check that the failure ends one connection and never the server.
    /// </summary>
    internal Action<string>? FaultInjection { get; set; }

    private protected void InjectFault(string stage) => FaultInjection?.Invoke(stage);

    // Logging allocates, and may fail as the accept did (out of memory): the loop goes on regardless.
    private void RecordAcceptFailure(Exception ex)
    {
        try
        {
            Volatile.Write(ref _lastAcceptError, $"{ex.GetType().Name}: {ex.Message}");
            _acceptFailed.Record();
        }
        catch (OutOfMemoryException)
        {
        }
    }

    /// <summary>
    /// Records, once per burst in the log, that serving one connection failed with
    /// <paramref name="exception"/> and the connection was closed; never throws, since it runs in
    /// the handlers that keep such a failure from ending the process.
    /// </summary>
    /// <param name="peer">The peer's address, or <c>?</c>.</param>
    /// <param name="exception">What ended the connection.</param>
    private protected void RecordConnectionFailure(string peer, Exception exception)
    {
        try
        {
            Volatile.Write(ref _lastFailure, $"{exception.GetType().Name} while serving {peer}: {exception.Message}");
            _failed.Record();
        }
        catch (OutOfMemoryException)
        {
        }
    }

    // On an accepting thread or the pending connections' thread: nothing may escape it (one
    // connection's failure, even out of memory, must not stop the others' first bytes). It must not
    // block, except with serveHere, where the accepting thread serves the connection itself.
    private void OnFirstBytes(Socket client, TimeSpan firstFrameTimeout) => OnFirstBytes(client, firstFrameTimeout, serveHere: false);

    private void OnFirstBytes(Socket client, TimeSpan firstFrameTimeout, bool serveHere)
    {
        try
        {
            if (IsStopped)
            {
                client.Dispose();
                return;
            }
            switch (TryReserveConnection())
            {
                case Admission.AtMaxConnections:
                    Refusals.Refuse(client, $"The server on port {Port} is at its connection limit: MaxConnections ({Options.MaxConnections}) connections are being served. Try again later.");
                    _refused.Record();
                    return;
                case Admission.AtOwnLimit:
                    RefuseAtOwnLimit(client);
                    return;
            }
            try
            {
                InjectFault("first-bytes");
            }
            catch
            {
                ReleaseConnection();
                throw;
            }
            // The hand-off owns the reservation from here: it gives it back if it fails.
            if (serveHere)
            {
                ServeOnAcceptingThread(client, firstFrameTimeout);
            }
            else
            {
                OnAccepted(client, firstFrameTimeout);
            }
        }
        catch (Exception ex)
        {
            client.Dispose();
            RecordConnectionFailure("a new connection", ex);
        }
    }

    // Check and count as one step: the accepting threads and the pending connections' thread hand
    // connections on at the same time, and two that both saw one slot left were both served.
    // Only admissions raise the count (the rest lowers it), so the check under this lock holds.
    private Admission TryReserveConnection()
    {
        lock (_admission)
        {
            if (ServedConnections >= Options.MaxConnections)
            {
                return Admission.AtMaxConnections;
            }
            return ReserveConnection() ? Admission.Admitted : Admission.AtOwnLimit;
        }
    }

    private enum Admission
    {
        Admitted,
        AtMaxConnections,
        AtOwnLimit,
    }

    /// <summary>
    /// Serves one accepted client socket whose first bytes have arrived; the concrete server owns
    /// it from here. Runs on the thread that watches every pending connection: it must not block.
    /// </summary>
    /// <remarks>The connection is counted in <see cref="ServedConnections"/> already; if this throws, it must not be counted any more.</remarks>
    /// <param name="client">The accepted socket (blocking mode).</param>
    /// <param name="firstFrameTimeout">What is left of <see cref="RpycServerOptions.HandshakeTimeout"/> for the first frame to complete.</param>
    protected abstract void OnAccepted(Socket client, TimeSpan firstFrameTimeout);

    /// <summary>Logs, once per burst, how a served connection ended when it was not a close by either side.</summary>
    /// <param name="outcome">How <see cref="ServeLoop"/> ended.</param>
    private protected void Report(ServeLoop.Outcome outcome)
    {
        switch (outcome)
        {
            case ServeLoop.Outcome.HandshakeTimeout:
                _silent.Record();
                break;
            case ServeLoop.Outcome.IdleTimeout:
                _idle.Record();
                break;
        }
    }

    /// <summary>Stops accepting and closes every connection.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }
        _listener.Dispose();
        _pending?.Dispose();
        // Before OnStopping, which may wait seconds for workers and connections to end.
        Refusals.Dispose();
        OnStopping();
        JoinAcceptors(TimeSpan.FromSeconds(5));
        _refused.Dispose();
        _silent.Dispose();
        _evicted.Dispose();
        _idle.Dispose();
        _acceptFailed.Dispose();
        _failed.Dispose();
    }

    /// <summary>Hook that closes the concrete server's connections.</summary>
    protected abstract void OnStopping();

    /// <inheritdoc />
    public void Dispose()
    {
        Stop();
        GC.SuppressFinalize(this);
    }
}
