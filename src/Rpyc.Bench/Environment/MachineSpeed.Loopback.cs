using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Rpyc.Bench;

// The probe's second part: a loopback round trip, wall time (see LoopbackRoundTripMicroseconds).
public static partial class MachineSpeed
{
    /// <summary>What the loopback probe measures, as the report states it.</summary>
    public const string LoopbackWork = "wall time of a 1-byte round trip over loopback TCP between two threads of the client pinned to two CPUs (one on a 1-CPU machine), median of 400";

    private const int LoopbackRoundTrips = 400;
    private const int LoopbackWarmup = 50;

    /// <summary>
    /// The machine's speed as the loopback benchmarks feel it: the median wall time of a one-byte
    /// round trip between two threads of this process over a loopback TCP connection (blocking
    /// receives, no polling), each thread pinned to its own CPU, about 15 ms. The heapsort is
    /// CPU-bound and misses what the host does to system calls and to waking an idle vCPU: in a
    /// pair of default runs whose second was slower across the board (the floor's ping +23 %,
    /// rpyc's Python server's CPU per ping +48 %), its run medians moved 5 %. Pinned, because the
    /// scheduler's choice otherwise decides the figure: unpinned, probes here read 12.7 or 28 µs
    /// (both threads on one CPU, or on two) at random; pinned to two CPUs, 31.2-33.9 in 11 of 12
    /// back to back (one 46.7).
    /// </summary>
    /// <returns>The median round trip in microseconds, or <c>null</c> when loopback TCP or pinning failed.</returns>
    public static double? LoopbackRoundTripMicroseconds()
    {
        if (!OperatingSystem.IsLinux() || CpuAffinity.TryGet(0) is not { } saved || CpuAffinity.Cpus(saved) is not [int first, ..])
        {
            return null;
        }
        // This thread stays on the CPU it runs on (where the suite's thread goes on afterwards).
        int here = CpuAffinity.CurrentCpu() is int now && CpuAffinity.Cpus(saved).Contains(now) ? now : first;
        // The echo thread on another CPU than this thread (any online one: the client's own mask
        // may hold one CPU under --pin), or on the same one where there is no other.
        int there = Enumerable.Range(0, Environment.ProcessorCount).Where(c => c != here).DefaultIfEmpty(here).First();
        try
        {
            if (CpuAffinity.Set(0, CpuAffinity.Only(here)) != 0)
            {
                return null;
            }
            return RoundTripMedian(there);
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

    // Both ends of one loopback TCP connection, Nagle off on each (the probes send single bytes).
    private static (Socket Client, Socket Server) ConnectedPair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            client.Connect(listener.LocalEndPoint!);
            Socket server = listener.Accept();
            server.NoDelay = true;
            return (client, server);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    private static double? RoundTripMedian(int echoCpu)
    {
        (Socket client, Socket server) = ConnectedPair();
        using (client)
        using (server)
        {
            return RoundTripMedian(client, server, echoCpu);
        }
    }

    private static double? RoundTripMedian(Socket client, Socket server, int echoCpu)
    {
        var echo = new Thread(() =>
        {
            // Where that CPU is not ours to take (a cgroup's cpuset), the echo keeps the mask it was
            // born with: the caller's one CPU.
            _ = CpuAffinity.Set(0, CpuAffinity.Only(echoCpu));
            Echo(server);
        }) { IsBackground = true, Name = "speed probe echo" };
        echo.Start();
        var times = new long[LoopbackRoundTrips];
        byte[] one = [1];
        for (int i = -LoopbackWarmup; i < LoopbackRoundTrips; i++)
        {
            long before = Stopwatch.GetTimestamp();
            client.Send(one);
            if (client.Receive(one) != 1)
            {
                return null;
            }
            if (i >= 0)
            {
                times[i] = Stopwatch.GetTimestamp() - before;
            }
        }
        client.Shutdown(SocketShutdown.Send);
        echo.Join(TimeSpan.FromSeconds(1));
        Array.Sort(times);
        return (times[(LoopbackRoundTrips - 1) / 2] + times[LoopbackRoundTrips / 2]) / 2.0 * 1e6 / Stopwatch.Frequency;
    }

    private static void Echo(Socket server)
    {
        byte[] one = new byte[1];
        try
        {
            while (server.Receive(one) == 1)
            {
                server.Send(one);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The probe's side closed first: nothing left to answer.
        }
    }
}
