using System.Net;
using System.Net.Sockets;

namespace Rpyc;

/// <summary>
/// Base of the RPyC servers: binds, accepts, and hands each connection to the concrete server.
/// Stopping closes the listener and every connection.
/// </summary>
public abstract class RpycServer : IDisposable
{
    private readonly Socket _listener;
    private Thread? _acceptThread;
    private int _stopped;

    /// <summary>Binds the listening socket (nothing is accepted before <see cref="Start"/>).</summary>
    /// <param name="options">The server settings.</param>
    /// <exception cref="SocketException">The address cannot be bound.</exception>
    protected RpycServer(RpycServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        IPAddress address = ResolveBindAddress(options.Host);
        if (!IPAddress.IsLoopback(address))
        {
            RpycLog.Warn($"binding {address}: RPyC has no authentication, so anyone who can reach this port can call the service.");
        }
        _listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(new IPEndPoint(address, options.Port));
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
    }

    private static IPAddress ResolveBindAddress(string host) =>
        host == "localhost" ? IPAddress.Loopback
        : IPAddress.TryParse(host, out IPAddress? parsed) ? parsed
        : Dns.GetHostAddresses(host).First(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6);

    /// <summary>The server settings.</summary>
    public RpycServerOptions Options { get; }

    /// <summary>The bound TCP port (the one picked when <see cref="RpycServerOptions.Port"/> was 0).</summary>
    public int Port { get; }

    /// <summary>The bound address.</summary>
    public string Host => ((IPEndPoint)_listener.LocalEndPoint!).Address.ToString();

    /// <summary>Whether <see cref="Stop"/> has been called.</summary>
    public bool IsStopped => Volatile.Read(ref _stopped) != 0;

    /// <summary>Connections being served now.</summary>
    public abstract int ActiveConnections { get; }

    /// <summary>Starts listening and accepting on a background thread; returns at once.</summary>
    /// <exception cref="InvalidOperationException">The server was already started or stopped.</exception>
    public void Start()
    {
        if (_acceptThread is not null || IsStopped)
        {
            throw new InvalidOperationException("The server was already started.");
        }
        _listener.Listen(Options.Backlog);
        OnStarting();
        _acceptThread = new Thread(AcceptLoop) { IsBackground = true, Name = $"rpyc-accept:{Port}" };
        _acceptThread.Start();
    }

    /// <summary>Hook run after the listener opens and before the first accept.</summary>
    protected virtual void OnStarting()
    {
    }

    private void AcceptLoop()
    {
        while (!IsStopped)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                if (!IsStopped)
                {
                    RpycLog.Warn($"accept on port {Port} failed: {ex.Message}");
                }
                continue;
            }
            if (ActiveConnections >= Options.MaxConnections)
            {
                RpycLog.Warn($"refusing {client.RemoteEndPoint}: {Options.MaxConnections} connections already (MaxConnections).");
                client.Dispose();
                continue;
            }
            try
            {
                client.NoDelay = Options.ConnectionOptions.NoDelay;
                OnAccepted(client);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                RpycLog.Warn($"could not serve {client.RemoteEndPoint}: {ex.Message}");
                client.Dispose();
            }
        }
    }

    /// <summary>Serves one accepted client socket; the concrete server owns it from here.</summary>
    /// <param name="client">The accepted socket.</param>
    protected abstract void OnAccepted(Socket client);

    /// <summary>Stops accepting and closes every connection.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }
        _listener.Dispose();
        OnStopping();
        _acceptThread?.Join(TimeSpan.FromSeconds(5));
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
