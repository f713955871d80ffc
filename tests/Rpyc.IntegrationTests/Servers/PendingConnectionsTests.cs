using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Rpyc.Servers;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// The wait for a new connection's first bytes, over real loopback sockets, with epoll (Linux) and
/// with the thread-per-socket poll used elsewhere: bytes hand the socket on, silence past the
/// timeout or a hang-up closes it, and a full set closes its oldest.
/// </summary>
public sealed class PendingConnectionsTests : IDisposable
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly List<Socket> _sockets = [];
    private readonly BlockingCollection<(Socket Socket, TimeSpan Left)> _ready = [];
    private int _timedOut;
    private int _evicted;

    public PendingConnectionsTests()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(16);
    }

    public static TheoryData<bool> Modes => new() { true, false };

    private PendingConnections Create(bool epoll, TimeSpan timeout, int max = 16) =>
        new("test-pending", timeout, max, (s, left) => _ready.Add((s, left)),
            () => Interlocked.Increment(ref _timedOut), () => Interlocked.Increment(ref _evicted), epoll);

    // A connected pair: the client end, and the accepted end given to the pending set.
    private (Socket Client, Socket Accepted) Pair()
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _sockets.Add(client);
        client.Connect(_listener.LocalEndPoint!);
        Socket accepted = _listener.Accept();
        _sockets.Add(accepted);
        return (client, accepted);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Add_FirstBytesArrive_HandedOnBlockingWithTheRestOfTheTimeout(bool epoll)
    {
        using PendingConnections pending = Create(epoll, TimeSpan.FromSeconds(10));
        (Socket client, Socket accepted) = Pair();
        pending.Add(accepted);
        Assert.Equal(1, pending.Count);
        client.Send("x"u8);
        Assert.True(_ready.TryTake(out (Socket Socket, TimeSpan Left) ready, s_bound), "The socket was not handed on.");
        Assert.Same(accepted, ready.Socket);
        Assert.InRange(ready.Left, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(10));
        Assert.Equal(0, pending.Count);
        // Still blocking and still open: the byte is there to read.
        Assert.True(accepted.Blocking);
        byte[] one = new byte[1];
        Assert.Equal(1, accepted.Receive(one));
        Assert.Equal((byte)'x', one[0]);
        Assert.Equal(0, Volatile.Read(ref _timedOut));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Add_Silent_ClosedAfterTimeout(bool epoll)
    {
        using PendingConnections pending = Create(epoll, TimeSpan.FromMilliseconds(500));
        (Socket client, Socket accepted) = Pair();
        pending.Add(accepted);
        client.ReceiveTimeout = (int)s_bound.TotalMilliseconds;
        // The server end closes: end of stream here.
        Assert.Equal(0, client.Receive(new byte[1]));
        // Counted just after the close.
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref _timedOut) == 1, s_bound), $"{_timedOut} timeouts counted.");
        Assert.Equal(0, pending.Count);
        Assert.Empty(_ready);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Add_PeerHangsUpSilently_ClosedNotHandedOn(bool epoll)
    {
        using PendingConnections pending = Create(epoll, TimeSpan.FromSeconds(10));
        (Socket client, Socket accepted) = Pair();
        pending.Add(accepted);
        client.Shutdown(SocketShutdown.Both);
        client.Close();
        Assert.True(SpinWait.SpinUntil(() => pending.Count == 0, s_bound), "The hung-up socket is still pending.");
        Assert.Empty(_ready);
        Assert.Equal(0, Volatile.Read(ref _timedOut));
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Add_Full_OldestClosedToMakeRoom(bool epoll)
    {
        using PendingConnections pending = Create(epoll, TimeSpan.FromSeconds(10), max: 3);
        var pairs = Enumerable.Range(0, 4).Select(_ => Pair()).ToList();
        pairs.ForEach(p => pending.Add(p.Accepted));
        Assert.Equal(3, pending.Count);
        Assert.Equal(1, Volatile.Read(ref _evicted));
        AssertClosedByServer(pairs[0].Client);
        // The newest still counts: its first bytes hand it on.
        pairs[3].Client.Send("y"u8);
        Assert.True(_ready.TryTake(out (Socket Socket, TimeSpan Left) ready, s_bound), "The newest socket was not handed on.");
        Assert.Same(pairs[3].Accepted, ready.Socket);
    }

    [Theory]
    [MemberData(nameof(Modes))]
    public void Dispose_ClosesEveryPendingSocket(bool epoll)
    {
        PendingConnections pending = Create(epoll, TimeSpan.FromSeconds(10));
        var pairs = Enumerable.Range(0, 3).Select(_ => Pair()).ToList();
        pairs.ForEach(p => pending.Add(p.Accepted));
        pending.Dispose();
        Assert.Equal(0, pending.Count);
        pairs.ForEach(p => AssertClosedByServer(p.Client));
        // Added after Dispose: closed at once.
        (Socket lateClient, Socket late) = Pair();
        pending.Add(late);
        AssertClosedByServer(lateClient);
    }

    // End of stream, or a reset: closing a socket that another thread waits on in poll(2) aborts it.
    private static void AssertClosedByServer(Socket client)
    {
        client.ReceiveTimeout = (int)s_bound.TotalMilliseconds;
        try
        {
            Assert.Equal(0, client.Receive(new byte[1]));
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionReset)
        {
        }
    }

    public void Dispose()
    {
        _sockets.ForEach(s => s.Dispose());
        _listener.Dispose();
        _ready.Dispose();
    }
}
