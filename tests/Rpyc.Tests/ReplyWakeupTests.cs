using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Rpyc.Transport;

namespace Rpyc.Tests;

/// <summary>
/// A waiting call must return as soon as its reply is read, whichever thread reads it: a reply
/// that holds a netref and an exception are settled after they are read, and a waiter woken before
/// that took the reader role and sat in a receive until its timeout (10 s here) for a reply already
/// read. Each call below is allowed 5 s: with that bug, some of the 200 of each test took 10 s.
/// </summary>
public sealed class ReplyWakeupTests
{
    private const int Calls = 200;
    private static readonly TimeSpan s_prompt = TimeSpan.FromSeconds(5);

    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void ANetrefReplyReadByAServingThreadWakesItsCaller(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new PairService(), version);
        Netref root = pair.Client.RootNetref;
        using var serving = new ServingThread(pair.Client);
        for (int i = 0; i < Calls; i++)
        {
            var watch = Stopwatch.StartNew();
            using var list = Assert.IsType<Netref>(root.CallMethod("get_list"));
            Assert.True(watch.Elapsed < s_prompt, $"call {i} returned after {watch.Elapsed.TotalSeconds:0.0} s");
        }
    }

    [Fact]
    public void AnExceptionReadByAServingThreadWakesItsCaller()
    {
        using var pair = new ConnectionPair(new PairService(), RpycProtocolVersion.V5);
        Netref root = pair.Client.RootNetref;
        using var serving = new ServingThread(pair.Client);
        for (int i = 0; i < Calls; i++)
        {
            var watch = Stopwatch.StartNew();
            RpycRemoteException error = Assert.Throws<RpycRemoteException>(() => root.CallMethod("fail", $"boom {i}"));
            Assert.Contains($"boom {i}", error.Message, StringComparison.Ordinal);
            Assert.True(watch.Elapsed < s_prompt, $"call {i} returned after {watch.Elapsed.TotalSeconds:0.0} s");
        }
    }

    [Fact]
    public void TwoCallersOfNetrefRepliesReadEachOthersReplies()
    {
        using var pair = new ConnectionPair(new PairService(), RpycProtocolVersion.V5);
        Netref root = pair.Client.RootNetref;
        var slowest = new TimeSpan[2];
        Parallel.For(0, 2, new ParallelOptions { MaxDegreeOfParallelism = 2 }, t =>
        {
            for (int i = 0; i < Calls / 2; i++)
            {
                var watch = Stopwatch.StartNew();
                using var list = (Netref)root.CallMethod("get_list")!;
                slowest[t] = watch.Elapsed > slowest[t] ? watch.Elapsed : slowest[t];
            }
        });
        Assert.True(slowest.Max() < s_prompt, $"a call returned after {slowest.Max().TotalSeconds:0.0} s");
    }

    [Fact]
    public void ATimeoutLongerThanMonitorWaitTakesIsAccepted()
    {
        // 30 days: beyond Monitor.Wait's int.MaxValue ms, reached while another thread reads.
        (MemoryTransport a, MemoryTransport b) = MemoryTransport.CreatePair();
        using var server = new RpycConnection(a, RpycConnectOptions.Default, new PairService(), version: null);
        using var client = new RpycConnection(b, new RpycConnectOptions { SyncRequestTimeout = TimeSpan.FromDays(30) }, null, RpycProtocolVersion.V5);
        using var serverThread = new ServingThread(server);
        using var clientThread = new ServingThread(client);
        Thread.Sleep(100);
        for (int i = 0; i < 20; i++)
        {
            client.Ping();
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public void ZeroOrNegativeTimeoutsAreRefused(int milliseconds)
    {
        TimeSpan value = TimeSpan.FromMilliseconds(milliseconds);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RpycConnectOptions { SyncRequestTimeout = value });
        Assert.Throws<ArgumentOutOfRangeException>(() => new RpycConnectOptions { ConnectTimeout = value });
    }

    [Fact]
    public async Task AnInfiniteConnectTimeoutConnectsBothWays()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            var options = new RpycConnectOptions { ConnectTimeout = Timeout.InfiniteTimeSpan, SyncRequestTimeout = Timeout.InfiniteTimeSpan };
            using (RpycConnection connected = RpycConnection.Connect("127.0.0.1", port, options))
            {
                Assert.False(connected.IsClosed);
            }
            using (RpycConnection connected = await RpycConnection.ConnectAsync("127.0.0.1", port, options))
            {
                Assert.False(connected.IsClosed);
            }
        }
        finally
        {
            listener.Stop();
        }
    }

    // A thread serving the connection's incoming messages (callbacks), as an application does with
    // ServeAll beside its calls; disposing it closes the connection.
    private sealed class ServingThread : IDisposable
    {
        private readonly RpycConnection _connection;
        private readonly Thread _thread;

        public ServingThread(RpycConnection connection)
        {
            _connection = connection;
            _thread = new Thread(() =>
            {
                try
                {
                    connection.ServeAll();
                }
                catch (RpycException)
                {
                }
            })
            { IsBackground = true, Name = "test-serve-all" };
            _thread.Start();
        }

        // Closing the connection ends ServeAll (disposing it again later does nothing).
        public void Dispose()
        {
            _connection.Dispose();
            Assert.True(_thread.Join(TimeSpan.FromSeconds(5)), "ServeAll did not end with its connection");
        }
    }
}
