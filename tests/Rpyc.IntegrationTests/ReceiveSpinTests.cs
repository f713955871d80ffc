using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Rpyc.IntegrationTests.Servers;

namespace Rpyc.IntegrationTests;

/// <summary><see cref="RpycConnectOptions.ReceiveSpin"/> over real loopback sockets, on both sides of a connection.</summary>
public sealed class ReceiveSpinTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_spin = TimeSpan.FromMicroseconds(200);

    [Theory]
    [InlineData(-1)]
    [InlineData(1001)]
    public void ReceiveSpin_OutOfRange_Throws(int microseconds)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RpycConnectOptions { ReceiveSpin = TimeSpan.FromMicroseconds(microseconds) });
    }

    [Fact]
    public void SpinningClientAndServer_CallsAndCallbacksStillWork()
    {
        var spinning = new RpycConnectOptions { ReceiveSpin = s_spin, SyncRequestTimeout = TimeSpan.FromSeconds(30) };
        using RpycServer server = TestServers.Start<DemoService>(ServerKind.Threaded, new RpycServerOptions { Port = 0, ConnectionOptions = spinning });
        using RpycConnection conn = TestServers.Connect(server, spinning);
        Netref root = conn.RootNetref;

        for (int i = 0; i < 200; i++)
        {
            Assert.Equal("pong", root.CallMethod("ping"));
        }
        byte[] data = new byte[300_000];
        Random.Shared.NextBytes(data);
        Assert.Equal(data, (byte[])root.CallMethod("echo", data)!);
    }

    [Fact]
    public void SpinLongerThanTheWait_TimeoutStillFiresOnTime()
    {
        // A peer that accepts and never answers; the 1 ms spin is cut to the 300 ms timeout's share.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var options = new RpycConnectOptions { ReceiveSpin = RpycConnectOptions.MaxReceiveSpin, SyncRequestTimeout = TimeSpan.FromMilliseconds(300) };
        using RpycConnection conn = RpycConnection.Connect("127.0.0.1", ((IPEndPoint)listener.LocalEndpoint).Port, options);
        using Socket accepted = listener.AcceptSocket();
        var watch = Stopwatch.StartNew();

        Assert.Throws<RpycTimeoutException>(() => conn.Ping());

        output.WriteLine($"timed out after {watch.ElapsedMilliseconds} ms");
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
        // A short wait (Serve with 0.2 ms) ends in the spin itself, with nothing read.
        Assert.False(conn.Serve(TimeSpan.FromMicroseconds(200)));
        Assert.False(conn.IsClosed);
    }
}
