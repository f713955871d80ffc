using System.Diagnostics;
using System.Net.Sockets;

namespace Rpyc.Transport;

/// <summary>
/// When a receive that may spin first (<see cref="RpycConnectOptions.ReceiveSpin"/>) should spin:
/// always while spins find data; after spins that found nothing, the next waits block at once, more
/// of them after each further empty spin in a row (0, 1, 3, 7, then 15 waits). A peer that thinks
/// between messages (an idle connection, a server waiting for its client's next request, more
/// runnable threads than CPUs) then costs one spin per 16 waits, as a fixed back-off of 16 did.
/// </summary>
/// <remarks>
/// The fixed back-off stopped spinning for 16 waits after any empty spin, and a reply later than
/// the spin (50 us in the suite: about one ping in a hundred on the 2-vCPU VM) is one: each such
/// late reply then made the next 16 waits pay a halted CPU's wake-up. Against it, in four
/// interleaved pairs of runs (rpyc_threaded and tcp_raw, 3 runs each, unpinned), a 1 KiB download's
/// p99 / p50 was 2.30-2.67 instead of 2.71-3.08 for RPyC and 2.29-2.68 instead of 2.58-2.94 for the
/// raw TCP floor. Shared by the RPyC transport and the suite's raw TCP and HTTP clients and raw TCP
/// server, so that every target waits alike. One connection's reader role owns it: no locking.
/// </remarks>
internal struct SpinBackoff
{
    // Empty spins in a row that lengthen the back-off: after the fifth, 2^4 - 1 = 15 waits block.
    private const int MaxMisses = 5;

    private int _misses;
    private int _skip;

    /// <summary>Whether this wait should spin before it blocks (false: it blocks at once, counting down the back-off).</summary>
    public bool ShouldSpin()
    {
        if (_skip > 0)
        {
            _skip--;
            return false;
        }
        return true;
    }

    /// <summary>
    /// Polls <paramref name="socket"/> (no wait) until it is readable or <paramref name="spinTicks"/>
    /// (Stopwatch ticks) have passed, yielding between polls so that a peer thread on this CPU still
    /// runs, and records the outcome; true when readable. A thread busy here keeps its CPU out of
    /// idle, so the next message costs no wake-up of a halted CPU: the trade a .NET thread-pool worker
    /// (hence Kestrel) makes when it spins before it sleeps. Ask <see cref="ShouldSpin"/> first.
    /// </summary>
    public bool Spin(Socket socket, long spinTicks)
    {
        long start = Stopwatch.GetTimestamp();
        while (!socket.Poll(0, SelectMode.SelectRead))
        {
            if (Stopwatch.GetTimestamp() - start >= spinTicks)
            {
                FoundNothing();
                return false;
            }
            Thread.Yield();
        }
        Found();
        return true;
    }

    /// <summary>The spin found data: spin again next time.</summary>
    public void Found() => _misses = 0;

    /// <summary>The spin found nothing: the next 2^(k-1) - 1 waits block at once, k the empty spins in a row (at most 5).</summary>
    public void FoundNothing()
    {
        _misses = Math.Min(_misses + 1, MaxMisses);
        _skip = (1 << (_misses - 1)) - 1;
    }
}
