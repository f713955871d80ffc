namespace Rpyc.Transport;

/// <summary>
/// A reliable duplex byte stream under a connection. Blocking by design: RPyC's sync-first model
/// lets the thread that waits for a reply read the socket itself, with no hand-off.
/// </summary>
internal abstract class Transport : IDisposable
{
    /// <summary>
    /// Reads at least one byte into <paramref name="buffer"/>, waiting at most about
    /// <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/> for no limit); returns 0 at
    /// end of stream and −1 when the time passed with nothing to read.
    /// </summary>
    public abstract int Receive(Span<byte> buffer, TimeSpan timeout);

    /// <summary>Sends every byte; one call per frame, so a frame leaves in as few packets as the stack allows.</summary>
    public abstract void Send(ReadOnlySpan<byte> data);

    /// <summary>A description of the peer for logs and messages.</summary>
    public abstract string PeerName { get; }

    /// <summary>Sends any delayed acknowledgement of received data now (TCP_QUICKACK); nothing where there is none.</summary>
    public virtual void AckPromptly()
    {
    }

    public abstract void Dispose();
}
