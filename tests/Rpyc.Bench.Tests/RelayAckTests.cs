using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit.Abstractions;

namespace Rpyc.Bench.Tests;

// The relay ends TCP on both sides, so its own ACKs decide when a peer with Nagle on (a stock
// Python server) may send its next small write. Real sockets on 127.0.0.1.
public class RelayAckTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_ioTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void Relay_NagleServerReplyingInTwoWrites_IsNotHeldByADelayedAck()
    {
        // The server answers each 64-byte request with two 32-byte writes, Nagle on: the second
        // waits for the ACK of the first. A relay that delays that ACK (40 ms on Linux) stalls every
        // exchange; one that acknowledges at once costs the 0.2 ms round trip and little more.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var server = new Thread(() =>
        {
            try
            {
                using Socket s = listener.Accept();
                s.NoDelay = false;
                s.ReceiveTimeout = (int)s_ioTimeout.TotalMilliseconds;
                byte[] request = new byte[64];
                while (TryReadExactly(s, request))
                {
                    s.Send(request, 0, 32, SocketFlags.None);
                    s.Send(request, 32, 32, SocketFlags.None);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The test ended the connection.
            }
        }) { IsBackground = true, Name = "nagle server" };
        server.Start();
        using DelayRelay relay = DelayRelay.Start(NetworkProfile.Parse("rtt=0.2ms"), (IPEndPoint)listener.LocalEndPoint!);
        var samples = new List<double>();
        using (var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = (int)s_ioTimeout.TotalMilliseconds })
        {
            client.Connect(relay.EndPoint);
            byte[] ping = new byte[64];
            byte[] reply = new byte[64];
            for (int i = 0; i < 60; i++)
            {
                long start = Stopwatch.GetTimestamp();
                client.Send(ping);
                Assert.True(TryReadExactly(client, reply), "the relay closed the connection");
                samples.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
            }
        }
        server.Join(s_ioTimeout);
        Statistics stats = Statistics.FromSamples(samples);
        output.WriteLine($"p50 {stats.P50 * 1e3:F3} ms, p90 {stats.P90 * 1e3:F3} ms, max {stats.Max * 1e3:F3} ms");
        // A delayed ACK puts the p50 at ~40 ms; the bound leaves a busy host 50x the 0.2 ms link.
        Assert.True(stats.P50 < 10e-3, $"p50 {stats.P50 * 1e3:F1} ms: the server's second write waited for a delayed ACK");
    }

    private static bool TryReadExactly(Socket socket, byte[] buffer)
    {
        for (int offset = 0; offset < buffer.Length;)
        {
            int n = socket.Receive(buffer, offset, buffer.Length - offset, SocketFlags.None);
            if (n == 0)
            {
                return false;
            }
            offset += n;
        }
        return true;
    }
}
