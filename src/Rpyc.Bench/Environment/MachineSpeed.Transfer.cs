using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Rpyc.Bench;

// The probe's third part: the CPU cost of loopback TCP's system calls on each CPU (see TransferByCpu).
public static partial class MachineSpeed
{
    /// <summary>What the transfer probe measures, as the report states it.</summary>
    public const string TransferWork = "CPU time of the measuring thread, pinned to each CPU in turn, to send 1 byte over loopback TCP and receive it (send(2) and recv(2), no wait), best of 5 x 500 each way; the mean over the CPUs";

    private const int TransferIterations = 500;

    /// <summary>
    /// The machine's speed for the kernel's network path alone, CPU by CPU: the measuring thread's
    /// CPU time to send one byte over a loopback TCP connection and receive it on the other end,
    /// both sockets its own, so no thread waits or wakes (best of five rounds of 500 each way,
    /// ~3 ms per CPU), pinned to each online CPU in turn. On the reference 2-vCPU VM the two vCPUs
    /// differed by up to 45 % at the same moment (4.6 against 6.8 µs, pinned with taskset, three
    /// times in a row), and each changed speed within seconds; in a pair of default runs the raw TCP
    /// floor's server needed 17.0-19.5 µs of CPU per ping in the first and 12.9-15.4 in the second
    /// while the heapsort and the loopback round trip moved under 3 %.
    /// </summary>
    /// <returns>Microseconds per byte sent and received on each CPU, in CPU order (<c>null</c> where
    /// the thread could not run there), or <c>null</c> without a thread CPU clock or loopback TCP.</returns>
    public static IReadOnlyList<double?>? TransferByCpu()
    {
        if (!OperatingSystem.IsLinux() || LinuxClock.CurrentThreadCpuClock() is not (int clock and not -1) || CpuAffinity.TryGet(0) is not { } saved)
        {
            return null;
        }
        try
        {
            (Socket client, Socket server) = ConnectedPair();
            using var clientEnd = client;
            using var serverEnd = server;
            var byCpu = new double?[Environment.ProcessorCount];
            // The CPU this thread ran on last, so that it goes on where it was: left on whichever
            // CPU came last, the suite's thread would start every target there.
            int start = CpuAffinity.CurrentCpu() is int now and >= 0 ? now + 1 : 0;
            for (int i = 0; i < byCpu.Length; i++)
            {
                int cpu = (start + i) % byCpu.Length;
                // Any online CPU, also beyond the client's own mask under --pin; not one a cgroup's
                // cpuset keeps from us.
                byCpu[cpu] = CpuAffinity.Set(0, CpuAffinity.Only(cpu)) == 0 ? BestTransfer(clock, client.Handle, server.Handle) : null;
            }
            return byCpu;
        }
        catch (SocketException)
        {
            return null;
        }
        finally
        {
            CpuAffinity.Set(0, saved);
        }
    }

    /// <summary>The mean of <see cref="TransferByCpu"/> over the CPUs measured: what threads the scheduler places anywhere pay.</summary>
    /// <returns>Microseconds per byte sent and received, or <c>null</c> when no CPU was measured.</returns>
    public static double? TransferMicroseconds() => MeanOverCpus(TransferByCpu());

    internal static double? MeanOverCpus(IReadOnlyList<double?>? byCpu) =>
        byCpu?.OfType<double>().ToArray() is { Length: > 0 } measured ? measured.Average() : null;

    private static double? BestTransfer(int clock, nint client, nint server)
    {
        byte[] one = [1];
        long best = long.MaxValue;
        // One round more than counted: the first after a move runs in the new CPU's cold caches.
        for (int round = 0; round <= Repetitions; round++)
        {
            if (!LinuxClock.TryReadNanos(clock, out long before))
            {
                return null;
            }
            bool sent = Transfers(client, server, one);
            LinuxClock.TryReadNanos(clock, out long after);
            if (!sent)
            {
                return null;
            }
            if (round > 0)
            {
                best = Math.Min(best, after - before);
            }
        }
        return best / 1e3 / (2 * TransferIterations);
    }

    // send(2) and recv(2) themselves, not Socket.Send: the runtime's socket code is precompiled
    // (ReadyToRun) and recompiled by the JIT once hot, which made every first run's probes 10 %
    // dearer than later runs' (5.86-5.99 against 5.19-5.41 µs in five suites of three runs). Compiled
    // optimized once, as the heapsort is.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Transfers(nint client, nint server, byte[] one)
    {
        for (int i = 0; i < TransferIterations; i++)
        {
            // A byte each way: the data is there before each receive, which never waits.
            if (Send(client, one, 1, 0) != 1 || Recv(server, one, 1, 0) != 1 || Send(server, one, 1, 0) != 1 || Recv(client, one, 1, 0) != 1)
            {
                return false;
            }
        }
        return true;
    }

    // DllImport, not LibraryImport: the generated marshaller needs unsafe code, which this project
    // does not allow; a byte[] is blittable and pinned for the call.
#pragma warning disable SYSLIB1054
    [DllImport("libc", EntryPoint = "send")]
    private static extern nint Send(nint socket, byte[] buffer, nuint length, int flags);

    [DllImport("libc", EntryPoint = "recv")]
    private static extern nint Recv(nint socket, byte[] buffer, nuint length, int flags);
#pragma warning restore SYSLIB1054
}
