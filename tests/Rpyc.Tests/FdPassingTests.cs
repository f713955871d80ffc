using System.Net.Sockets;
using Rpyc.Servers;

namespace Rpyc.Tests;

/// <summary>
/// Passing a socket over a Unix channel (SCM_RIGHTS): it arrives as a working socket, the sender
/// learns whether the receiver took it, and a closed channel is refused even when its descriptor
/// number already belongs to a newer socket.
/// </summary>
public class FdPassingTests
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(10);

    [Fact]
    public void HandOver_ReceiverAcknowledges_TakenYes_TheReceivedSocketIsTheSameConnection()
    {
        using var pairs = new Pairs();
        (Socket channel, Socket workerEnd, Socket client, Socket accepted) = pairs;
        Socket? taken = null;
        Assert.Equal(FdPassing.Taken.Yes, FdPassing.HandOver(channel, accepted, s_wait, sent: () =>
        {
            taken = FdPassing.Receive(workerEnd);
            FdPassing.AcknowledgeTaken(workerEnd);
        }));
        using Socket received = taken!;

        client.Send("hello"u8);
        var buffer = new byte[5];
        received.ReceiveTimeout = 5000;
        Assert.Equal(5, received.Receive(buffer));
        Assert.Equal("hello"u8.ToArray(), buffer);
    }

    [Fact]
    public void HandOver_OverAClosedChannel_ThrowsObjectDisposed_NothingReachesANewerSocket()
    {
        // The server disposes an exited worker's channel; a hand-off racing with that exit used to
        // send on the old descriptor number, which Unix gives to the next socket opened (here most
        // likely the new pair, unless a test running beside this one took it first): that send
        // either reached the new owner or failed as EBADF, never as the closed socket it is.
        (Socket closed, Socket closedPeer) = UnixPair();
        closedPeer.Dispose();
        closed.Dispose();
        (Socket reused, Socket reusedPeer) = UnixPair();
        (Socket client, Socket accepted) = TcpPair();
        using (reused)
        using (reusedPeer)
        using (client)
        using (accepted)
        {
            Assert.Throws<ObjectDisposedException>(() => FdPassing.HandOver(closed, accepted, s_wait));

            Assert.Equal(0, reused.Available);
            Assert.Equal(0, reusedPeer.Available);
        }
    }

    [Fact]
    public void HandOver_ReceiverGoneBeforeTakingIt_TakenNo_TheSendersCopyStillWorks()
    {
        using var pairs = new Pairs();
        (Socket channel, Socket workerEnd, Socket client, Socket accepted) = pairs;
        // The descriptor is queued to a receiver that closes without reading it (a worker killed).
        FdPassing.Taken taken = FdPassing.HandOver(channel, accepted, s_wait, sent: workerEnd.Dispose);

        Assert.Equal(FdPassing.Taken.No, taken);
        client.Send("still here"u8);
        var buffer = new byte[10];
        accepted.ReceiveTimeout = 5000;
        Assert.Equal(10, accepted.Receive(buffer));
    }

    [Fact]
    public void HandOver_ReceiverSilent_TakenUnknownAfterTheTimeout()
    {
        using var pairs = new Pairs();
        (Socket channel, Socket workerEnd, Socket client, Socket accepted) = pairs;
        Assert.Equal(FdPassing.Taken.Unknown, FdPassing.HandOver(channel, accepted, TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public void HandOver_ChannelDisposedAfterTheAcknowledgement_StillTakenYes()
    {
        // The server disposes a worker's channel when it sees the worker exit; a worker that took
        // the connection, acknowledged and exited before the wait read its answer must not read as
        // one that died before taking it (its connection would go to a second worker, half read).
        using var pairs = new Pairs();
        (Socket channel, Socket workerEnd, Socket client, Socket accepted) = pairs;
        FdPassing.Taken taken = FdPassing.HandOver(channel, accepted, s_wait, sent: () =>
        {
            FdPassing.Receive(workerEnd)!.Dispose();
            FdPassing.AcknowledgeTaken(workerEnd);
            workerEnd.Dispose();
            channel.Dispose();
        });

        Assert.Equal(FdPassing.Taken.Yes, taken);
    }

    [Fact]
    public void HandOver_AnAnswerThatIsNotTheAcknowledgement_TakenUnknown()
    {
        using var pairs = new Pairs();
        (Socket channel, Socket workerEnd, Socket client, Socket accepted) = pairs;
        FdPassing.Taken taken = FdPassing.HandOver(channel, accepted, s_wait, sent: () => workerEnd.Send("x"u8));

        Assert.Equal(FdPassing.Taken.Unknown, taken);
    }

    [Fact]
    public void Receive_OnAClosedChannel_Throws()
    {
        (Socket channel, Socket peer) = UnixPair();
        peer.Dispose();
        channel.Dispose();

        Assert.Throws<ObjectDisposedException>(() => FdPassing.Receive(channel));
    }

    // A worker's channel (its two ends) and a client's TCP connection (its two ends); disposing a
    // socket twice is harmless, so the tests may close any of them early.
    private sealed class Pairs : IDisposable
    {
        private readonly Socket _channel;
        private readonly Socket _workerEnd;
        private readonly Socket _client;
        private readonly Socket _accepted;

        public Pairs()
        {
            (_channel, _workerEnd) = UnixPair();
            (_client, _accepted) = TcpPair();
        }

        public void Deconstruct(out Socket channel, out Socket workerEnd, out Socket client, out Socket accepted) =>
            (channel, workerEnd, client, accepted) = (_channel, _workerEnd, _client, _accepted);

        public void Dispose()
        {
            _channel.Dispose();
            _workerEnd.Dispose();
            _client.Dispose();
            _accepted.Dispose();
        }
    }

    private static (Socket, Socket) UnixPair()
    {
        string name = "\0rpyc-fdpassing-test-" + Guid.NewGuid().ToString("N");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(name));
        listener.Listen(1);
        var connecting = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        connecting.Connect(new UnixDomainSocketEndPoint(name));
        return (connecting, listener.Accept());
    }

    private static (Socket, Socket) TcpPair()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        client.Connect(listener.LocalEndPoint!);
        return (client, listener.Accept());
    }
}
