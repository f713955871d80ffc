namespace Rpyc.Servers;

// The loop of one server connection, shared by ThreadedServer and the ForkingServer worker: the
// first frame within the handshake budget, then requests until the peer closes, or until it stays
// quiet for the idle timeout when one is set. Timeouts change SO_RCVTIMEO only when the wait changes
// (SocketTransport), so a connection pays for them once, never per message.
internal static class ServeLoop
{
    public enum Outcome
    {
        Closed,
        HandshakeTimeout,
        IdleTimeout,
    }

    public static Outcome Run(RpycConnection connection, TimeSpan firstFrame, TimeSpan idle)
    {
        if (!connection.Serve(firstFrame))
        {
            return Close(connection, Outcome.HandshakeTimeout);
        }
        if (idle == Timeout.InfiniteTimeSpan)
        {
            connection.ServeAll();
            return Outcome.Closed;
        }
        // A peer that takes none of our replies for as long is idle too: its sends end the
        // connection instead of holding this thread (and a connection slot) in send(2) for ever.
        connection.LimitSends(idle);
        while (!connection.IsClosed)
        {
            if (!connection.Serve(idle))
            {
                return Close(connection, Outcome.IdleTimeout);
            }
        }
        return Outcome.Closed;
    }

    private static Outcome Close(RpycConnection connection, Outcome timedOut)
    {
        if (connection.IsClosed)
        {
            return Outcome.Closed;
        }
        connection.Close();
        return timedOut;
    }
}
