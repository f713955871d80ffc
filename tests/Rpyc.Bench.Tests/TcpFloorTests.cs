using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Rpyc.Bench.Tests;

// The tcp_raw floor over real sockets on 127.0.0.1: the server (in this process) and its client.
[Collection(ServerProcesses.Name)]
public sealed class TcpFloorTests : IDisposable
{
    private readonly TcpRawServer _server = new("127.0.0.1", 0);
    private readonly ITestOutputHelper _output;

    public TcpFloorTests(ITestOutputHelper output) => _output = output;

    public void Dispose() => _server.Dispose();

    // Around every boundary of the code paths: empty, the 5-byte header, the 16 KiB copy threshold,
    // the 256 KiB receive sink, then large.
    public static TheoryData<int> Sizes() => new(
        [0, 1, 4, 5, 1023, 16 * 1024 - 5, 16 * 1024 - 4, 16 * 1024, 16 * 1024 + 1, 65_536,
         256 * 1024 - 5, 256 * 1024, 256 * 1024 + 1, 1024 * 1024, 3 * 1024 * 1024 + 7, 8 * 1024 * 1024]);

    [Theory]
    [MemberData(nameof(Sizes))]
    public void Client_UploadDownloadEcho_EverySize_RepliesChecked(int size)
    {
        using var client = new TcpRawBenchClient("127.0.0.1", _server.Port);
        byte[] data = Payload.Create(size);
        for (int i = 0; i < 3; i++)
        {
            // Download checks every byte against payload(size), echo against what was sent, upload
            // the length the server counted.
            client.Upload(data);
            client.Download(size);
            client.Echo(data);
        }
        client.Ping();
        Assert.Equal(10, client.RoundTrips);
    }

    [Fact]
    public void Client_MixedSizesOnOneConnection_BuffersGrowAndStayCorrect()
    {
        using var client = new TcpRawBenchClient("127.0.0.1", _server.Port);
        foreach (int size in new[] { 8 * 1024 * 1024, 1, 300_000, 0, 5_000_000, 17 })
        {
            client.Download(size);
            client.Upload(Payload.Create(size));
            client.Echo(Payload.Create(size));
        }
        client.Compute(1000);
        client.Sleep(0.001);
    }

    [Fact]
    public void Server_PipelinedRequests_AnswersEachInOrder()
    {
        using Socket socket = Connect(_server.Port);
        byte[] upload = Payload.Create(300_000);
        // ping, upload(300 000 bytes), download(10), ping, all in one send.
        byte[] requests = [.. Request(TcpRawProtocol.Ping, []), .. Request(TcpRawProtocol.Upload, upload),
            .. Request(TcpRawProtocol.Download, Int32(10)), .. Request(TcpRawProtocol.Ping, [])];
        socket.Send(requests);
        Assert.Equal("pong"u8.ToArray(), ReadReply(socket));
        Assert.Equal(300_000, BinaryPrimitives.ReadInt64BigEndian(ReadReply(socket)));
        Assert.Equal(Payload.Create(10), ReadReply(socket));
        Assert.Equal("pong"u8.ToArray(), ReadReply(socket));
    }

    [Theory]
    [InlineData(99, 0)]
    [InlineData(TcpRawProtocol.Download, 3)]
    [InlineData(TcpRawProtocol.Sleep, 4)]
    public void Server_MalformedRequest_DropsOnlyThatConnection(byte op, int bodyLength)
    {
        using var healthy = new TcpRawBenchClient("127.0.0.1", _server.Port);
        healthy.Ping();
        using (Socket socket = Connect(_server.Port))
        {
            socket.Send(Request(op, new byte[bodyLength]));
            Assert.Equal(0, socket.Receive(new byte[16]));
        }
        using (Socket socket = Connect(_server.Port))
        {
            // A length past the limit: the server must not try to buffer it.
            byte[] header = [TcpRawProtocol.Echo, 0x7f, 0xff, 0xff, 0xff];
            socket.Send(header);
            Assert.Equal(0, socket.Receive(new byte[16]));
        }
        healthy.Ping();
    }

