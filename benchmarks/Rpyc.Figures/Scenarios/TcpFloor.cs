using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Rpyc.Figures.Reports;
using Rpyc.Figures.Statistics;

namespace Rpyc.Figures.Scenarios;

/// <summary>
/// The loopback floor: 16 bytes out, 16 bytes back between two blocking .NET sockets with Nagle off.
/// No RPC layer can be faster than this on the same machine.
/// </summary>
internal static class TcpFloor
{
    private const int MessageLength = 16;

    public static ScenarioResult Run(SteadyWarmup warmup, int calls)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = new Thread(() => Echo(listener)) { IsBackground = true, Name = "tcp-floor-echo" };
        server.Start();
        (long[] ticks, int failures, WarmupOutcome warmed) = PingPong(port, warmup, "TCP floor", calls);
        if (!server.Join(TimeSpan.FromSeconds(10)))
        {
            throw new InvalidOperationException("The TCP echo thread did not stop.");
        }
        return ScenarioResult.Latency("tcp_floor", "TCP ping-pong floor (16 B, C# <-> C#)", LatencyStats.FromTicks(ticks), failures,
            note: "TcpListener echo thread and a client in this process, blocking sockets, NoDelay on both ends; on a VM, wake-up latency dominates and varies between runs").WithWarmup(warmed);
    }

    /// <summary>The same ping-pong against a 16-byte echo served by another process (the .NET server host's <c>ECHO</c> port).</summary>
    public static ScenarioResult RunAgainst(int port, SteadyWarmup warmup, int calls, string key, string title, string note)
    {
        (long[] ticks, int failures, WarmupOutcome warmed) = PingPong(port, warmup, title, calls);
        return ScenarioResult.Latency(key, title, LatencyStats.FromTicks(ticks), failures, note: note).WithWarmup(warmed);
    }

    private static (long[] Ticks, int Failures, WarmupOutcome Warmup) PingPong(int port, SteadyWarmup warmup, string what, int calls)
    {
        WarmupOutcome warmed;
        long[] ticks = new long[calls];
        int failures = 0;
        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true })
        {
            client.Connect(IPAddress.Loopback, port);
            byte[] request = new byte[MessageLength];
            byte[] reply = new byte[MessageLength];
            int sequence = 0;
            warmed = warmup.Run(what, [SteadyWarmup.For(() => RoundTrip(client, request, reply, sequence++))]);
            for (int i = 0; i < calls; i++)
            {
                long start = Stopwatch.GetTimestamp();
                RoundTrip(client, request, reply, i);
                ticks[i] = Stopwatch.GetTimestamp() - start;
                if (!reply.AsSpan().SequenceEqual(request))
                {
                    failures++;
                }
            }
            client.Shutdown(SocketShutdown.Send);
        }
        return (ticks, failures, warmed);
    }

    private static void RoundTrip(Socket client, byte[] request, byte[] reply, int i)
    {
        BitConverter.TryWriteBytes(request, i);
        client.Send(request);
        ReceiveExactly(client, reply);
    }

    private static void Echo(TcpListener listener)
    {
        using Socket socket = listener.AcceptSocket();
        socket.NoDelay = true;
        EchoUntilClosed(socket);
    }

    /// <summary>Echoes 16-byte messages until the peer closes.</summary>
    public static void EchoUntilClosed(Socket socket)
    {
        byte[] buffer = new byte[MessageLength];
        while (ReceiveExactly(socket, buffer))
        {
            socket.Send(buffer);
        }
    }

    private static bool ReceiveExactly(Socket socket, byte[] buffer)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int n = socket.Receive(buffer.AsSpan(filled));
            if (n == 0)
            {
                return false;
            }
            filled += n;
        }
        return true;
    }
}
