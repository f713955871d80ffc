using System.Collections.Concurrent;
using System.Diagnostics;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// Many concurrent .NET clients against the ThreadedServer and the ForkingServer: no failures,
/// and every connection and worker process gone after <see cref="RpycServer.Stop"/>. Also the
/// ForkingServer's isolation: a crashing worker fails only its own client.
/// </summary>
[Collection(DotNetServersCollection.Name)]
public sealed class LoadTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(ServerKind.Threaded, 128, 1000)]
    [InlineData(ServerKind.Forking, 32, 200)]
    public async Task ConcurrentClients_AddCalls_NoFailuresAndEverythingClosedAtStop(ServerKind kind, int clients, int callsPerClient)
    {
        using var log = new LogCapture();
        RpycServer server = TestServers.Start<InteropService>(kind, prestartedWorkers: kind == ServerKind.Forking ? 8 : 2);
        var connections = new RpycConnection[clients];
        try
        {
            var watch = Stopwatch.StartNew();
            var failures = new ConcurrentQueue<string>();
            var pids = new ConcurrentDictionary<long, byte>();
            long completed = 0;
            using var start = new Barrier(clients);
            Task[] workers = Enumerable.Range(0, clients).Select(c => Task.Factory.StartNew(() =>
            {
                try
                {
                    RpycConnection connection = connections[c] = TestServers.Connect(server);
                    Netref root = connection.RootNetref;
                    pids.TryAdd((long)root.CallMethod("pid")!, 0);
                    // Everyone connected: now all call at once.
                    if (!start.SignalAndWait(TimeSpan.FromSeconds(90)))
                    {
                        failures.Enqueue($"client {c}: the others did not connect within 90 s");
                        return;
                    }
                    for (int i = 0; i < callsPerClient; i++)
                    {
                        long a = (c * 1_000_000L) + i;
                        object? result = root.CallMethod("add", a, (long)i);
                        if (result is not long sum || sum != a + i)
                        {
                            failures.Enqueue($"client {c} call {i}: add({a}, {i}) returned {PyValue.Repr(result)}");
                            return;
                        }
                        Interlocked.Increment(ref completed);
                    }
                }
                catch (Exception ex) when (ex is RpycException or BarrierPostPhaseException)
                {
                    failures.Enqueue($"client {c}: {ex.GetType().Name}: {ex.Message}");
                    start.RemoveParticipant();
                }
            }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();

            await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(120));
            watch.Stop();
            output.WriteLine($"{kind}: {clients} clients x {callsPerClient} calls: {Interlocked.Read(ref completed)} calls in {watch.Elapsed.TotalSeconds:0.00} s " +
                $"({Interlocked.Read(ref completed) / watch.Elapsed.TotalSeconds:0} calls/s), served by {pids.Count} process(es)");
            Assert.True(failures.IsEmpty, $"{failures.Count} client(s) failed:\n{string.Join('\n', failures.Take(20))}");
            Assert.Equal((long)clients * callsPerClient, Interlocked.Read(ref completed));
            Assert.Equal(clients, server.ActiveConnections);
            if (kind == ServerKind.Forking)
            {
                Assert.Equal(clients, pids.Count);
                Assert.DoesNotContain((long)Environment.ProcessId, pids.Keys);
            }
            else
            {
                Assert.Equal(new[] { (long)Environment.ProcessId }, pids.Keys.ToArray());
            }

            string? controlPath = kind == ServerKind.Forking ? Processes.ControlPathOf((int)pids.Keys.First()) : null;
            output.WriteLine($"live workers of this server before Stop: {(controlPath is null ? "-" : Processes.LiveWorkersOf(controlPath).Count)}");
            var stopWatch = Stopwatch.StartNew();
            server.Stop();
            output.WriteLine($"Stop took {stopWatch.ElapsedMilliseconds} ms; right after it: {server.ActiveConnections} active connection(s)" +
                (server is ForkingServer f ? $", {f.WorkerProcesses} worker process(es)" : ""));
            Assert.Equal(0, server.ActiveConnections);

            // Every client learns that its connection is gone.
            int closed = 0;
            foreach (RpycConnection connection in connections)
            {
                Assert.ThrowsAny<RpycConnectionException>(() => connection.RootNetref.CallMethod("add", 1L, 1L));
                closed++;
            }
            Assert.Equal(clients, closed);

            if (server is ForkingServer forking)
            {
                Assert.True(await Eventually.TrueAsync(() => forking.WorkerProcesses == 0, TimeSpan.FromSeconds(10)),
                    $"{forking.WorkerProcesses} worker processes are still counted after Stop.");
                int[] live = pids.Keys.Select(p => (int)p).Where(Processes.IsLiveWorker).ToArray();
                Assert.True(live.Length == 0, $"Worker processes {string.Join(", ", live)} outlived Stop.");
                // Also the workers that never got a connection (prestarted and replacements).
                Assert.NotNull(controlPath);
                Assert.True(await Eventually.TrueAsync(() => Processes.LiveWorkersOf(controlPath).Count == 0, TimeSpan.FromSeconds(10)),
                    $"Worker processes of this server still running after Stop: {string.Join(", ", Processes.LiveWorkersOf(controlPath))}");
            }
        }
        finally
        {
            server.Dispose();
            foreach (RpycConnection? connection in connections)
            {
                connection?.Dispose();
            }
        }
    }

    [Fact]
    public async Task ForkingServer_StopWhileWorkersStart_WorkersExitQuietly()
    {
        using var log = new LogCapture(output);
        var server = (ForkingServer)TestServers.Start<InteropService>(ServerKind.Forking, prestartedWorkers: 3);
        int started = server.WorkerProcesses;
        // Stop before the workers are warm: they find no control socket when they come up.
        server.Dispose();
        Assert.True(await Eventually.TrueAsync(() => server.WorkerProcesses == 0, TimeSpan.FromSeconds(20)),
            $"{server.WorkerProcesses} of {started} workers still counted after Stop.");
        string[] workerLines = log.Lines.Where(l => l.Contains("rpyc: worker ", StringComparison.Ordinal)).ToArray();
        output.WriteLine($"{started} workers were starting; {workerLines.Length} lines of worker output after Stop");
        // A worker whose server is gone has nothing to serve: it should exit without a crash report.
        Assert.DoesNotContain(workerLines, l => l.Contains("Unhandled exception", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ForkingServer_WorkerCrashes_OnlyItsClientFails()
    {
        using var log = new LogCapture(output);
        using var server = (ForkingServer)TestServers.Start<InteropService>(ServerKind.Forking, prestartedWorkers: 3);
        using RpycConnection victim = TestServers.Connect(server);
        using RpycConnection bystander = TestServers.Connect(server);
        long victimPid = (long)victim.RootNetref.CallMethod("pid")!;
        long bystanderPid = (long)bystander.RootNetref.CallMethod("pid")!;
        Assert.NotEqual(victimPid, bystanderPid);
        output.WriteLine($"victim served by {victimPid}, bystander by {bystanderPid}");

        var watch = Stopwatch.StartNew();
        RpycConnectionException error = Assert.ThrowsAny<RpycConnectionException>(() => victim.RootNetref.CallMethod("crash"));
        output.WriteLine($"crash() failed after {watch.ElapsedMilliseconds} ms with {error.GetType().Name}: {error.Message}");
        Assert.True(victim.IsClosed);
        Assert.True(await Eventually.TrueAsync(() => !Processes.IsLiveWorker((int)victimPid), TimeSpan.FromSeconds(10)), $"The crashed worker {victimPid} is still running.");
        Assert.ThrowsAny<RpycConnectionException>(() => victim.RootNetref.CallMethod("ping"));

        // The other connection, in its own process, is untouched.
        Assert.Equal("pong", bystander.RootNetref.CallMethod("ping"));
        Assert.Equal(42L, bystander.RootNetref.CallMethod("add", 40L, 2L));
        Assert.Equal(bystanderPid, (long)bystander.RootNetref.CallMethod("pid")!);

        // A new connection after the crash is served by a fresh worker.
        using RpycConnection newcomer = TestServers.Connect(server);
        Assert.Equal("pong", newcomer.RootNetref.CallMethod("ping"));
        long newcomerPid = (long)newcomer.RootNetref.CallMethod("pid")!;
        Assert.DoesNotContain(newcomerPid, new[] { victimPid, bystanderPid, (long)Environment.ProcessId });

        // The worker's dying words reach the server's log.
        string line = await log.WaitForAsync(l => l.Contains("simulated worker crash", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "with the worker's FailFast message");
        output.WriteLine($"logged: {line}");
        Assert.True(await Eventually.TrueAsync(() => server.ActiveConnections == 2, TimeSpan.FromSeconds(10)),
            $"{server.ActiveConnections} active connections, expected the bystander and the newcomer.");
    }
}
