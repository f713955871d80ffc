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

    /// <summary>The most connections served at once; further clients are closed at accept and logged. Default 1024.</summary>
    public int MaxConnections { get; init; } = 1024;

    /// <summary>The listen backlog.</summary>
    public int Backlog { get; init; } = 512;

    /// <summary>Per-connection protocol settings (<c>protocol_config</c>); the envelope is detected per connection.</summary>
    public RpycConnectOptions ConnectionOptions { get; init; } = RpycConnectOptions.Default;
}