    [Fact]
    public void Server_ConcurrentConnections_EachServedAtOnce()
    {
        // Eight connections open together, each held by its server thread: if one thread served
        // them in turn, the first would block the others and the wait below would time out.
        var clients = Enumerable.Range(0, 8).Select(_ => new TcpRawBenchClient("127.0.0.1", _server.Port)).ToList();
        try
        {
            using var barrier = new Barrier(clients.Count);
            var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
            Thread[] threads = clients.Select(c => new Thread(() =>
            {
                try
                {
                    barrier.SignalAndWait(TimeSpan.FromSeconds(10));
                    c.Sleep(0.05);
                    c.Download(100_000);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    errors.Enqueue(ex);
                }
            })
            { IsBackground = true }).ToArray();
            Array.ForEach(threads, t => t.Start());
            Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromSeconds(30)), "every connection answered"));
            Assert.Empty(errors);
        }
        finally
        {
            clients.ForEach(c => c.Dispose());
        }
        // Then connections one after another, served by the threads now idle in accept(2).
        for (int i = 0; i < 30; i++)
        {
            using var client = new TcpRawBenchClient("127.0.0.1", _server.Port);
            client.Ping();
        }
    }

    [Fact]
    public void Dispose_OpenConnection_ClientFailsAndPortCloses()
    {
        var server = new TcpRawServer("127.0.0.1", 0, TimeSpan.Zero);
        using var client = new TcpRawBenchClient("127.0.0.1", server.Port);
        client.Ping();
        server.Dispose();
        Assert.ThrowsAny<Exception>(() => client.Ping());
        Assert.Throws<SocketException>(() => Connect(server.Port).Dispose());
    }

    [Fact]
    public void SetBuffers_LinuxAllowingLargeBuffers_AsksFor4MiB()
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        int before = socket.SendBufferSize;
        TcpRawProtocol.SetBuffers(socket);
        int cap = int.Parse(File.ReadAllText("/proc/sys/net/core/wmem_max").Trim(), System.Globalization.CultureInfo.InvariantCulture);
        _output.WriteLine($"SO_SNDBUF {before} -> {socket.SendBufferSize}, wmem_max {cap}");
        if (cap >= 1024 * 1024)
        {
            // Linux doubles the value asked for (bookkeeping overhead) and reports the doubled size.
            Assert.Equal(2 * Math.Min(cap, 4 * 1024 * 1024), socket.SendBufferSize);
        }
        else
        {
            Assert.Equal(before, socket.SendBufferSize);
        }
    }

    [Fact]
    public void Server_BusyPort_BindFails()
    {
        // A second floor server on a busy port must fail, not share the port (SO_REUSEPORT).
        var error = Assert.ThrowsAny<System.Net.Sockets.SocketException>(() => new TcpRawServer("127.0.0.1", _server.Port, TimeSpan.Zero));
        Assert.Equal(System.Net.Sockets.SocketError.AddressAlreadyInUse, error.SocketErrorCode);
    }

    [Fact]
    public void Constructor_HostName_ResolvesAsTheRpycServersDo()
    {
        // Before, the host had to be an IP address literal: a name threw FormatException.
        using var server = new TcpRawServer(Dns.GetHostName(), 0, TimeSpan.Zero);
        Assert.True(server.Port > 0);
        Assert.ThrowsAny<System.Net.Sockets.SocketException>(() => new TcpRawServer("not.a.host.invalid", 0, TimeSpan.Zero));
    }

    [Fact]
    public void Constructor_SpinOutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TcpRawServer("127.0.0.1", 0, TimeSpan.FromMilliseconds(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TcpRawServer("127.0.0.1", 0, TimeSpan.FromSeconds(1)));
        using var server = new TcpRawServer("127.0.0.1", 0);
        Assert.Equal(TcpRawServer.DefaultReceiveSpin, server.ReceiveSpin);
    }

    [Theory]
    [InlineData(new byte[] { 0, 0, 0, 4, (byte)'p', (byte)'u', (byte)'n', (byte)'g' }, "ping did not answer 'pong'")]
    [InlineData(new byte[] { 0xff, 0xff, 0xff, 0xff }, "announced -1 bytes")]
    [InlineData(new byte[] { 0, 0, 0, 4, (byte)'p', (byte)'o', (byte)'n', (byte)'g', 9 }, "after a 4-byte reply")]
    [InlineData(new byte[] { 0, 0, 0, 9, (byte)'p', (byte)'o' }, "cut short")]
    [InlineData(new byte[] { 0, 0 }, "after 2 bytes of a reply header")]
    public void Client_WrongReply_ThrowsInvalidReply(byte[] reply, string fault)
    {
        using var fake = new OneConnectionServer(socket =>
        {
            byte[] request = new byte[5];
            TcpRawProtocol.ReceiveExactly(socket, request);
            socket.Send(reply);
            // Closing makes a short reply end instead of wait.
        });
        using var client = new TcpRawBenchClient("127.0.0.1", fake.Port);
        var ex = Assert.Throws<InvalidReplyException>(client.Ping);
        _output.WriteLine(ex.Message);
        Assert.Contains(fault, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Client_WrongDownloadByte_ThrowsInvalidReply()
    {
        byte[] wrong = [0, 0, 0x10, 0, .. Payload.Create(4096)];
        wrong[^1] ^= 1;
        using var fake = new OneConnectionServer(socket =>
        {
            TcpRawProtocol.ReceiveExactly(socket, new byte[9]);
            socket.Send(wrong);
        });
        using var client = new TcpRawBenchClient("127.0.0.1", fake.Port);
        Assert.Throws<InvalidReplyException>(() => client.Download(4096));
    }

    private static Socket Connect(int port)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveTimeout = 10_000 };
        try
        {
            socket.Connect(IPAddress.Loopback, port);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return socket;
    }

    private static byte[] Int32(int value)
    {
        byte[] bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] Request(byte op, byte[] body)
    {
        byte[] request = new byte[5 + body.Length];
        request[0] = op;
        BinaryPrimitives.WriteInt32BigEndian(request.AsSpan(1), body.Length);
        body.CopyTo(request, 5);
        return request;
    }

    private static byte[] ReadReply(Socket socket)
    {
        byte[] header = new byte[4];
        TcpRawProtocol.ReceiveExactly(socket, header);
        byte[] body = new byte[BinaryPrimitives.ReadInt32BigEndian(header)];
        TcpRawProtocol.ReceiveExactly(socket, body);
        return body;
    }
}

// A server on 127.0.0.1 that runs a handler on its first connection, then closes it: for replies
// no real server would send.
internal sealed class OneConnectionServer : IDisposable
{
    private readonly Socket _listener = new(SocketType.Stream, ProtocolType.Tcp);
    private readonly Thread _thread;

    public OneConnectionServer(Action<Socket> handler)
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(4);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _thread = new Thread(() =>
        {
            try
            {
                using Socket socket = _listener.Accept();
                socket.ReceiveTimeout = 10_000;
                handler(socket);
                socket.Shutdown(SocketShutdown.Send);
                // Let the client read everything before the close resets the connection.
                socket.Receive(new byte[1024]);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or EndOfStreamException)
            {
            }
        })
        { IsBackground = true, Name = "one-connection-server" };
        _thread.Start();
    }

    public int Port { get; }

    public void Dispose()
    {
        _listener.Dispose();
        Assert.True(_thread.Join(TimeSpan.FromSeconds(15)), "the fake server's thread stopped");
    }

}
