using System.Net;
using System.Net.Sockets;
using Rpyc.Channel;
using Rpyc.Netrefs;
using Rpyc.Protocol;
using Rpyc.Services;
using Rpyc.Transport;

namespace Rpyc;

/// <summary>
/// One RPyC connection. The protocol is symmetric: this side sends requests to the peer's root
/// object and serves the peer's requests against its own service, on whichever thread is waiting
/// for a reply (as Python does), so callbacks work without a background thread.
/// </summary>
/// <example>
/// <code>
/// using var conn = RpycConnection.Connect("127.0.0.1", 18861);
/// dynamic root = conn.Root;
/// string pong = root.ping();
/// </code>
/// </example>
public sealed partial class RpycConnection : IDisposable, IAsyncDisposable
{
    private readonly Transport.Transport _transport;
    private readonly FrameSource _source;
    private readonly RpycConnectOptions _options;
    private readonly object _localRoot;
    private RpycProtocolVersion? _version;
    private Netref? _root;
    private int _closed;
    private Exception? _closeReason;

    internal RpycConnection(Transport.Transport transport, RpycConnectOptions options, object? service, RpycProtocolVersion? version)
    {
        _transport = transport;
        _options = options;
        _version = version;
        _source = new FrameSource(transport, options.Limits, options.MemoryBudget);
        _localRoot = service ?? new RpycService();
        LocalObjects = new LocalObjectTable();
        Netrefs = new NetrefCache(this);
        _sendBuffer = new PooledBufferWriter(FrameWriter.HeaderLength, 4096);
        _sendScratch = new PooledBufferWriter(FrameWriter.HeaderLength, 256);
        Telemetry.ConnectionHooks.Created?.Invoke(this);
        if (_localRoot is RpycService rpycService)
        {
            rpycService.OnConnect(this);
        }
    }

    /// <summary>Connects to an RPyC server. Nothing is sent until the first request, as in Python.</summary>
    /// <param name="host">Host name or address.</param>
    /// <param name="port">TCP port.</param>
    /// <param name="options">Connection options, or <c>null</c> for the defaults.</param>
    /// <param name="service">The local service the peer may call (callbacks), or <c>null</c> for an empty one.</param>
    /// <returns>The open connection.</returns>
    /// <exception cref="RpycConnectionException">The TCP connection could not be made in time, or the TLS handshake failed (<see cref="RpycConnectOptions.Tls"/>).</exception>
    public static RpycConnection Connect(string host, int port, RpycConnectOptions? options = null, RpycService? service = null) =>
        ConnectCore(host, port, options ?? RpycConnectOptions.Default, service, async: false, CancellationToken.None).GetAwaiter().GetResult();

    /// <summary>Connects to an RPyC server without blocking the calling thread.</summary>
    /// <param name="host">Host name or address.</param>
    /// <param name="port">TCP port.</param>
    /// <param name="options">Connection options, or <c>null</c> for the defaults.</param>
    /// <param name="service">The local service the peer may call (callbacks), or <c>null</c> for an empty one.</param>
    /// <param name="cancellationToken">Cancels the connect.</param>
    /// <returns>The open connection.</returns>
    /// <exception cref="RpycConnectionException">The TCP connection could not be made in time, or the TLS handshake failed (<see cref="RpycConnectOptions.Tls"/>).</exception>
    public static Task<RpycConnection> ConnectAsync(string host, int port, RpycConnectOptions? options = null, RpycService? service = null, CancellationToken cancellationToken = default) =>
        ConnectCore(host, port, options ?? RpycConnectOptions.Default, service, async: true, cancellationToken);

