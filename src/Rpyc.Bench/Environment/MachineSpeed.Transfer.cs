using System.Net;
using System.Net.Sockets;

namespace Rpyc.Bench;

// The probe's third part: the CPU cost of loopback TCP's system calls (see TransferMicroseconds).
public static partial class MachineSpeed
{
    /// <summary>What the transfer probe measures, as the report states it.</summary>
    public const string TransferWork = "CPU time of the measuring thread to send 1 byte over loopback TCP and receive it (two system calls, no wait), best of 5 x 500 each way";

    private const int TransferIterations = 500;

    /// <summary>
    /// The machine's speed for the kernel's network path alone: the measuring thread's CPU time to
    /// send one byte over a loopback TCP connection and receive it on the other end, both sockets
    /// its own, so no thread waits or wakes (best of five rounds of 500 each way, ~5 ms). In a pair
    /// of default runs here the raw TCP floor's server needed 17.0-19.5 µs of CPU per ping in the
    /// first and 12.9-15.4 in the second, for the same system calls, while the heapsort and the
    /// loopback round trip moved under 3 %: a host can make system calls dearer without slowing
    /// arithmetic or wake-ups.
    /// </summary>
    /// <returns>Microseconds per byte sent and received, or <c>null</c> without a thread CPU clock or loopback TCP.</returns>
    public static double? TransferMicroseconds()
    {
        if (!OperatingSystem.IsLinux() || LinuxClock.CurrentThreadCpuClock() is not (int clock and not -1))
        {
            return null;
        }
        try
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            client.Connect(listener.LocalEndPoint!);
            using Socket server = listener.Accept();
            server.NoDelay = true;
            byte[] one = [1];
            long best = long.MaxValue;
            // One round more than counted: the first runs code the JIT has not optimized yet.
            for (int round = 0; round <= Repetitions; round++)
            {
                if (!LinuxClock.TryReadNanos(clock, out long before))
                {
                    return null;
                }
                for (int i = 0; i < TransferIterations; i++)
                {
                    // A byte each way: the data is there before each receive, which never waits.
                    client.Send(one);
                    server.Receive(one);
                    server.Send(one);
                    client.Receive(one);
                }
                LinuxClock.TryReadNanos(clock, out long after);
                if (round > 0)
                {
                    best = Math.Min(best, after - before);
                }
            }
            return best / 1e3 / (2 * TransferIterations);
        }
        catch (SocketException)
        {
            return null;
        }
    }
}
