using System.Net;
using System.Net.Sockets;
using Rpyc.Servers;

namespace Rpyc.IntegrationTests.Servers;

// A new ForkingServer worker moves off its loopback client's CPU (LoopbackPlacement), with real
// sockets on 127.0.0.1 and real affinity changes, on a thread of the test's own so that no pool
// thread keeps a narrowed affinity.
public class LoopbackPlacementTests
{
    [Fact]
    public void MoveOffPeerCpu_PeerSentFromThisCpu_ThreadMovesAndKeepsEveryCpu()
    {
        Assert.True(Environment.ProcessorCount >= 2, "needs two CPUs");
        (bool moved, int before, int after, bool widened) = OnOwnThread(() =>
        {
            using var pair = new ConnectedPair();
            (Socket client, Socket accepted) = (pair.Client, pair.Accepted);
            // Up to a few tries: the scheduler may move this thread between widening its affinity
            // and the check, and then there is nothing to move.
            for (int attempt = 0; ; attempt++)
            {
                Assert.True(LoopbackPlacement.SetAffinity(0));
                client.Send([1]);
                Assert.Equal(1, accepted.Receive(new byte[1]));
                Assert.True(LoopbackPlacement.SetAffinity(0, 1));
                int cpu = LoopbackPlacement.CurrentCpu();
                if (cpu == 0 || attempt == 20)
                {
                    bool moved = LoopbackPlacement.MoveOffPeerCpu(accepted);
                    // Where the narrowed affinity took it; once widened the scheduler may move it anywhere.
                    int now = LoopbackPlacement.LastMovedTo;
                    // Still free to run on CPU 0: the affinity was widened again.
                    bool widened = LoopbackPlacement.AllowedCpus().SequenceEqual([0, 1]);
                    return (moved, cpu, now, widened);
                }
            }
        });
        Assert.Equal(0, before);
        Assert.True(moved);
        Assert.NotEqual(0, after);
        Assert.True(widened);
    }

    [Fact]
    public void MoveOffPeerCpu_PeerOnAnotherCpu_StaysPut()
    {
        Assert.True(Environment.ProcessorCount >= 2, "needs two CPUs");
        bool moved = OnOwnThread(() =>
        {
            using var pair = new ConnectedPair();
            (Socket client, Socket accepted) = (pair.Client, pair.Accepted);
            Assert.True(LoopbackPlacement.SetAffinity(1));
            client.Send([1]);
            Assert.Equal(1, accepted.Receive(new byte[1]));
            // Pinned to CPU 1 alone, this thread is on 1 and the packet came from 1: nothing else is allowed.
            bool pinnedAlone = LoopbackPlacement.MoveOffPeerCpu(accepted);
            Assert.True(LoopbackPlacement.SetAffinity(0));
            // Now on CPU 0, the packet from CPU 1: not the same CPU.
            return pinnedAlone || LoopbackPlacement.MoveOffPeerCpu(accepted);
        });
        Assert.False(moved);
    }

    // A client socket and the server side it connected to, over 127.0.0.1.
    private sealed class ConnectedPair : IDisposable
    {
        public ConnectedPair()
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            Client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            Client.Connect(listener.LocalEndPoint!);
            Accepted = listener.Accept();
        }

        public Socket Client { get; }

        public Socket Accepted { get; }

        public void Dispose()
        {
            Accepted.Dispose();
            Client.Dispose();
        }
    }

    private static T OnOwnThread<T>(Func<T> body)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = body();
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "the test thread did not finish");
        if (failure is not null)
        {
            throw new Xunit.Sdk.XunitException($"on the test thread: {failure}");
        }
        return result;
    }
}