    // One implementation for both twins: only the socket connect differs (npgsql's "bool async" pattern).
    private static async Task<RpycConnection> ConnectCore(string host, int port, RpycConnectOptions options, RpycService? service, bool async, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(port);
        if (options.Tls is not null && !TlsSupport.IsSupported)
        {
            throw TlsSupport.NotSupported("RpycConnectOptions.Tls");
        }
        Socket socket;
        try
        {
            if (async)
            {
                socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(options.ConnectTimeout);
                try
                {
                    await socket.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            }
            else
            {
                socket = ConnectBlocking(host, port, options.ConnectTimeout);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or TimeoutException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw new RpycConnectionException($"Could not connect to {Transport.HostPort.Format(host, port)}: {ex.Message}", ex);
        }
        // The switch in the condition lets the trimmer drop TLS from an application published without it.
        Transport.Transport transport = options.Tls is null
            ? new Transport.SocketTransport(socket, options.NoDelay, options.ReceiveSpin)
            : TlsSupport.IsSupported
                ? await TlsTransport.ConnectAsync(socket, host, port, options, async, cancellationToken).ConfigureAwait(false)
                : throw TlsSupport.NotSupported("RpycConnectOptions.Tls");
        return new RpycConnection(transport, options, service, options.ProtocolVersion);
    }

    // A blocking connect(2) bounded by the kernel's SO_SNDTIMEO on Linux (elsewhere a non-blocking
    // connect and poll(2)), one socket per address tried. Not BeginConnect, and on Linux not a
    // non-blocking connect either: both leave the descriptor non-blocking for good, and then every
    // receive waits in the runtime's epoll engine and wakes its threads (see KernelTimeouts).
    private static Socket ConnectBlocking(string host, int port, TimeSpan timeout)
    {
        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        IPAddress[] addresses = IPAddress.TryParse(host, out IPAddress? literal) ? [literal] : Dns.GetHostAddresses(host);
        Exception? last = null;
        foreach (IPAddress address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                long left = deadline - Environment.TickCount64;
                if (left <= 0)
                {
                    throw TimedOut(timeout);
                }
                if (KernelTimeouts.BoundConnect)
                {
                    socket = ConnectWithSendTimeout(socket, new IPEndPoint(address, port), deadline, timeout);
                }
                else
                {
                    ConnectAndPoll(socket, new IPEndPoint(address, port), left, timeout);
                }
                return socket;
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }
        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    // The longest a connect(2) blocks in the kernel at once (SO_SNDTIMEO). A signal interrupts a
    // connect that has SO_SNDTIMEO (EINTR: such a connect is never restarted, signal(7)), and the
    // runtime calls connect again at once; on a socket still connecting, Linux then waits the whole
    // SO_SNDTIMEO over again and returns EALREADY if the handshake is still going, or 0 once it is
    // done. The slice bounds that wait, so a signal cannot stretch ConnectTimeout by more than this.
    private const int ConnectSliceMs = 250;

    // A blocking connect(2) bounded by SO_SNDTIMEO. Most connects complete within the first slice, at
    // the cost of one connect call; one that takes longer, or is interrupted, goes on in the kernel:
    // wait for it with poll(2) until the deadline and take its outcome from SO_ERROR. Returns the
    // connected socket, a new Socket object when the connect went on past the first call (see Adopt).
    private static Socket ConnectWithSendTimeout(Socket socket, IPEndPoint endpoint, long deadline, TimeSpan timeout)
    {
        KernelTimeouts.SetSend(socket, (int)Math.Clamp(deadline - Environment.TickCount64, 1, ConnectSliceMs));
        try
        {
            socket.Connect(endpoint);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.TimedOut or SocketError.InProgress or SocketError.WouldBlock
            or SocketError.AlreadyInProgress or SocketError.Interrupted)
        {
            // The slice ran out (EINPROGRESS, which the runtime reports as a timeout), or a signal came
            // (EINTR, then EALREADY): the handshake is still in progress.
            AwaitPendingConnect(socket, deadline, timeout);
            socket = Adopt(socket);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.IsConnected)
        {
            // Interrupted, and the handshake completed before the runtime's retry (EISCONN).
            socket = Adopt(socket);
        }
        try
        {
            // Sends never time out, as before: a slow reader is the peer's business, not an error.
            KernelTimeouts.SetSend(socket, 0);
        }
        catch
        {
            // The caller disposes the socket it passed, which may not be this one.
            socket.Dispose();
            throw;
        }
        return socket;
    }

    private static void AwaitPendingConnect(Socket socket, long deadline, TimeSpan timeout)
    {
        while (true)
        {
            long left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                throw TimedOut(timeout);
            }
            bool writable;
            try
            {
                // In slices of at most 100 ms: a refused handshake shows in SO_ERROR, not always as writability.
                writable = socket.Poll((int)Math.Min(left, 100) * 1000, SelectMode.SelectWrite);
            }
            catch (SocketException ex) when (ex.SocketErrorCode == SocketError.Interrupted)
            {
                continue;
            }
            var error = (SocketError)(int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
            if (error != SocketError.Success)
            {
                throw new SocketException((int)error);
            }
            if (writable)
            {
                return;
            }
        }
    }

    // The runtime's Socket saw its Connect fail, so it never learns the connection is up (Connected
    // stays false, RemoteEndPoint null). A Socket made from a duplicate of the descriptor reads its
    // state from the kernel, as a descriptor passed to a ForkingServer worker does; the descriptor
    // stays blocking (see KernelTimeouts).
    private static Socket Adopt(Socket socket)
    {
        const int F_DUPFD_CLOEXEC = 1030;
        int fd = fcntl((int)socket.SafeHandle.DangerousGetHandle(), F_DUPFD_CLOEXEC, 0);
        if (fd < 0)
        {
            throw new SocketException(System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        }
        socket.Dispose();
        return new Socket(new SafeSocketHandle(fd, ownsHandle: true));
    }

    [System.Runtime.InteropServices.LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int cmd, int arg);

    private static void ConnectAndPoll(Socket socket, IPEndPoint endpoint, long leftMs, TimeSpan timeout)
    {
        socket.Blocking = false;
        try
        {
            socket.Connect(endpoint);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress or SocketError.AlreadyInProgress)
        {
            if (!socket.Poll((int)(Math.Min(leftMs, int.MaxValue / 1000) * 1000), SelectMode.SelectWrite))
            {
                throw TimedOut(timeout);
            }
            var error = (SocketError)(int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
            if (error != SocketError.Success)
            {
                throw new SocketException((int)error);
            }
        }
        socket.Blocking = true;
    }

    private static TimeoutException TimedOut(TimeSpan timeout) =>
        new($"The TCP connect did not complete within {timeout.TotalSeconds:0.###} s.");

    /// <summary>Wraps an accepted socket as the server side of a connection (envelope detected from the first message).</summary>
    internal static RpycConnection Accept(Socket socket, RpycConnectOptions options, object service, RpycProtocolVersion? version = null) =>
        new(new Transport.SocketTransport(socket, options.NoDelay, options.ReceiveSpin), options, service, version);

    /// <summary>The options this connection was made with.</summary>
    public RpycConnectOptions Options => _options;

    /// <summary>The envelope in use, or <c>null</c> on a server connection that has not yet received a message.</summary>
    public RpycProtocolVersion? ProtocolVersion => _version;

    /// <summary>Whether the connection has been closed, by either side.</summary>
    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>The peer's address.</summary>
    public string PeerName => _transport.PeerName;

    /// <summary>The local service the peer reaches through <c>GETROOT</c>.</summary>
    public object LocalRoot => _localRoot;

    internal LocalObjectTable LocalObjects { get; }

    /// <summary>The socket under a TCP connection, or <c>null</c> (in-memory transports in tests).</summary>
    internal Socket? Socket => _transport switch
    {
        SocketTransport plain => plain.Socket,
        TlsTransport tls => tls.Socket,
        _ => null,
    };

    /// <summary>Round trips, one-way messages, frames and bytes of this connection so far.</summary>
    public RpycConnectionCounters Counters { get; } = new();

    /// <summary>Objects this side holds for the peer (passed by reference and not yet released).</summary>
    public int LocalObjectCount => LocalObjects.Count;

    /// <summary>Proxies for the peer's objects alive on this side.</summary>
    public int LiveNetrefCount => Netrefs.LiveCount;

    internal NetrefCache Netrefs { get; }

    /// <summary>The peer's root object (its service), fetched once with <c>HANDLE_GETROOT</c>.</summary>
    /// <exception cref="RpycConnectionException">The connection is closed or failed.</exception>
    public dynamic Root => RootNetref;

    /// <summary>The peer's root object for code that avoids <c>dynamic</c>.</summary>
    public Netref RootNetref
    {
        get
        {
            Netref? root = Volatile.Read(ref _root);
            if (root is null)
            {
                root = (Netref)SyncRequest(HandlerId.GetRoot, PyTuple.Empty)!;
                // The root is never released by DEL (wire notes 7.3): keep it for the connection's life.
                root = Interlocked.CompareExchange(ref _root, root, null) ?? root;
            }
            return root;
        }
    }

    /// <summary>Sends <c>HANDLE_PING</c> and checks that the peer echoes the data (Python's <c>conn.ping()</c>).</summary>
    /// <param name="data">The text to echo; Python sends the alphabet 20 times.</param>
    /// <param name="timeout">How long to wait, or <c>null</c> for <see cref="RpycConnectOptions.SyncRequestTimeout"/>.</param>
    /// <exception cref="RpycProtocolException">The echo differs from what was sent.</exception>
    /// <exception cref="RpycTimeoutException">No reply in time.</exception>
    public void Ping(string? data = null, TimeSpan? timeout = null)
    {
        data ??= s_pingData;
        object? echo = SyncRequest(HandlerId.Ping, new PyTuple(data), timeout);
        if (echo is not string s || s != data)
        {
            throw new RpycProtocolException($"Malformed message: the ping echo {PyValue.Repr(echo)} differs from what was sent.");
        }
    }

    private static readonly string s_pingData = string.Concat(Enumerable.Repeat("abcdefghijklmnopqrstuvwxyz", 20));

    /// <summary>
    /// Serves incoming requests until the connection closes: the loop of a server connection's
    /// thread, or of a client that wants the peer's callbacks served while it does nothing else.
    /// </summary>
    public void ServeAll()
    {
        while (!IsClosed)
        {
            ServeOne(Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Serves at most one incoming message, waiting up to <paramref name="timeout"/>.</summary>
    /// <param name="timeout">How long to wait for a message.</param>
    /// <returns><c>true</c> if a message was handled.</returns>
    public bool Serve(TimeSpan timeout) => !IsClosed && ServeOne(timeout);

    /// <summary>Sends <c>HANDLE_CLOSE</c> and closes the socket. Safe to call more than once.</summary>
    public void Close()
    {
        if (IsClosed)
        {
            return;
        }
        // Nobody answers CLOSE (wire notes section 9): send it and close at once. Not at any price:
        // a thread blocked in a send to a peer that reads nothing holds the send lock for as long
        // as the peer likes, and CLOSE itself can find the socket's buffer full. So the lock is
        // waited for, and CLOSE sent, for at most CloseSendWait; then the teardown's shutdown(2)
        // ends the blocked send. Before, a server's Stop() waited for ever on such a client.
        if (Monitor.TryEnter(_sendLock, CloseSendWait))
        {
            try
            {
                LimitSends(CloseSendWait);
                SendRequestNoReply(HandlerId.Close, PyTuple.Empty);
            }
            catch (RpycException)
            {
                // The peer is already gone: closing is still a success.
            }
            finally
            {
                Monitor.Exit(_sendLock);
            }
        }
        Teardown(null);
    }

    // The longest Close waits to send CLOSE (see Close).
    private static readonly TimeSpan CloseSendWait = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Makes a send that cannot go on, because the peer reads nothing, end the connection after
    /// <paramref name="timeout"/> instead of blocking its thread: servers with an IdleTimeout set
    /// it, so a peer that takes no data is as idle as one that sends none.
    /// </summary>
    internal void LimitSends(TimeSpan timeout)
    {
        try
        {
            _transport.LimitSends(timeout);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // Closed meanwhile: no send will block any more.
        }
    }

    /// <inheritdoc />
    public void Dispose() => Close();

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Close();
        return ValueTask.CompletedTask;
    }

    /// <summary>Raised once when the connection closes; the argument is the reason, or <c>null</c> for an orderly close.</summary>
    public event Action<RpycConnection, Exception?>? Closed;

    internal Exception ClosedError() => new RpycConnectionClosedException(
        _closeReason is null ? $"The connection to {PeerName} is closed." : $"The connection to {PeerName} is closed: {_closeReason.Message}",
        _closeReason);

    // Ends the connection once: fails every pending call with the cause, drops both object tables.
    internal void Teardown(Exception? reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }
        _closeReason = reason;
        _transport.Dispose();
        lock (_sync)
        {
            if (_pending.Count > 0)
            {
                Exception error = ClosedError();
                foreach (PendingReply pending in _pending.Values)
                {
                    pending.Fail(error);
                }
                _pending.Clear();
            }
            if (!_readerBusy)
            {
                // No reader holds the receive buffers, and none will read again (the connection is
                // closed): give their memory budget back now. A reader still in a receive does it
                // when it releases the role.
                _source.Dispose();
            }
            PulseWaiters();
        }
        ReturnSendBuffers();
        LocalObjects.Clear();
        Netrefs.Clear();
        if (_localRoot is RpycService service)
        {
            try
            {
                service.OnDisconnect(this);
            }
            catch (Exception ex)
            {
                // Teardown runs on whichever thread saw the end, often a server's connection thread:
                // nothing from a hook (not even OutOfMemoryException) may escape into it.
                RpycLog.Warn($"on_disconnect of {service.GetType().Name} failed: {ex.Message}");
            }
        }
        try
        {
            Closed?.Invoke(this, reason);
        }
        catch (Exception ex)
        {
            RpycLog.Warn($"a Closed handler of the connection to {PeerName} failed: {ex.Message}");
        }
    }
}
