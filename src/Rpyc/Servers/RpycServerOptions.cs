namespace Rpyc;

/// <summary>Settings of an <see cref="RpycServer"/>.</summary>
public sealed class RpycServerOptions
{
    /// <summary>
    /// The address to bind. Default <c>127.0.0.1</c>: RPyC has no authentication of its own, so
    /// binding anything else is an explicit choice and is logged as a warning.
    /// </summary>
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free one, readable from <see cref="RpycServer.Port"/> after start.</summary>
    public int Port { get; init; }

    /// <summary>
    /// Lets other sockets bind the same port at the same time (<c>SO_REUSEPORT</c>), so the kernel
    /// spreads clients over every server on it. Default <c>false</c>: a port another server listens
    /// on cannot be bound, and the constructor throws. A port whose old connections linger in
    /// <c>TIME_WAIT</c> can always be bound again (<c>SO_REUSEADDR</c>, not on Windows).
    /// </summary>
    public bool ReusePort { get; init; }

    /// <summary>
    /// The most connections served at once (those whose first bytes have arrived). A further client
    /// is closed as soon as its first bytes arrive, and the refusals are logged once per burst.
    /// Default 1024.
    /// </summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>
    /// The most accepted connections that have not sent anything yet. They cost a descriptor each,
    /// not a thread (on Linux) nor a worker process; when there are this many, the oldest is closed
    /// to make room, so idle peers cannot keep a new client out. Default 1024.
    /// </summary>
    public int MaxPendingConnections { get; init; } = 1024;

    /// <summary>
    /// How long an accepted connection may take to send its first complete frame; it is closed
    /// after that. A client connects and sends its first request at once, so only a peer that holds
    /// a socket open without speaking meets it. Default 10 s.
    /// </summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a connection may go without the server receiving a frame, while it is not running a
    /// request, before it is closed. Default <see cref="Timeout.InfiniteTimeSpan"/> (off): rpyc
    /// clients keep connections open between calls, so a limit is a deployment choice. Waiting for
    /// the next frame costs no extra system call with or without it.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>The listen backlog.</summary>
    public int Backlog { get; init; } = 512;

    /// <summary>Per-connection protocol settings (<c>protocol_config</c>); the envelope is detected per connection.</summary>
    public RpycConnectOptions ConnectionOptions { get; init; } = RpycConnectOptions.Default;

    /// <summary>
    /// TLS for every connection, as Python's <c>SSLAuthenticator</c>: the handshake runs on the
    /// connection's thread (a <see cref="ForkingServer"/>'s worker process) within
    /// <see cref="HandshakeTimeout"/>. Default <c>null</c>: plain TCP.
    /// </summary>
    public RpycTlsServerOptions? Tls { get; init; }

    internal void Validate(string paramName)
    {
        if (Tls is not null && !Transport.TlsSupport.IsSupported)
        {
            throw Transport.TlsSupport.NotSupported("RpycServerOptions.Tls");
        }
        Tls?.Validate(paramName);
        if (Port is < 0 or > 65535)
        {
            throw new ArgumentException($"Port must be between 0 and 65535, not {Port}.", paramName);
        }
        if (MaxConnections < 1)
        {
            throw new ArgumentException($"MaxConnections must be 1 or more, not {MaxConnections}.", paramName);
        }
        if (MaxPendingConnections < 1)
        {
            throw new ArgumentException($"MaxPendingConnections must be 1 or more, not {MaxPendingConnections}.", paramName);
        }
        if (HandshakeTimeout <= TimeSpan.Zero || HandshakeTimeout.TotalMilliseconds > int.MaxValue)
        {
            throw new ArgumentException($"HandshakeTimeout must be positive and at most {int.MaxValue} ms, not {HandshakeTimeout}.", paramName);
        }
        if (IdleTimeout != Timeout.InfiniteTimeSpan && (IdleTimeout <= TimeSpan.Zero || IdleTimeout.TotalMilliseconds > int.MaxValue))
        {
            throw new ArgumentException($"IdleTimeout must be positive (at most {int.MaxValue} ms) or Timeout.InfiniteTimeSpan, not {IdleTimeout}.", paramName);
        }
    }
}
