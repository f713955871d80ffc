using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Authentication;
using Rpyc.Servers;
using Rpyc.Transport;

namespace Rpyc;

/// <summary>
/// Serves each connection on its own thread, as rpyc's <c>ThreadedServer</c> does. The service is
/// created per connection by the factory, or shared when an instance is given. A connection whose
/// first bytes are there at accept is served by the thread that accepted it; one that is silent
/// gets a thread when its first bytes arrive: until then (at most
/// <see cref="RpycServerOptions.HandshakeTimeout"/>) it costs only its descriptor.
/// </summary>
/// <example>
/// <code>
/// using var server = new ThreadedServer(() =&gt; new CalculatorService(), new RpycServerOptions { Port = 0 });
/// server.Start();
/// Console.WriteLine($"listening on {server.Port}");
/// </code>
/// </example>
public sealed class ThreadedServer : RpycServer
{
    private readonly Func<RpycService> _serviceFactory;
    private readonly ConcurrentDictionary<RpycConnection, Thread> _connections = new();
    private readonly ConnectionThreads _threads = new("rpyc-conn");
    // Connections handed to a thread and not yet ended, including those whose service is being created.
    private int _served;
    // RpycServerOptions.Tls made ready once, and the failed handshakes, logged once per burst.
    private readonly ServerTls? _tls;
    private readonly BurstLog? _tlsFailed;
    private string _lastTlsError = "";

    /// <summary>Creates a server whose connections each get a new service from <paramref name="serviceFactory"/>.</summary>
    /// <param name="serviceFactory">Creates the service of one connection.</param>
    /// <param name="options">Server settings, or <c>null</c> for 127.0.0.1 on a free port.</param>
    public ThreadedServer(Func<RpycService> serviceFactory, RpycServerOptions? options = null)
        : base(options ?? new RpycServerOptions())
    {
        ArgumentNullException.ThrowIfNull(serviceFactory);
        _serviceFactory = serviceFactory;
        // Validate refused TLS already when the switch is off; testing it here lets the trimmer drop TLS.
        if (Options.Tls is not null && TlsSupport.IsSupported)
        {
            _tls = new ServerTls(Options.Tls);
            _tlsFailed = new BurstLog($"port {Port}: ", "closed", () => $"the TLS handshake failed (last: {Volatile.Read(ref _lastTlsError)})", BurstLog.DefaultWindow);
        }
    }

    /// <summary>Creates a server whose connections all share one service instance.</summary>
    /// <param name="service">The shared service.</param>
    /// <param name="options">Server settings, or <c>null</c> for 127.0.0.1 on a free port.</param>
    public ThreadedServer(RpycService service, RpycServerOptions? options = null)
        : this(() => service, options)
    {
    }

    /// <inheritdoc />
    protected override int ServedConnections => Volatile.Read(ref _served);

    // Counted from the admission on, so MaxConnections holds while the thread starts; End gives it back.
    private protected override bool ReserveConnection()
    {
        Interlocked.Increment(ref _served);
        return true;
    }

    private protected override void ReleaseConnection() => Interlocked.Decrement(ref _served);

    /// <inheritdoc />
    protected override void OnAccepted(Socket client, TimeSpan firstFrameTimeout)
    {
        string peer = PeerOf(client);
        try
        {
            _threads.Run(() => Serve(client, peer, firstFrameTimeout));
        }
        catch
        {
            ReleaseConnection();
            throw;
        }
    }

    /// <inheritdoc />
    private protected override bool AcceptorsServe => true;

    /// <inheritdoc />
    private protected override void ServeOnAcceptingThread(Socket client, TimeSpan firstFrameTimeout)
    {
        Serve(client, PeerOf(client), firstFrameTimeout);
    }

    private static string PeerOf(Socket client)
    {
        try
        {
            return client.RemoteEndPoint?.ToString() ?? "?";
        }
        catch (SocketException)
        {
            return "?";
        }
    }

    // The service is created on the connection's own thread: a slow constructor must not hold up
    // the thread that watches every pending connection. Nothing escapes this method: an exception
    // on a thread of its own would end the process, so any failure (an OutOfMemoryException under a
    // heap limit, a service constructor that throws, a bug) closes this connection only, and is
    // logged once per burst.
    private void Serve(Socket client, string peer, TimeSpan firstFrameTimeout)
    {
        RpycConnection? connection = null;
        try
        {
            connection = _tls is null || !TlsSupport.IsSupported
                ? RpycConnection.Accept(client, Options.ConnectionOptions, _serviceFactory())
                : AcceptTls(client, peer, ref firstFrameTimeout);
            _connections[connection] = Thread.CurrentThread;
            // Stop may have listed the connections before this one was added.
            if (!IsStopped)
            {
                Report(ServeLoop.Run(connection, firstFrameTimeout, Options.IdleTimeout));
            }
        }
        catch (AuthenticationException ex) when (_tls is not null && connection is null)
        {
            // A failed TLS handshake: counted, and logged once per burst with its reason.
            Volatile.Write(ref _lastTlsError, ex.Message);
            _tlsFailed!.Record();
        }
        catch (Exception ex)
        {
            RecordConnectionFailure(peer, ex);
        }
        finally
        {
            End(client, connection);
        }
    }

    private void End(Socket client, RpycConnection? connection)
    {
        try
        {
            if (connection is null)
            {
                client.Dispose();
            }
            else
            {
                _connections.TryRemove(connection, out _);
                connection.Close();
            }
        }
        catch (Exception ex)
        {
            // Close sends CLOSE, which allocates: out of memory, the socket must still go.
            client.Dispose();
            RecordConnectionFailure(connection?.PeerName ?? "?", ex);
        }
        finally
        {
            ReleaseConnection();
        }
    }

    // The handshake on this connection's thread, within the first frame's budget; the service is
    // created only for a client that completed it.
    private RpycConnection AcceptTls(Socket client, string peer, ref TimeSpan firstFrameTimeout)
    {
        long start = Stopwatch.GetTimestamp();
        TlsTransport transport = TlsTransport.Accept(client, _tls!, firstFrameTimeout, peer);
        TimeSpan left = firstFrameTimeout - Stopwatch.GetElapsedTime(start);
        firstFrameTimeout = left > TimeSpan.FromMilliseconds(1) ? left : TimeSpan.FromMilliseconds(1);
        try
        {
            return new RpycConnection(transport, Options.ConnectionOptions, _serviceFactory(), version: null);
        }
        catch
        {
            transport.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    protected override void OnStopping()
    {
        // First, so that the threads of the connections closed below end instead of waiting for more.
        _threads.Dispose();
        _tlsFailed?.Dispose();
        foreach (RpycConnection connection in _connections.Keys)
        {
            connection.Close();
        }
        // One wait for them all: each in turn for 2 s made Stop take 2 s per connection still inside
        // a long call (their sockets are closed already; such a call ends with its thread).
        long start = Stopwatch.GetTimestamp();
        foreach (Thread thread in _connections.Values)
        {
            TimeSpan left = s_stopWait - Stopwatch.GetElapsedTime(start);
            if (left <= TimeSpan.Zero)
            {
                break;
            }
            thread.Join(left);
        }
    }

    // How long Stop waits for the connections' threads to end, all together.
    private static readonly TimeSpan s_stopWait = TimeSpan.FromSeconds(2);
}
