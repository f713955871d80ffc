using System.Net;
using System.Net.Sockets;

namespace Rpyc.IntegrationTests;

/// <summary>Connecting over real loopback sockets, without a Python peer.</summary>
public sealed class ConnectTests(ITestOutputHelper output)
{
    [Fact]
    public void Connect_ClosedPort_ThrowsConnectionException()
    {
        int port = ClosedPort();

        RpycConnectionException ex = Assert.ThrowsAny<RpycConnectionException>(() => RpycConnection.Connect("127.0.0.1", port));

        output.WriteLine(ex.Message);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<SocketException>(ex.InnerException);
    }

    [Fact]
    public async Task ConnectAsync_ClosedPort_ThrowsConnectionException()
    {
        int port = ClosedPort();

        RpycConnectionException ex = await Assert.ThrowsAnyAsync<RpycConnectionException>(() => RpycConnection.ConnectAsync("127.0.0.1", port));

        output.WriteLine(ex.Message);
        Assert.Contains(port.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message, StringComparison.Ordinal);
    }

    // '::1' and the port were printed '::1:PORT', which reads as another address.
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Connect_Ipv6ClosedPort_MessageBracketsTheAddress(bool async)
    {
        int port = ClosedPort(IPAddress.IPv6Loopback);

        RpycConnectionException ex = async
            ? await Assert.ThrowsAnyAsync<RpycConnectionException>(() => RpycConnection.ConnectAsync("::1", port))
            : Assert.ThrowsAny<RpycConnectionException>(() => RpycConnection.Connect("::1", port));

        output.WriteLine(ex.Message);
        Assert.Contains($"Could not connect to [::1]:{port.ToString(System.Globalization.CultureInfo.InvariantCulture)}: ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_Canceled_ThrowsOperationCanceled()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => RpycConnection.ConnectAsync("127.0.0.1", port, cancellationToken: cts.Token));
    }

    [Fact]
    public void Connect_BacklogFull_TimesOutAfterConnectTimeout()
    {
        // A listener that never accepts, its queue filled: the kernel drops further SYNs, so a
        // connect neither succeeds nor fails until its timeout.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        var fillers = new List<Socket>();
        try
        {
            for (int i = 0; i < 8; i++)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { Blocking = false };
                fillers.Add(filler);
                try
                {
                    filler.Connect(endpoint);
                }
                catch (SocketException pending) when (pending.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
                {
                    if (!filler.Poll(300_000, SelectMode.SelectWrite))
                    {
                        break;
                    }
                }
            }
            var options = new RpycConnectOptions { ConnectTimeout = TimeSpan.FromMilliseconds(400) };
            var watch = System.Diagnostics.Stopwatch.StartNew();

            RpycConnectionException ex = Assert.ThrowsAny<RpycConnectionException>(() => RpycConnection.Connect("127.0.0.1", endpoint.Port, options));

            output.WriteLine($"{ex.Message} after {watch.ElapsedMilliseconds} ms");
            Assert.IsType<TimeoutException>(ex.InnerException);
            Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(350), TimeSpan.FromSeconds(5));
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public void Connect_ThenTimedOutCall_DescriptorStaysBlocking()
    {
        // A peer that accepts and never answers: the call times out through SO_RCVTIMEO.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var options = new RpycConnectOptions { SyncRequestTimeout = TimeSpan.FromMilliseconds(300) };
        using RpycConnection conn = RpycConnection.Connect("127.0.0.1", port, options);
        using Socket accepted = listener.AcceptSocket();
        var watch = System.Diagnostics.Stopwatch.StartNew();

        Assert.Throws<RpycTimeoutException>(() => conn.Ping());

        output.WriteLine($"timed out after {watch.ElapsedMilliseconds} ms");
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(5));
        Assert.False(conn.IsClosed);
        // A non-blocking descriptor would mean every receive waits in the runtime's epoll engine.
        Assert.False(IsNonBlocking(conn.Socket!), "the client's descriptor was switched to non-blocking");
        accepted.Send(new byte[] { 0 });
    }

    // Linux: the O_NONBLOCK bit (octal 04000) of the descriptor's flags in /proc/self/fdinfo.
    private static bool IsNonBlocking(Socket socket)
    {
        string info = File.ReadAllText($"/proc/self/fdinfo/{socket.Handle}");
        string flags = info.Split('\n').First(l => l.StartsWith("flags:", StringComparison.Ordinal))["flags:".Length..].Trim();
        return (Convert.ToInt32(flags, 8) & 0x800) != 0;
    }

    // A port that was just free: bound by the OS, then released, so nothing listens on it.
    private static int ClosedPort(IPAddress? address = null)
    {
        using var listener = new TcpListener(address ?? IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
