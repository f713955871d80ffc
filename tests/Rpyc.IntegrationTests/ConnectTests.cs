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

    // A port that was just free: bound by the OS, then released, so nothing listens on it.
    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
