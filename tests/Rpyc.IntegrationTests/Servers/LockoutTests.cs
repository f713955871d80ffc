using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Rpyc.Protocol;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// Peers that hold sockets open without speaking, or speak and then go quiet, cannot starve or lock
/// out a server: a fresh client is answered, the silent ones are closed after the handshake timeout,
/// the caps refuse with one log line per burst, and idle sockets cost no thread nor worker process.
/// </summary>
[Collection(DotNetServersCollection.Name)]
public sealed partial class LockoutTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);

    // A fresh client's calls must be answered within 5 s, or the call throws RpycTimeoutException: a
    // locked-out server never answers, and a loaded 2-core CI machine still answers well within it
    // (and refuses within it, where a test expects a refusal).
    private static readonly RpycConnectOptions s_impatient = new() { SyncRequestTimeout = TimeSpan.FromSeconds(5) };

    [Fact]
    public async Task ThreadedServer_300IdleSockets_FreshClientAnsweredAndIdleOnesClosedAfterHandshakeTimeout()
    {
        using var log = new LogCapture(output);
        // 8 s: all 300 must be seen pending, and the fresh client served, before the first of them times out.
        var options = new RpycServerOptions { Port = 0, MaxConnections = 5, HandshakeTimeout = TimeSpan.FromSeconds(8) };
        var server = new ThreadedServer(() => new InteropService(), options);
        List<Socket> idle = [];
        try
        {
            server.Start();
            int threadsBefore = Process.GetCurrentProcess().Threads.Count;
            idle = await OpenIdleAsync(server.Port, 300);
            Assert.True(await Eventually.TrueAsync(() => server.PendingConnections == 300, s_bound), $"{server.PendingConnections} of 300 idle sockets pending.");
            int threadsWithIdle = Process.GetCurrentProcess().Threads.Count;
            output.WriteLine($"threads: {threadsBefore} before, {threadsWithIdle} with 300 idle sockets");
            // A thread per idle socket would add 300; other test collections run meanwhile, so allow some.
            Assert.True(threadsWithIdle - threadsBefore < 100, $"{threadsWithIdle - threadsBefore} more threads with 300 idle sockets.");

            using (RpycConnection fresh = RpycConnection.Connect("127.0.0.1", server.Port, s_impatient))
            {
                Assert.Equal("pong", fresh.RootNetref.CallMethod("ping"));
                fresh.Ping();
                // Served while the idle ones wait: they do not count against MaxConnections (5).
                Assert.Equal(1, server.ActiveConnections - server.PendingConnections);
            }

            Assert.True(await Eventually.TrueAsync(() => server.PendingConnections == 0, s_bound), $"{server.PendingConnections} idle sockets still pending.");
            int closed = idle.Count(ServerClosed);
            Assert.Equal(300, closed);
        }
        finally
        {
            server.Dispose();
            idle.ForEach(s => s.Dispose());
        }
        // Dispose logs what is still counted: the lines add up to every close, in a few lines.
        string[] lines = [.. log.Lines.Where(l => l.Contains($"port {server.Port}: closed", StringComparison.Ordinal) && l.Contains("HandshakeTimeout", StringComparison.Ordinal))];
        Assert.Equal(300, lines.Sum(Count));
        Assert.InRange(lines.Length, 1, 3);
    }

    [Fact]
    public async Task ThreadedServer_PartialFrameThenSilence_ClosedAfterHandshakeTimeout()
    {
        using var log = new LogCapture(output);
        using var server = new ThreadedServer(() => new InteropService(), new RpycServerOptions { Port = 0, HandshakeTimeout = TimeSpan.FromSeconds(1) });
        server.Start();
        using RawConnection slow = await RawConnection.ConnectAsync(server.Port);
        // Three bytes of a frame header, then nothing: it holds a serving thread until the timeout.
        await slow.SendAsync(new byte[] { 0, 0, 0 });
        Assert.True(await Eventually.TrueAsync(() => server.ActiveConnections == 1 && server.PendingConnections == 0, s_bound), "The partial frame was not handed on.");
        List<Message> messages = await slow.ReadUntilClosedAsync(null, s_bound);
        Assert.True(slow.SawEndOfStream || slow.SawReset, "The server did not close the silent connection.");
        // A CLOSE before hanging up is fine, as rpyc sends one; nothing else is.
        Assert.All(messages, m => Assert.Equal((long)HandlerId.Close, ((PyTuple)m.Args!)[0]));
        await log.WaitForAsync(l => l.Contains($"port {server.Port}: closed a connection: no complete frame within HandshakeTimeout (1 s)", StringComparison.Ordinal), s_bound, "about the handshake timeout");

        using RpycConnection fresh = RpycConnection.Connect("127.0.0.1", server.Port, s_impatient);
        Assert.Equal("pong", fresh.RootNetref.CallMethod("ping"));
    }

    [Fact]
    public async Task ThreadedServer_BeyondMaxConnections_RefusedWithTheReasonAndLoggedOncePerBurst()
    {
        using var log = new LogCapture(output);
        var server = new ThreadedServer(() => new InteropService(), new RpycServerOptions { Port = 0, MaxConnections = 2 });
        var served = new List<RpycConnection>();
        int refused = 0;
        try
        {
            server.Start();
            for (int i = 0; i < 2; i++)
            {
                served.Add(RpycConnection.Connect("127.0.0.1", server.Port, s_impatient));
                Assert.Equal("pong", served[i].RootNetref.CallMethod("ping"));
            }
            for (int i = 0; i < 40; i++)
            {
                using RpycConnection extra = RpycConnection.Connect("127.0.0.1", server.Port, s_impatient);
                // The first request is answered with the reason (it was a reset before, which said nothing).
                var ex = Assert.Throws<RpycRemoteException>(() => extra.RootNetref.CallMethod("ping"));
                Assert.Equal("builtins.ConnectionRefusedError", ex.RemoteTypeName);
                Assert.Contains("connection limit: MaxConnections (2)", ex.Message, StringComparison.Ordinal);
                // Then the server closes it.
                Assert.ThrowsAny<RpycConnectionException>(() => extra.Ping());
                refused++;
            }
            // The two served ones are untouched, and a freed slot serves the next client.
            Assert.All(served, c => Assert.Equal("pong", c.RootNetref.CallMethod("ping")));
            served[0].Dispose();
            served.RemoveAt(0);
            Assert.True(await Eventually.TrueAsync(() => server.ActiveConnections == 1, s_bound), $"{server.ActiveConnections} connections counted.");
            served.Add(RpycConnection.Connect("127.0.0.1", server.Port, s_impatient));
            Assert.Equal("pong", served[^1].RootNetref.CallMethod("ping"));
        }
        finally
        {
            served.ForEach(c => c.Dispose());
            server.Dispose();
        }
        string[] lines = [.. log.Lines.Where(l => l.Contains($"port {server.Port}: refused", StringComparison.Ordinal))];
        output.WriteLine(string.Join('\n', lines));
        Assert.All(lines, l => Assert.Contains("MaxConnections (2)", l, StringComparison.Ordinal));
        Assert.Equal(refused, lines.Sum(Count));
        Assert.InRange(lines.Length, 1, 3);
    }

    [Fact]
    public async Task ThreadedServer_MaxPendingReached_OldestIdleClosedFreshClientServed()
    {
        using var log = new LogCapture(output);
        using var server = new ThreadedServer(() => new InteropService(), new RpycServerOptions { Port = 0, MaxPendingConnections = 20 });
        server.Start();
        List<Socket> idle = await OpenIdleAsync(server.Port, 50);
        try
        {
            Assert.True(await Eventually.TrueAsync(() => server.PendingConnections == 20 && idle.Take(30).All(ServerClosed), s_bound),
                $"{server.PendingConnections} pending; expected the 20 newest of 50.");
            using RpycConnection fresh = RpycConnection.Connect("127.0.0.1", server.Port, s_impatient);
            Assert.Equal("pong", fresh.RootNetref.CallMethod("ping"));
            await log.WaitForAsync(l => l.Contains($"port {server.Port}: closed a connection: the oldest of MaxPendingConnections (20)", StringComparison.Ordinal), s_bound, "about the eviction");
        }
        finally
        {
            idle.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task ThreadedServer_IdleTimeout_ClosesQuietConnectionButNotALongCall()
    {
        using var log = new LogCapture(output);
        using var server = new ThreadedServer(() => new InteropService(), new RpycServerOptions { Port = 0, IdleTimeout = TimeSpan.FromSeconds(1) });
        server.Start();
        using RpycConnection client = RpycConnection.Connect("127.0.0.1", server.Port, new RpycConnectOptions { SyncRequestTimeout = TimeSpan.FromSeconds(10) });
        using var never = new ManualResetEventSlim();
        // The server waits 2.5 s for this callback's reply: a request in progress, not idleness.
        long result = (long)client.RootNetref.CallMethod("call_me", (Func<long, long>)(x =>
        {
            never.Wait(TimeSpan.FromMilliseconds(2500));
            return x * 2;
        }), 21L)!;
        Assert.Equal(42L, result);
        Assert.Equal("pong", client.RootNetref.CallMethod("ping"));
        // Then nothing for longer than the idle timeout: the server hangs up.
        Assert.True(await Eventually.TrueAsync(() => server.ActiveConnections == 0, s_bound), $"{server.ActiveConnections} connection(s) still open.");
        Assert.ThrowsAny<RpycConnectionException>(() => client.RootNetref.CallMethod("ping"));
        await log.WaitForAsync(l => l.Contains($"port {server.Port}: closed a connection: no frame for IdleTimeout (1 s)", StringComparison.Ordinal), s_bound, "about the idle timeout");
    }

    // Pipelines pings of 64 KiB (random: no compression helps) and never reads a reply, so the
    // server's replies fill this socket's receive buffer and then the server's send buffer.
    private static Socket FloodWithoutReading(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveBufferSize = 4096, SendTimeout = 3000 };
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        var data = new byte[64 * 1024];
        new Random(1).NextBytes(data);
        byte[] frame = RawConnection.EncodeMessage(RpycProtocolVersion.V5, MessageKind.Request, 1, RawConnection.Request(HandlerId.Ping, data));
        for (int i = 0; i < 400; i++)
        {
            try
            {
                socket.Send(frame);
            }
            catch (SocketException)
            {
                // Both buffers are full: the server's thread is blocked in a send.
                break;
            }
        }
        return socket;
    }

    [Fact]
    public async Task ThreadedServer_PeerThatNeverReads_ClosedAfterIdleTimeoutAndStopReturns()
    {
        // Its replies cannot be sent: before, the connection's thread sat in send(2) for ever, past
        // the IdleTimeout (which only bounded receives), and Stop() waited for it for ever.
        var server = new ThreadedServer(() => new InteropService(), new RpycServerOptions { Port = 0, IdleTimeout = TimeSpan.FromSeconds(1) });
        server.Start();
        using (Socket reader = FloodWithoutReading(server.Port))
        {
            Assert.True(await Eventually.TrueAsync(() => server.ActiveConnections == 0, s_bound), $"{server.ActiveConnections} connection(s) still open.");
        }
        var noIdle = new ThreadedServer(() => new InteropService(), new RpycServerOptions { Port = 0 });
        noIdle.Start();
        using Socket stuck = FloodWithoutReading(noIdle.Port);
        Assert.True(await Eventually.TrueAsync(() => noIdle.ActiveConnections == 1, s_bound));
        // No IdleTimeout: the connection may stay, but stopping the server must not wait on it.
        Task stops = Task.Run(server.Stop).ContinueWith(_ => noIdle.Stop(), TaskScheduler.Default);
        Assert.True(await Task.WhenAny(stops, Task.Delay(s_bound)) == stops, "Stop() did not return.");
        await stops;
    }

    [Fact]
    public async Task ThreadedServer_StopWithManyConnectionsInLongCalls_OneWaitForAll()
    {
        // Stop waited up to 2 s for each connection's thread in turn, so 16 connections inside long
        // calls held it for 32 s and more (a client can start such calls on purpose). The sockets are
        // closed at once either way; now one 2 s wait covers every thread.
        const int Busy = 16;
        using var inCall = new CountdownEvent(Busy);
        using var release = new ManualResetEventSlim();
        var server = new ThreadedServer(() => new BlockingService(inCall, release), new RpycServerOptions { Port = 0 });
        var clients = new List<RpycConnection>();
        var calls = new List<Task>();
        try
        {
            server.Start();
            for (int i = 0; i < Busy; i++)
            {
                RpycConnection client = RpycConnection.Connect("127.0.0.1", server.Port, new RpycConnectOptions { SyncRequestTimeout = TimeSpan.FromSeconds(90) });
                clients.Add(client);
                // A thread each: 16 blocked calls on the thread pool would starve it, and the calls not yet
                // sent would meet the handshake timeout instead.
                calls.Add(Task.Factory.StartNew(() => Assert.ThrowsAny<RpycConnectionException>(() => client.RootNetref.CallMethod("block")),
                    CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default));
            }
            Assert.True(inCall.Wait(s_bound), $"{Busy - inCall.CurrentCount} of {Busy} calls started.");
            var watch = Stopwatch.StartNew();
            Task stops = Task.Run(server.Stop);
            bool returned = await Task.WhenAny(stops, Task.Delay(TimeSpan.FromSeconds(15))) == stops;
            output.WriteLine($"Stop: {(returned ? "returned" : "still waiting")} after {watch.Elapsed.TotalSeconds:0.0} s");
            Assert.True(returned, $"Stop() with {Busy} connections in long calls did not return within 15 s.");
            // Their clients see the connection closed, not a timeout.
            Assert.True(await Task.WhenAll(calls).WaitAsync(s_bound).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default), "A client's call did not end with the connection.");
        }
        finally
        {
            release.Set();
            server.Dispose();
            clients.ForEach(c => c.Dispose());
        }
    }

    /// <summary>A service whose one call runs until the test releases it.</summary>
    public sealed class BlockingService(CountdownEvent inCall, ManualResetEventSlim release) : RpycService
    {
        [Exposed]
        public bool Block()
        {
            inCall.Signal();
            return release.Wait(TimeSpan.FromSeconds(90));
        }
    }

    [Theory]
    [InlineData("reset")]
    [InlineData("close")]
    public async Task ForkingServer_ClientsGoneWhileQueuedForAWorker_NoWorkerSpentOnThem(string how)
    {
        // Clients queued for a worker are given one in turn; one that had gone meanwhile (reset, or
        // hung up before a whole first frame, which can then never come) still cost a worker process
        // start, and the clients behind it waited for each. A flood of such peers while the pool
        // refills kept every live client waiting, at about 0.1 s of CPU per dead peer.
        using var log = new LogCapture(output);
        int starts = 0;
        using ForkingServer server = ForkingServer.Create<InteropService>(new RpycServerOptions { Port = 0 },
            new ForkingServerOptions { WorkerPath = WorkerLocator.Path, PrestartedWorkers = 0, MaxPrestartedWorkers = 1 });
        server.FaultInjection = stage =>
        {
            if (stage == "start-worker")
            {
                Interlocked.Increment(ref starts);
            }
        };
        server.Start();
        const int Gone = 12;
        for (int i = 0; i < Gone; i++)
        {
            using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, server.Port));
            // Three bytes of a frame header: first bytes, so each is queued for a worker.
            await socket.SendAsync(new byte[] { 0, 0, 0 });
            if (how == "reset")
            {
                socket.LingerState = new LingerOption(true, 0);
            }
        }
        using (RpycConnection client = RpycConnection.Connect("127.0.0.1", server.Port, new RpycConnectOptions { SyncRequestTimeout = TimeSpan.FromSeconds(30) }))
        {
            Assert.Equal("pong", client.RootNetref.CallMethod("ping"));
        }
        output.WriteLine($"{starts} worker start(s) for {Gone} gone peers and one client");
        // The client's worker and the pool's refill, give or take one: none for the gone peers.
        Assert.InRange(Volatile.Read(ref starts), 1, 4);
        await log.WaitForAsync(l => l.Contains($"port {server.Port}: closed a connection: the peer was gone before a worker took it", StringComparison.Ordinal)
            && l.Contains("last: 127.0.0.1:", StringComparison.Ordinal), s_bound, "about the gone peers");
    }

    [Fact]
    public async Task ForkingServer_WholeFirstFrameThenHalfClose_StillServed()
    {
        // The other side of the rule above: a peer that sent a whole request and then shut down its
        // sending side while it waited for a worker may still read the reply, so it gets its worker.
        using ForkingServer server = ForkingServer.Create<InteropService>(new RpycServerOptions { Port = 0 },
            new ForkingServerOptions { WorkerPath = WorkerLocator.Path, PrestartedWorkers = 0 });
        server.Start();
        using RawConnection raw = await RawConnection.ConnectAsync(server.Port);
        await raw.SendMessageAsync(RpycProtocolVersion.V5, MessageKind.Request, 7, RawConnection.Request(HandlerId.Ping, "half-closed"));
        raw.ShutdownSend();
        (Message Message, RpycProtocolVersion Version)? reply = await raw.ReadMessageAsync(RpycProtocolVersion.V5, s_bound);
        Assert.True(reply is not null, "The server closed the half-closed connection without a reply.");
        Assert.Equal(MessageKind.Reply, reply.Value.Message.Kind);
        Assert.Equal(7, reply.Value.Message.Seq);
        Assert.Equal("half-closed", Boxes.Payload(reply.Value.Message.Args));
    }

    [Fact]
    public async Task ForkingServer_50IdleSockets_NoWorkerStartedForThemAndClientAnswered()
    {
        using var log = new LogCapture(output);
        var server = (ForkingServer)TestServers.Start<InteropService>(ServerKind.Forking, prestartedWorkers: 2);
        List<Socket> idle = [];
        try
        {
            Assert.True(await Eventually.TrueAsync(() => server.ReadyWorkers == 2, s_bound), $"{server.ReadyWorkers} of 2 workers ready.");
            idle = await OpenIdleAsync(server.Port, 50);
            Assert.True(await Eventually.TrueAsync(() => server.PendingConnections == 50, s_bound), $"{server.PendingConnections} of 50 idle sockets pending.");
            int workers = server.WorkerProcesses;
            output.WriteLine($"{workers} worker processes with 50 idle sockets; {Processes.LiveWorkersOf(server.ControlPath).Count} live");
            Assert.Equal(2, workers);
            Assert.Equal(2, Processes.LiveWorkersOf(server.ControlPath).Count);

            using RpycConnection fresh = RpycConnection.Connect("127.0.0.1", server.Port, s_impatient);
            Assert.Equal("pong", fresh.RootNetref.CallMethod("ping"));
            Assert.NotEqual(Environment.ProcessId, (int)(long)fresh.RootNetref.CallMethod("pid")!);
            Assert.True(server.WorkerProcesses <= 2 + 2, $"{server.WorkerProcesses} workers for 1 client and 50 idle sockets.");
        }
        finally
        {
            server.Dispose();
            idle.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task ForkingServer_IdleTimeout_WorkerClosesQuietConnection()
    {
        using var server = ForkingServer.Create<InteropService>(new RpycServerOptions { Port = 0, IdleTimeout = TimeSpan.FromSeconds(1) },
            new ForkingServerOptions { WorkerPath = WorkerLocator.Path, PrestartedWorkers = 1 });
        server.Start();
        using RpycConnection client = TestServers.Connect(server);
        Assert.Equal("pong", client.RootNetref.CallMethod("ping"));
        int pid = (int)(long)client.RootNetref.CallMethod("pid")!;
        // The worker's connection goes quiet: the worker hangs up and exits.
        Assert.True(await Eventually.TrueAsync(() => !Processes.IsLiveWorker(pid), s_bound), $"Worker {pid} still serves a quiet connection.");
        Assert.ThrowsAny<RpycConnectionException>(() => client.RootNetref.CallMethod("ping"));
    }

    [Fact]
    public async Task ForkingServer_AllMaxWorkersServing_RefusesNextClientAndNeverExceedsCap()
    {
        using var log = new LogCapture(output);
        using ForkingServer server = ForkingServer.Create<InteropService>(new RpycServerOptions { Port = 0 },
            new ForkingServerOptions { WorkerPath = WorkerLocator.Path, PrestartedWorkers = 1, MaxWorkers = 3 });
        server.Start();
        var served = new List<RpycConnection>();
        int most = 0;
        try
        {
            for (int i = 0; i < 3; i++)
            {
                served.Add(TestServers.Connect(server));
                Assert.Equal("pong", served[i].RootNetref.CallMethod("ping"));
                most = Math.Max(most, server.WorkerProcesses);
            }
            using RpycConnection extra = RpycConnection.Connect("127.0.0.1", server.Port, s_impatient);
            var refused = Assert.Throws<RpycRemoteException>(() => extra.Ping());
            Assert.Contains("worker limit: MaxWorkers (3)", refused.Message, StringComparison.Ordinal);
            await log.WaitForAsync(l => l.Contains($"port {server.Port}: refused a connection: all MaxWorkers (3) are taken: ", StringComparison.Ordinal), s_bound, "about MaxWorkers");
            most = Math.Max(most, server.WorkerProcesses);
            Assert.InRange(most, 3, 3);
            Assert.All(served, c => Assert.Equal("pong", c.RootNetref.CallMethod("ping")));
        }
        finally
        {
            served.ForEach(c => c.Dispose());
        }
        // A slot frees when a client leaves: the next one is served.
        Assert.True(await Eventually.TrueAsync(() => server.ActiveConnections == 0, s_bound), $"{server.ActiveConnections} still served.");
        using RpycConnection later = TestServers.Connect(server);
        Assert.Equal("pong", later.RootNetref.CallMethod("ping"));
    }

    [Fact]
    public void Bind_BusyPort_ThrowsAddressAlreadyInUse()
    {
        using var first = new ThreadedServer(new InteropService(), new RpycServerOptions { Port = 0 });
        first.Start();
        SocketException error = Assert.Throws<SocketException>(() => new ThreadedServer(new InteropService(), new RpycServerOptions { Port = first.Port }));
        output.WriteLine(error.Message);
        Assert.Equal(SocketError.AddressAlreadyInUse, error.SocketErrorCode);
        Assert.Contains($"127.0.0.1:{first.Port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("already in use", error.Message, StringComparison.Ordinal);
        using RpycConnection client = TestServers.Connect(first);
        Assert.Equal("pong", client.RootNetref.CallMethod("ping"));
    }

    [Fact]
    public void Bind_ReusePortOnBoth_SecondServerBinds()
    {
        using var first = new ThreadedServer(new InteropService(), new RpycServerOptions { Port = 0, ReusePort = true });
        first.Start();
        using var second = new ThreadedServer(new InteropService(), new RpycServerOptions { Port = first.Port, ReusePort = true });
        Assert.Equal(first.Port, second.Port);
    }

    [Fact]
    public void Bind_PortOfAStoppedServerInTimeWait_BindsAgain()
    {
        int port;
        using (var first = new ThreadedServer(new InteropService(), new RpycServerOptions { Port = 0 }))
        {
            first.Start();
            port = first.Port;
            using RpycConnection client = TestServers.Connect(first);
            Assert.Equal("pong", client.RootNetref.CallMethod("ping"));
            // The server closes first, so its side of the connection lingers in TIME_WAIT.
            first.Stop();
        }
        using var again = new ThreadedServer(new InteropService(), new RpycServerOptions { Port = port });
        again.Start();
        using RpycConnection next = TestServers.Connect(again);
        Assert.Equal("pong", next.RootNetref.CallMethod("ping"));
    }

    private static async Task<List<Socket>> OpenIdleAsync(int port, int count)
    {
        var sockets = new List<Socket>(count);
        try
        {
            for (int i = 0; i < count; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(socket);
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
            }
        }
        catch
        {
            sockets.ForEach(s => s.Dispose());
            throw;
        }
        return sockets;
    }

    // Whether the server closed this idle socket: readable with nothing to read, or reset.
    private static bool ServerClosed(Socket socket)
    {
        try
        {
            return socket.Poll(0, SelectMode.SelectRead) && socket.Available == 0 && socket.Receive(new byte[1]) == 0;
        }
        catch (SocketException)
        {
            return true;
        }
    }

    // "... closed a connection: ..." counts 1; "... closed N connection(s) in the last ..." counts N.
    private static int Count(string line)
    {
        Match many = CountPattern().Match(line);
        return many.Success ? int.Parse(many.Groups[1].Value, CultureInfo.InvariantCulture) : 1;
    }

    [GeneratedRegex(@"(?:closed|refused) (\d+) connection\(s\) in the last")]
    private static partial Regex CountPattern();
}
