using System.Net.Sockets;
using System.Text;

namespace Rpyc.Bench.Tests;

// Both HTTP clients (the lean one and HttpClient) against the real Kestrel server on 127.0.0.1,
// and against a fake server for replies Kestrel never sends.
[Collection(ServerProcesses.Name)]
public sealed class HttpTargetsTests(ITestOutputHelper output) : IDisposable
{
    private readonly KestrelBenchServer _kestrel = new("127.0.0.1", 0);

    public void Dispose() => _kestrel.Dispose();

    public static TheoryData<string> Clients() => new([TargetCatalog.HttpThreaded, TargetCatalog.HttpThreadedHttpClient]);

    [Theory]
    [MemberData(nameof(Clients))]
    public void Client_EveryOperation_AgainstKestrel_RepliesChecked(string target)
    {
        BenchTarget bench = BenchTarget.Create(target, "http", "127.0.0.1", _kestrel.Port);
        output.WriteLine($"{bench}: {bench.ClientDescription}");
        using BenchClient client = bench.Connect();
        client.Ping();
        client.Compute(1000);
        client.Sleep(0.001);
        int requests = 3;
        // Bodies over 1 MiB leave Kestrel in 1 MiB slices: a multiple of it and one with a short last slice.
        foreach (int size in new[] { 0, 1, 1024, 16 * 1024, 100 * 1024, 1024 * 1024, (3 * 1024 * 1024) + 17, 8 * 1024 * 1024 })
        {
            byte[] data = Payload.Create(size);
            client.Upload(data);
            client.Download(size);
            client.Echo(data);
            requests += 3;
        }
        Assert.Equal(requests, client.RoundTrips);
    }

    [Fact]
    public void Create_HttpClientTarget_DescribesItsClient()
    {
        BenchTarget httpClient = BenchTarget.Create(TargetCatalog.HttpThreadedHttpClient, "http", "127.0.0.1", _kestrel.Port);
        BenchTarget lean = BenchTarget.Create(TargetCatalog.HttpThreaded, "http", "127.0.0.1", _kestrel.Port);
        Assert.IsType<HttpClientBenchTarget>(httpClient);
        Assert.IsType<HttpBenchTarget>(lean);
        Assert.StartsWith("HttpClient (SocketsHttpHandler", httpClient.ClientDescription, StringComparison.Ordinal);
        Assert.StartsWith("rpycbench lean HTTP/1.1 client", lean.ClientDescription, StringComparison.Ordinal);
        Assert.Equal("http", TargetCatalog.Get(TargetCatalog.HttpThreadedHttpClient).Protocol);
    }

    [Fact]
    public void HttpClient_ConnectOpensTheConnection_FirstRequestUsesIt()
    {
        // Connect is the TCP part the connection benchmark times: the port must be taken by then.
        string? request = null;
        var probe = new OneConnectionServer(socket =>
        {
            request = Encoding.ASCII.GetString(ReadHead(socket));
            socket.Send("HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npong"u8.ToArray());
        });
        using (probe)
        {
            using var client = new HttpClientBenchClient("127.0.0.1", probe.Port);
            // The fake serves its first connection only: had HttpClient opened another, nothing
            // would answer it.
            client.Ping();
            Assert.Equal(1, client.RoundTrips);
        }
        output.WriteLine(request);
        Assert.StartsWith("GET /ping HTTP/1.1\r\n", request, StringComparison.Ordinal);
    }

    [Fact]
    public void Clients_ServerClosesAfterReply_ReconnectForTheNextRequest()
    {
        foreach (string target in new[] { TargetCatalog.HttpThreaded, TargetCatalog.HttpThreadedHttpClient })
        {
            int connections = 0;
            using var listener = new Socket(SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
            listener.Listen(4);
            var server = new Thread(() =>
            {
                try
                {
                    for (int i = 0; i < 2; i++)
                    {
                        using Socket socket = listener.Accept();
                        socket.ReceiveTimeout = 10_000;
                        connections++;
                        ReadHead(socket);
                        socket.Send("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 4\r\n\r\npong"u8.ToArray());
                        socket.Shutdown(SocketShutdown.Send);
                    }
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException or EndOfStreamException)
                {
                    // The assertion on the count reports it.
                }
            })
            { IsBackground = true };
            server.Start();
            using (BenchClient client = BenchTarget.Create(target, "http", "127.0.0.1", ((System.Net.IPEndPoint)listener.LocalEndPoint!).Port).Connect())
            {
                client.Ping();
                client.Ping();
            }
            Assert.True(server.Join(TimeSpan.FromSeconds(15)), $"{target}: two connections served");
            Assert.Equal(2, connections);
        }
    }

    // Replies Kestrel never sends: each client must fail with InvalidReplyException, never accept it.
    public static TheoryData<string, string> BadReplies()
    {
        var data = new TheoryData<string, string>();
        foreach (string target in new[] { TargetCatalog.HttpThreaded, TargetCatalog.HttpThreadedHttpClient })
        {
            data.Add(target, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\npung");
            data.Add(target, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\npong");
            data.Add(target, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\npon");
            data.Add(target, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\npong");
            data.Add(target, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\npung\r\n0\r\n\r\n");
        }
        data.Add(TargetCatalog.HttpThreaded, "HTTP/1.1 200 OK\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\npong");
        data.Add(TargetCatalog.HttpThreaded, "\0\0\0\u0004pong");
        data.Add(TargetCatalog.HttpThreaded, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\npong\r\n0\r\n\r\n");
        return data;
    }

    [Theory]
    [MemberData(nameof(BadReplies))]
    public void Client_BadReply_ThrowsInvalidReply(string target, string reply)
    {
        using var fake = new OneConnectionServer(socket =>
        {
            ReadHead(socket);
            socket.Send(Encoding.Latin1.GetBytes(reply));
        });
        using BenchClient client = BenchTarget.Create(target, "http", "127.0.0.1", fake.Port).Connect();
        var ex = Assert.Throws<InvalidReplyException>(client.Ping);
        output.WriteLine($"{target}: {ex.Message}");
    }

    [Fact]
    public void HttpClient_NonHttpServer_FailsClearly()
    {
        // The raw TCP server answers no HTTP: HttpClient reports an invalid response, and no value.
        using var raw = new TcpRawServer("127.0.0.1", 0);
        using BenchClient client = BenchTarget.Create(TargetCatalog.HttpThreadedHttpClient, "http", "127.0.0.1", raw.Port).Connect();
        Exception ex = Assert.ThrowsAny<Exception>(client.Ping);
        output.WriteLine(ex.ToString());
        Assert.True(ex is HttpRequestException or InvalidReplyException or IOException or TaskCanceledException, ex.GetType().Name);
    }

    private static byte[] ReadHead(Socket socket)
    {
        var head = new List<byte>();
        byte[] one = new byte[1];
        while (head.Count < 4 || !head.TakeLast(4).SequenceEqual("\r\n\r\n"u8.ToArray()))
        {
            if (socket.Receive(one) == 0)
            {
                throw new EndOfStreamException("The client closed before the end of its request head.");
            }
            head.Add(one[0]);
        }
        return [.. head];
    }
}
