using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Rpyc.Servers;

/// <summary>
/// Moves a new ForkingServer worker off its loopback client's CPU. The worker is woken by the
/// server's hand-off, which was woken by the client's connect, and Linux places each woken thread
/// on its waker's CPU: the worker starts on the client's CPU. A request/reply pair on one CPU runs
/// one side at a time, and the scheduler leaves it so for hundreds of milliseconds while the other
/// CPU idles: on the 2-vCPU VM of issue 9, ping p50 30-39 us per run against 18-19 us when the
/// worker ran elsewhere (30.5 us pinned to one CPU, 18.5-20.8 us pinned apart). For a loopback
/// peer, <c>SO_INCOMING_CPU</c> names the CPU its last packet was sent from (loopback delivers on
/// the sender's CPU); when that is the worker's own, the worker narrows its affinity to the other
/// CPUs, which moves it at once, and widens it again, leaving the scheduler free from there on.
/// Written by hand: .NET has no API for a thread's CPU or affinity.
/// </summary>
internal static partial class LoopbackPlacement
{
    private const int SolSocket = 1;
    private const int SoIncomingCpu = 49;

    // cpu_set_t: 1024 bits.
    private const int CpuSetBytes = 128;

    /// <summary>Moves the calling thread off the CPU <paramref name="client"/>'s packets came from, when it is there. Never throws.</summary>
    /// <returns>Whether the thread was moved.</returns>
    public static bool MoveOffPeerCpu(Socket client)
    {
        try
        {
            if (!OperatingSystem.IsLinux() || Environment.ProcessorCount < 2
                || client.RemoteEndPoint is not IPEndPoint { Address: var peer } || !IPAddress.IsLoopback(peer))
            {
                return false;
            }
            var value = new byte[4];
            if (client.GetRawSocketOption(SolSocket, SoIncomingCpu, value) != 4)
            {
                return false;
            }
            int incoming = BitConverter.ToInt32(value);
            return incoming >= 0 && incoming == sched_getcpu() && MoveOff(incoming);
        }
        catch (Exception ex) when (ex is SocketException or EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    // Narrows the thread's affinity to every allowed CPU but `cpu` (the kernel migrates it now),
    // then restores it. Nothing changes when `cpu` is the only one allowed.
    private static bool MoveOff(int cpu)
    {
        var allowed = new byte[CpuSetBytes];
        if (sched_getaffinity(0, CpuSetBytes, allowed) != 0 || cpu >= CpuSetBytes * 8)
        {
            return false;
        }
        byte[] others = (byte[])allowed.Clone();
        others[cpu / 8] &= (byte)~(1 << (cpu % 8));
        if (others.All(b => b == 0) || sched_setaffinity(0, CpuSetBytes, others) != 0)
        {
            return false;
        }
        t_movedTo = sched_getcpu();
        sched_setaffinity(0, CpuSetBytes, allowed);
        return true;
    }

    [ThreadStatic]
    private static int t_movedTo;

    /// <summary>The CPU this thread's last move took it to, before its affinity was widened again (tests).</summary>
    internal static int LastMovedTo => t_movedTo;

    /// <summary>The CPU the calling thread runs on now (tests).</summary>
    internal static int CurrentCpu() => sched_getcpu();

    /// <summary>The calling thread's allowed CPUs (tests).</summary>
    internal static IReadOnlyList<int> AllowedCpus()
    {
        var mask = new byte[CpuSetBytes];
        return sched_getaffinity(0, CpuSetBytes, mask) != 0 ? [] : Enumerable.Range(0, CpuSetBytes * 8).Where(c => (mask[c / 8] & (1 << (c % 8))) != 0).ToArray();
    }

    /// <summary>Sets the calling thread's allowed CPUs (tests).</summary>
    internal static bool SetAffinity(params int[] cpus)
    {
        var mask = new byte[CpuSetBytes];
        foreach (int cpu in cpus)
        {
            mask[cpu / 8] |= (byte)(1 << (cpu % 8));
        }
        return sched_setaffinity(0, CpuSetBytes, mask) == 0;
    }

    [LibraryImport("libc")]
    private static partial int sched_getcpu();

    [LibraryImport("libc")]
    private static partial int sched_getaffinity(int pid, nint size, [Out] byte[] mask);

    [LibraryImport("libc")]
    private static partial int sched_setaffinity(int pid, nint size, byte[] mask);
}
