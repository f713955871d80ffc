using System.Globalization;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// The ForkingServer's adaptive pool with real worker processes: clients that find no ready worker
/// grow it, a quiet spell shrinks it again (the retired idle workers really exit), and Stop ends
/// every worker of a grown pool.
/// </summary>
[Collection(DotNetServersCollection.Name)]
public sealed class ForkingServerPoolTests(ITestOutputHelper output)
{
    private static readonly TimeSpan s_bound = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan s_quietSpell = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task Burst_ClientsFindNoReadyWorker_PoolGrowsBeyondMinimum()
    {
        using var log = new LogCapture(output);
        using ForkingServer server = await StartWarmAsync(prestarted: 1, max: 4, shrinkAfter: TimeSpan.FromMinutes(10));
        List<RpycConnection> burst = OpenBurst(server, 3, out long[] servingPids);
        try
        {
            Assert.True(server.PoolTarget > 1, $"PoolTarget is {server.PoolTarget} after a burst of 3 against a pool of 1.");
            await log.WaitForAsync(l => l.Contains($"forking pool on port {server.Port}: target 1 -> 2", StringComparison.Ordinal), s_bound, "saying the pool grew");

            // The grown target is filled: more than the minimum of 1 idle worker waits beside the 3 serving.
            bool grown = await Eventually.TrueAsync(() => server.ReadyWorkers >= 2 && server.WorkerProcesses >= server.ActiveConnections + 2, s_bound);
            output.WriteLine($"target {server.PoolTarget}, {server.ReadyWorkers} ready, {server.WorkerProcesses} processes, {server.ActiveConnections} serving");
            Assert.True(grown, $"{server.ReadyWorkers} ready and {server.WorkerProcesses} processes for {server.ActiveConnections} connections; expected 2+ idle.");
            string controlPath = Processes.ControlPathOf((int)servingPids[0])!;
            Assert.True(Processes.LiveWorkersOf(controlPath).Count >= 3 + 2, $"Live workers: {string.Join(", ", Processes.LiveWorkersOf(controlPath))}");
            Assert.Equal(3, server.ActiveConnections);
            Assert.All(burst, c => Assert.Equal("pong", c.RootNetref.CallMethod("ping")));
        }
        finally
        {
            burst.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task QuietAfterBurst_PoolShrinksToMinimum_RetiredWorkersExit()
    {
        using var log = new LogCapture(output);
        // The quiet spell is long beside a worker start (~0.1-0.5 s): the grown pool is filled before
        // it ends, so the shrink has an idle worker to retire. With 1 s, a start slowed by a busy CI
        // machine was still on its way at the shrink, which then retired none (nothing idle above
        // the target: right), and the test failed.
        using ForkingServer server = await StartWarmAsync(prestarted: 1, max: 4, shrinkAfter: s_quietSpell);
        string controlPath = server.ControlPath;
        // Every worker this server has, seen from before the burst: a retired worker lives at least
        // as long as a worker start (~0.1 s), far longer than one poll.
        var seen = new HashSet<int>();
        using var stopWatching = new CancellationTokenSource();
        Task watcher = Task.Run(async () =>
        {
            while (!stopWatching.IsCancellationRequested)
            {
                IReadOnlyList<int> now = Processes.LiveWorkersOf(controlPath);
                lock (seen)
                {
                    seen.UnionWith(now);
                }
                await Task.Delay(20);
            }
        });
        List<RpycConnection> burst = [];
        try
        {
            burst = OpenBurst(server, 3, out long[] servingPids);
            await log.WaitForAsync(l => l.Contains($"forking pool on port {server.Port}: target 1 -> 2", StringComparison.Ordinal), s_bound, "saying the pool grew");
            bool filled = await Eventually.TrueAsync(() => server.ReadyWorkers >= 2 || ShrinkLogged(log, server), s_bound, pollMilliseconds: 20);
            Assert.True(filled && !ShrinkLogged(log, server), $"The grown pool was not filled ({server.ReadyWorkers} ready) before the {s_quietSpell.TotalSeconds:0} s quiet spell ended:\n{string.Join('\n', log.Lines)}");
            bool shrunk = await Eventually.TrueAsync(() =>
                server.PoolTarget == 1 && server.ReadyWorkers == 1
                && server.WorkerProcesses == server.ActiveConnections + 1
                && Processes.LiveWorkersOf(controlPath).Count == server.ActiveConnections + 1, s_bound, pollMilliseconds: 50);
            await stopWatching.CancelAsync();
            await watcher;
            IReadOnlyList<int> live = Processes.LiveWorkersOf(controlPath);
            output.WriteLine($"target {server.PoolTarget}, {server.ReadyWorkers} ready, {server.WorkerProcesses} processes; seen {string.Join(", ", seen)}; live {string.Join(", ", live)}");
            Assert.True(shrunk, $"Target {server.PoolTarget}, {server.ReadyWorkers} ready, {server.WorkerProcesses} processes, {live.Count} live, {server.ActiveConnections} serving.");

            int retired = log.Lines.Where(l => IsShrinkLine(l, server)).Sum(RetiredCount);
            Assert.True(retired >= 1, $"No idle worker was retired:\n{string.Join('\n', log.Lines)}");
            int[] gone = [.. seen.Except(live)];
            Assert.Equal(3, server.ActiveConnections);
            Assert.True(gone.Length >= retired, $"{retired} retired but only {gone.Length} of the seen workers are gone.");
            Assert.All(gone, pid => Assert.False(IsZombieChild(pid), $"Retired worker {pid} is a zombie (not reaped)."));

            // The serving workers were not touched.
            Assert.All(servingPids, pid => Assert.Contains((int)pid, live));
            Assert.All(burst, c => Assert.Equal("pong", c.RootNetref.CallMethod("ping")));
        }
        finally
        {
            await stopWatching.CancelAsync();
            await watcher;
            burst.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task Start_SixPrestarted_StartsAtMostOnePerCoreAtOnce()
    {
        using var log = new LogCapture(output);
        int cap = Math.Max(2, Environment.ProcessorCount);
        using ForkingServer server = ForkingServer.Create<InteropService>(new RpycServerOptions { Host = "127.0.0.1", Port = 0 },
            new ForkingServerOptions { WorkerPath = WorkerLocator.Path, PrestartedWorkers = cap + 4 });
        server.Start();
        int mostStarting = 0;
        bool full = await Eventually.TrueAsync(() =>
        {
            // Processes first: a worker turning ready between the two reads can only lower the difference.
            int processes = server.WorkerProcesses;
            mostStarting = Math.Max(mostStarting, processes - server.ReadyWorkers);
            return server.ReadyWorkers == cap + 4;
        }, TimeSpan.FromSeconds(60), pollMilliseconds: 5);
        output.WriteLine($"{server.ReadyWorkers} ready; at most {mostStarting} starting at once (cap {cap})");
        Assert.True(full, $"{server.ReadyWorkers} of {cap + 4} workers ready after 60 s.");
        Assert.InRange(mostStarting, 1, cap);
    }

    [Fact]
    public void Create_MaxBelowPrestarted_ThrowsArgumentException()
    {
        var options = new RpycServerOptions { Host = "127.0.0.1", Port = 0 };
        ArgumentException error = Assert.Throws<ArgumentException>(() => ForkingServer.Create<InteropService>(options,
            new ForkingServerOptions { WorkerPath = WorkerLocator.Path, PrestartedWorkers = 4, MaxPrestartedWorkers = 3 }));
        Assert.Contains("MaxPrestartedWorkers", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ForkingServer.Create<InteropService>(options,
            new ForkingServerOptions { WorkerPath = WorkerLocator.Path, PoolShrinkAfter = TimeSpan.Zero }));

        // Without an explicit maximum, a minimum above 8 is its own maximum.
        Assert.Equal(12, new ForkingServerOptions { PrestartedWorkers = 12 }.MaxPrestartedWorkers);
        using ForkingServer server = ForkingServer.Create<InteropService>(options, new ForkingServerOptions { WorkerPath = WorkerLocator.Path, PrestartedWorkers = 12 });
        Assert.Equal(12, server.PoolTarget);
    }

    [Fact]
    public async Task Stop_GrownPool_EveryWorkerExits()
    {
        using var log = new LogCapture(output);
        ForkingServer server = await StartWarmAsync(prestarted: 1, max: 4, shrinkAfter: TimeSpan.FromMinutes(10));
        List<RpycConnection> burst = [];
        try
        {
            burst = OpenBurst(server, 3, out long[] servingPids);
            Assert.True(await Eventually.TrueAsync(() => server.ReadyWorkers >= 2, s_bound), $"The pool did not grow: {server.ReadyWorkers} ready.");
            string controlPath = Processes.ControlPathOf((int)servingPids[0])!;
            IReadOnlyList<int> workers = Processes.LiveWorkersOf(controlPath);
            output.WriteLine($"before Stop: target {server.PoolTarget}, live workers {string.Join(", ", workers)}");
            Assert.True(workers.Count >= 5, $"Expected 3 serving + 2 idle workers, found {workers.Count}.");

            server.Dispose();
            Assert.True(await Eventually.TrueAsync(() => workers.All(pid => !Processes.IsLiveWorker(pid) && !IsZombieChild(pid)), s_bound),
                $"Still running or unreaped after Stop: {string.Join(", ", workers.Where(pid => Processes.IsLiveWorker(pid) || IsZombieChild(pid)))}");
            Assert.True(await Eventually.TrueAsync(() => server.WorkerProcesses == 0 && Processes.LiveWorkersOf(controlPath).Count == 0, s_bound),
                $"{server.WorkerProcesses} worker processes still counted; live: {string.Join(", ", Processes.LiveWorkersOf(controlPath))}");
        }
        finally
        {
            server.Dispose();
            burst.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task WorkerDiesAfterTheSendBeforeTakingTheConnection_AnotherWorkerServesIt()
    {
        // A descriptor in flight dies with a worker that dies before taking it, and the server closed
        // its own copy right after the send: that client was reset with its first request unread.
        using var log = new LogCapture(output);
        using ForkingServer server = await StartWarmAsync(prestarted: 2, max: 4, shrinkAfter: TimeSpan.FromMinutes(10));
        int victim = 0;
        server.FaultInjection = stage =>
        {
            // Stopped before the send, so it cannot take the descriptor; killed after it, with the
            // descriptor still queued to it.
            if (stage.StartsWith("hand-off ", StringComparison.Ordinal) && Interlocked.CompareExchange(ref victim, int.Parse(stage[9..], CultureInfo.InvariantCulture), 0) == 0)
            {
                Signal(victim, "-STOP");
            }
            else if (stage == $"handed-off {Volatile.Read(ref victim)}")
            {
                using var process = System.Diagnostics.Process.GetProcessById(victim);
                process.Kill();
                Assert.True(process.WaitForExit(s_bound), $"Worker {victim} did not exit.");
            }
        };

        using RpycConnection client = TestServers.Connect(server);
        Assert.Equal("pong", client.RootNetref.CallMethod("ping"));
        Assert.NotEqual(0, victim);
        Assert.NotEqual((long)victim, (long)client.RootNetref.CallMethod("pid")!);
        await log.WaitForAsync(l => l.Contains($"worker {victim} died before it took the connection; handing it to another.", StringComparison.Ordinal), s_bound, "about the worker that died");
        // The worker that took it confirmed it: without the confirmation each hand-off would wait its 1 s.
        Assert.DoesNotContain(log.Lines, l => l.Contains("did not confirm the connection", StringComparison.Ordinal));
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", [signal, pid.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(kill.WaitForExit(s_bound) && kill.ExitCode == 0, $"kill {signal} {pid} failed.");
    }

    [Fact]
    public async Task IdleWorkerKilled_NotCountedReady_ReplacedAndEveryClientServed()
    {
        // An idle worker that died (killed, crashed) stayed in the ready queue and counted as ready,
        // so the pool never replaced it, and the next client was handed towards a dead process.
        using ForkingServer server = await StartWarmAsync(prestarted: 2, max: 4, shrinkAfter: TimeSpan.FromMinutes(10));
        string controlPath = server.ControlPath;
        IReadOnlyList<int> idle = Processes.LiveWorkersOf(controlPath);
        Assert.Equal(2, idle.Count);
        using (var victim = System.Diagnostics.Process.GetProcessById(idle[0]))
        {
            victim.Kill();
            // Dead, not dying: this test is about the check before the hand-off (a worker that dies
            // during it is WorkerDiesAfterTheSendBeforeTakingTheConnection_AnotherWorkerServesIt).
            Assert.True(victim.WaitForExit(s_bound), $"Worker {idle[0]} did not exit.");
        }

        // Its exit may not be reported to the server yet: the client must still get a live worker.
        using RpycConnection first = TestServers.Connect(server);
        Assert.Equal("pong", first.RootNetref.CallMethod("ping"));
        Assert.NotEqual((long)idle[0], (long)first.RootNetref.CallMethod("pid")!);

        // The dead worker is not counted: the pool is back to 2 live idle workers beside the one serving.
        bool refilled = await Eventually.TrueAsync(() => server.ReadyWorkers == 2 && Processes.LiveWorkersOf(controlPath).Count == 3, s_bound);
        Assert.True(refilled, $"{server.ReadyWorkers} ready, live workers: {string.Join(", ", Processes.LiveWorkersOf(controlPath))} (killed {idle[0]}).");
        List<RpycConnection> more = OpenBurst(server, 2, out long[] pids);
        try
        {
            Assert.DoesNotContain((long)idle[0], pids);
        }
        finally
        {
            more.ForEach(c => c.Dispose());
        }
    }

    [Fact]
    public async Task WorkerConnectsBeforeItIsListed_ItIsStillTheReadyWorker_NoMiss()
    {
        // A NativeAOT worker connects to the control socket a millisecond after it starts, which can
        // be before the server has listed its process. The server then took it for a stranger,
        // closed its channel (the worker exited), and an exit reported before the listing left the
        // process listed as starting for good: the pool counted a start that never ended, and
        // clients waited. The slow JIT worker is made to win the same race by holding the server
        // between starting the process and listing it.
        using ForkingServer server = ForkingServer.Create<InteropService>(new RpycServerOptions { Host = "127.0.0.1", Port = 0 }, new ForkingServerOptions
        {
            WorkerPath = WorkerLocator.Path,
            PrestartedWorkers = 1,
            MaxPrestartedWorkers = 4,
            PoolShrinkAfter = TimeSpan.FromMinutes(10),
        });
        int held = 0;
        server.FaultInjection = stage =>
        {
            // Only the first start: long enough for the worker to start its runtime, warm up and connect.
            if (stage == "worker-started" && Interlocked.Exchange(ref held, 1) == 0)
            {
                Thread.Sleep(TimeSpan.FromSeconds(3));
            }
        };
        server.Start();
        Assert.True(await Eventually.TrueAsync(() => server.ReadyWorkers == 1, s_bound), $"{server.ReadyWorkers} workers ready, {server.WorkerProcesses} processes.");

        using (RpycConnection client = RpycConnection.Connect("127.0.0.1", server.Port))
        {
            Assert.Equal("pong", client.RootNetref.CallMethod("ping"));
        }

        // The first client found that worker ready: no miss, so the target never grew.
        Assert.Equal(1, server.PoolTarget);
    }

    [Fact]
    public async Task StartFailsWhileAClientWaits_TheNextStartServesIt()
    {
        // A worker start that failed (fork refused under a pids or memory limit) was not tried again
        // while the client that asked for it waited: it waited all of WorkerStartTimeout, then was closed.
        using var log = new LogCapture(output);
        int starts = 0;
        using ForkingServer server = StartCold(stage =>
        {
            if (stage == "start-worker" && Interlocked.Increment(ref starts) == 1)
            {
                throw new System.ComponentModel.Win32Exception(11, "injected: Resource temporarily unavailable");
            }
        });
        using RpycConnection client = RpycConnection.Connect("127.0.0.1", server.Port, s_patient);
        Assert.Equal("pong", client.RootNetref.CallMethod("ping"));
        Assert.True(Volatile.Read(ref starts) >= 2, $"{starts} start(s).");
        await log.WaitForAsync(l => l.Contains("could not start a worker process: Win32Exception: injected", StringComparison.Ordinal), s_bound, "about the failed start");
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task WorkerExitsBeforeReadyWhileAClientWaits_TheNextStartServesIt()
    {
        // The same with a worker that starts and exits before it connects (a crash at start-up, the
        // OOM killer): its exit freed the start, and nothing started another for the waiting client.
        string folder = Directory.CreateTempSubdirectory("rpyc-failing-worker-").FullName;
        try
        {
            string script = Path.Combine(folder, "worker.sh");
            string workerDll = WorkerLocator.Path;
            await File.WriteAllTextAsync(script,
                "#!/bin/sh\n" +
                $"mkdir '{folder}/failed-once' 2>/dev/null && exit 3\n" +
                $"exec '{ForkingServer.DotnetHostPath}' exec --runtimeconfig '{Path.ChangeExtension(workerDll, ".runtimeconfig.json")}' '{workerDll}' \"$@\"\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using ForkingServer server = StartCold(workerPath: script);
            using RpycConnection client = RpycConnection.Connect("127.0.0.1", server.Port, s_patient);
            Assert.Equal("pong", client.RootNetref.CallMethod("ping"));
            Assert.True(Directory.Exists(Path.Combine(folder, "failed-once")), "The first worker did not run the script.");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // A worker start takes well under 15 s even on a loaded 2-core machine; WorkerStartTimeout, which
    // the client waited out before, is longer.
    private static readonly RpycConnectOptions s_patient = new() { SyncRequestTimeout = TimeSpan.FromSeconds(15) };

    // No prestarted worker: the first client's miss asks for the first start.
    private static ForkingServer StartCold(Action<string>? faults = null, string? workerPath = null)
    {
        ForkingServer server = ForkingServer.Create<InteropService>(new RpycServerOptions { Host = "127.0.0.1", Port = 0 }, new ForkingServerOptions
        {
            WorkerPath = workerPath ?? WorkerLocator.Path,
            PrestartedWorkers = 0,
            WorkerStartTimeout = TimeSpan.FromSeconds(60),
        });
        server.FaultInjection = faults;
        return TestServers.Started(server);
    }

    private static bool ShrinkLogged(LogCapture log, ForkingServer server) => log.Lines.Any(l => IsShrinkLine(l, server));

    private static bool IsShrinkLine(string line, ForkingServer server) =>
        line.Contains($"forking pool on port {server.Port}: ", StringComparison.Ordinal) && line.Contains("no miss for", StringComparison.Ordinal);

    private static async Task<ForkingServer> StartWarmAsync(int prestarted, int max, TimeSpan shrinkAfter)
    {
        ForkingServer server = ForkingServer.Create<InteropService>(new RpycServerOptions { Host = "127.0.0.1", Port = 0 }, new ForkingServerOptions
        {
            WorkerPath = WorkerLocator.Path,
            PrestartedWorkers = prestarted,
            MaxPrestartedWorkers = max,
            PoolShrinkAfter = shrinkAfter,
        });
        try
        {
            server.Start();
            // Warm before the burst, so the first client is not a miss only because the server just started.
            Assert.True(await Eventually.TrueAsync(() => server.ReadyWorkers == prestarted, TimeSpan.FromSeconds(30)),
                $"{server.ReadyWorkers} of {prestarted} workers ready after 30 s.");
        }
        catch
        {
            server.Dispose();
            throw;
        }
        return server;
    }

    // Back to back, as a client loop would: connect, one call, next; every connection stays open.
    private static List<RpycConnection> OpenBurst(ForkingServer server, int count, out long[] pids)
    {
        var connections = new List<RpycConnection>();
        pids = new long[count];
        for (int i = 0; i < count; i++)
        {
            RpycConnection connection = TestServers.Connect(server);
            connections.Add(connection);
            Assert.Equal("pong", connection.RootNetref.CallMethod("ping"));
            pids[i] = (long)connection.RootNetref.CallMethod("pid")!;
        }
        Assert.Equal(count, pids.Distinct().Count());
        return connections;
    }

    // "... retiring N idle worker(s)."
    private static int RetiredCount(string line)
    {
        const string Marker = "retiring ";
        int start = line.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length;
        int end = line.IndexOf(' ', start);
        return int.Parse(line.AsSpan(start, end - start), CultureInfo.InvariantCulture);
    }

    // An exited child that nobody waited for: still in /proc as state Z with this process as parent.
    private static bool IsZombieChild(int pid)
    {
        try
        {
            string status = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status");
            return status.Contains("State:\tZ", StringComparison.Ordinal)
                && status.Contains($"PPid:\t{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}\n", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}
