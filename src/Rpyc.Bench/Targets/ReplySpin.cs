using System.Diagnostics;
using System.Net.Sockets;

namespace Rpyc.Bench;

/// <summary>
/// How the suite's own clients wait for a reply (<see cref="SuiteOptions.ReceiveSpin"/>): poll the
/// socket for up to the spin, yielding between polls, before the blocking receive; after a spin that
/// found nothing, the next 16 waits block at once. The RPyC client does the same in its transport
/// (<see cref="RpycConnectOptions.ReceiveSpin"/>); the raw TCP and HTTP clients, and the raw TCP
/// server for its next request, use this, so every
/// target is measured with the same client method. A waiting thread that keeps its CPU out of idle
/// takes the reply without a wake-up of a halted vCPU, which on the 2-core VM moved a ping's p50
/// between 22 and 37 us from one minute to the next.
/// </summary>
internal struct ReplySpin(TimeSpan spin)
{
    private const int Backoff = 16;
    private readonly long _ticks = (long)(spin.TotalSeconds * Stopwatch.Frequency);
    private int _skip;

    /// <summary>Spins until <paramref name="socket"/> is readable or the spin is over (then backs off).</summary>
    public void BeforeReceive(Socket socket)
    {
        if (_ticks <= 0)
        {
            return;
        }
        if (_skip > 0)
        {
            _skip--;
            return;
        }
        if (!TcpRawProtocol.SpinUntilReadable(socket, _ticks))
        {
            _skip = Backoff;
        }
    }
}
