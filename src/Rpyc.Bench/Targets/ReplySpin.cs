using System.Diagnostics;
using System.Net.Sockets;
using Rpyc.Transport;

namespace Rpyc.Bench;

/// <summary>
/// How the suite's own clients wait for a reply (<see cref="SuiteOptions.ReceiveSpin"/>): poll the
/// socket for up to the spin, yielding between polls, before the blocking receive; after spins that
/// found nothing, the next waits block at once (<see cref="SpinBackoff"/>: 0, 1, 3, 7, then 15 of
/// them after 1-5 empty spins in a row). The RPyC client does the same in its transport
/// (<see cref="RpycConnectOptions.ReceiveSpin"/>); the raw TCP and HTTP clients, and the raw TCP
/// server for its next request, use this, so every
/// target is measured with the same client method. A waiting thread that keeps its CPU out of idle
/// takes the reply without a wake-up of a halted vCPU, which on the 2-core VM moved a ping's p50
/// between 22 and 37 us from one minute to the next.
/// </summary>
internal struct ReplySpin(TimeSpan spin)
{
    private readonly long _ticks = (long)(spin.TotalSeconds * Stopwatch.Frequency);
    private SpinBackoff _backoff;

    /// <summary>Spins until <paramref name="socket"/> is readable or the spin is over (then backs off).</summary>
    public void BeforeReceive(Socket socket)
    {
        if (_ticks > 0 && _backoff.ShouldSpin())
        {
            _backoff.Spin(socket, _ticks);
        }
    }
}
