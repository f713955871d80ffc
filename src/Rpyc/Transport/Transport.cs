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

    /// <summary>
    /// Makes a send that cannot go on (a peer that reads nothing, or is gone without a reset) fail
    /// after <paramref name="timeout"/> (<see cref="Timeout.InfiniteTimeSpan"/>: never), instead of
    /// blocking for as long as the peer likes; nothing where sends cannot block.
    /// </summary>
    public virtual void LimitSends(TimeSpan timeout)
    {
    }

    /// <summary>The kernel's form of a send limit: milliseconds, 0 for none.</summary>
    protected static int KernelMilliseconds(TimeSpan timeout) =>
        timeout == Timeout.InfiniteTimeSpan ? 0 : (int)Math.Clamp(Math.Ceiling(timeout.TotalMilliseconds), 1, int.MaxValue);

    public abstract void Dispose();
}
