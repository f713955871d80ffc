using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Rpyc.Servers;

namespace Rpyc;

/// <summary>
/// Serves every connection in its own OS process, as rpyc's <c>ForkingServer</c> does: a crash or
/// leak in one connection's process touches no other, and no state is shared. .NET cannot fork, so
/// worker processes are started ahead of time and warmed up; each takes exactly one accepted
/// socket (passed with <c>SCM_RIGHTS</c>) and exits when that connection closes. The pool of idle
/// workers grows while clients find none ready and shrinks when they stop (<see cref="ForkingServerOptions"/>).
/// A connection goes to a worker only once its first bytes have arrived, so idle sockets cost a
/// descriptor, not a process; at most <see cref="ForkingServerOptions.MaxWorkers"/> processes run.
/// Workers reach the server through an abstract Unix socket, which leaves no file behind whatever
/// way the process ends. Linux only.
/// </summary>
/// <example>
/// <code>
/// using var server = ForkingServer.Create&lt;CalculatorService&gt;(new RpycServerOptions { Port = 18812 });
/// server.Start();
/// </code>
/// </example>
public sealed partial class ForkingServer : RpycServer
{
    private readonly Type _serviceType;
    private readonly ForkingServerOptions _forking;
    private readonly string _controlPath;
    private readonly Socket _control;
    private readonly BlockingCollection<Worker> _ready = new();
    private readonly ConcurrentDictionary<int, Worker> _workers = new();
    // Held while a worker process is started and listed in _workers, and while a control
    // connection or an exit looks a worker up there: see StartWorker.
    private readonly object _registry = new();
    private readonly ConcurrentDictionary<int, Worker> _serving = new();
    // Clients whose first bytes arrived, in order, for the hand-off thread to give to workers.
    private readonly BlockingCollection<Socket> _handOffs = new();
    private readonly BurstLog _workersBusy;
    private readonly BurstLog _peersGone;
    private string _lastGonePeer = "";
    // Ends the hand-off thread's wait for a ready worker when the server stops.
    private readonly CancellationTokenSource _stopping = new();
    private Thread? _controlThread;
    private Thread? _handOffThread;
    // Clients queued for, or being given to, a worker (not yet in _serving).
    private int _handingOff;

    /// <summary>Creates a forking server for <paramref name="serviceType"/>, which needs a public parameterless constructor.</summary>
    /// <param name="serviceType">A public <see cref="RpycService"/> type, in any assembly the worker can load from disk.</param>
    /// <param name="options">Server settings, or <c>null</c> for 127.0.0.1 on a free port.</param>
    /// <param name="forking">Worker settings, or <c>null</c> for the defaults.</param>
    /// <exception cref="ArgumentException">The type is not a constructible <see cref="RpycService"/>, or <paramref name="forking"/> is inconsistent.</exception>
    /// <exception cref="PlatformNotSupportedException">Not on Linux.</exception>
    public ForkingServer(Type serviceType, RpycServerOptions? options = null, ForkingServerOptions? forking = null)
        : base(CheckArguments(serviceType, options, forking))
    {
        _serviceType = serviceType;
        _forking = forking ?? new ForkingServerOptions();
        _tlsSettings = Options.Tls is null ? null : new Transport.ServerTls(Options.Tls).Serialize();
        _target = _forking.PrestartedWorkers;
        _shrinkTimer = new Timer(OnShrinkTimer);
        // The counts say which limit it is: connections being served, or clients queued for a worker
        // that has not started yet (a pool that cannot start workers fast enough, or at all).
        _workersBusy = new BurstLog($"port {Port}: ", "refused", () =>
            $"all MaxWorkers ({_forking.MaxWorkers}) are taken: {_serving.Count} connections serving, {Volatile.Read(ref _handingOff)} waiting for a worker, {_workers.Count} worker processes ({RunningWorkers()} running), {LiveReady()} ready",
            BurstLog.DefaultWindow);
        _peersGone = new BurstLog($"port {Port}: ", "closed", () =>
            $"the peer was gone before a worker took it (reset, or hung up with an incomplete first frame; last: {Volatile.Read(ref _lastGonePeer)}), so no worker was spent on it",
            BurstLog.DefaultWindow);
        CleanStaleControlFiles();
        _controlPath = ForkingWorker.AbstractPrefix + $"rpyc-fork-{Environment.ProcessId}-{Guid.NewGuid():N}";
        _control = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            _control.Bind(ForkingWorker.ControlEndPoint(_controlPath));
        }
        catch
        {
            _control.Dispose();
            Stop();
            throw;
        }
    }

    // Versions before the abstract socket left rpyc-fork-<pid>-<guid>.sock in the temp folder when
    // killed; remove those of processes that no longer run (a live pid keeps its file: it may be
    // a server of an older version, or a reused pid, and an unneeded file is harmless).
    private static void CleanStaleControlFiles()
    {
        IEnumerable<string> files;
        try
        {
            files = Directory.EnumerateFiles(Path.GetTempPath(), "rpyc-fork-*.sock");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (string file in files)
        {
            string[] parts = Path.GetFileNameWithoutExtension(file).Split('-');
            if (parts.Length != 4 || !int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                || Directory.Exists($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}"))
            {
                continue;
            }
            try
            {
                File.Delete(file);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Another user's file (the temp folder is sticky), or a race with another cleaner.
            }
        }
    }

    // Runs before the base constructor binds the port, so bad arguments leave no socket behind.
    private static RpycServerOptions CheckArguments(Type serviceType, RpycServerOptions? options, ForkingServerOptions? forking)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        FdPassing.EnsureSupported();
        if (!typeof(RpycService).IsAssignableFrom(serviceType) || serviceType.GetConstructor(Type.EmptyTypes) is null || !serviceType.IsVisible)
        {
            throw new ArgumentException($"{serviceType} must be a public RpycService with a public parameterless constructor.", nameof(serviceType));
        }
        forking?.Validate(nameof(forking));
        CheckTls(options);
        return options ?? new RpycServerOptions();
    }

    /// <summary>Creates a forking server for <typeparamref name="TService"/>.</summary>
    /// <typeparam name="TService">The service type.</typeparam>
    /// <param name="options">Server settings.</param>
    /// <param name="forking">Worker settings.</param>
    /// <returns>The server, not yet started.</returns>
    public static ForkingServer Create<TService>(RpycServerOptions? options = null, ForkingServerOptions? forking = null)
        where TService : RpycService, new() => new(typeof(TService), options, forking);

    /// <inheritdoc />
    protected override int ServedConnections => _serving.Count + Volatile.Read(ref _handingOff);

    // A client counts as handing off from its admission until a worker is serving it (in _serving
    // before the hand-off thread lets go of it) or the hand-off fails.
    // MaxWorkers is checked here, under the same lock as MaxConnections, for the same reason.
    private protected override bool ReserveConnection()
    {
        if (ServedConnections >= _forking.MaxWorkers)
        {
            return false;
        }
        Interlocked.Increment(ref _handingOff);
        return true;
    }

    private protected override void RefuseAtOwnLimit(Socket client)
    {
        Refusals.Refuse(client, $"The server on port {Port} is at its worker limit: MaxWorkers ({_forking.MaxWorkers}) connections are being served or handed to workers. Try again later.");
        _workersBusy.Record();
    }

    private protected override void ReleaseConnection() => Interlocked.Decrement(ref _handingOff);

    /// <summary>
    /// The <c>dotnet</c> host that starts worker processes (from <c>DOTNET_HOST_PATH</c>, this process,
    /// <c>DOTNET_ROOT</c> or the running runtime); tools that start .NET programs can use the same.
    /// </summary>
    public static string DotnetHostPath => WorkerLauncher.DotnetHost();

    /// <summary>Worker processes started and not yet exited (serving or waiting for a connection).</summary>
    public int WorkerProcesses => _workers.Count;

    /// <summary>The control socket's address as every worker's command line names it (<c>@</c> marks the abstract namespace; tests find the workers by it).</summary>
    internal string ControlPath => _controlPath;

    /// <inheritdoc />
    protected override void OnStarting()
    {
        _control.Listen(64);
        _controlThread = new Thread(AcceptWorkers) { IsBackground = true, Name = "rpyc-fork-control" };
        _controlThread.Start();
        _handOffThread = new Thread(HandOffLoop) { IsBackground = true, Name = "rpyc-fork-handoff" };
        _handOffThread.Start();
        StartWorkers(ReserveStarts(), throwOnFailure: true);
    }

    // The caller has reserved this start (ReserveStarts).
    private void StartWorker()
    {
        if (IsStopped)
        {
            return;
        }
        ProcessStartInfo start = WorkerLauncher.StartInfo(_forking.WorkerPath);
        foreach (string arg in ForkingWorker.WorkerArguments.Format(_controlPath, _serviceType, Options.ConnectionOptions, Options.HandshakeTimeout, Options.IdleTimeout))
        {
            start.ArgumentList.Add(arg);
        }
        PrepareTls(start);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                RpycLog.Warn($"worker {SafeId(process)}: {e.Data}");
            }
        };
        process.Exited += (_, _) => OnWorkerExited(process);
        lock (_registry)
        {
            // Started and listed as one step: a NativeAOT worker can connect to the control socket,
            // or even exit, within a millisecond, and its connection or exit must find it listed.
            process.Start();
            // Tests widen the window between the two here.
            InjectFault("worker-started");
            lock (_pool)
            {
                _workers[process.Id] = new Worker(process);
                _unstarted--;
            }
        }
        SendTls(process);
        process.BeginErrorReadLine();
        if (IsStopped)
        {
            // Stop may have listed the workers before this one was added.
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
        }
    }

    // Listed workers whose process still runs: fewer than listed means exits not seen yet.
    private int RunningWorkers() => _workers.Keys.Count(pid => ProcessRuns(pid));

    private static bool ProcessRuns(int pid)
    {
        try
        {
            // Field 3 of /proc/PID/stat is the state; Z is an exited process not yet reaped.
            string stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            int close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] != 'Z';
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static int SafeId(Process process)
    {
        try
        {
            return process.Id;
        }
        catch (InvalidOperationException)
        {
            return 0;
        }
    }

    // Workers connect to the control socket once warm; that connection is their "ready" signal.
    private void AcceptWorkers()
    {
        TimeSpan backoff = TimeSpan.Zero;
        while (!IsStopped)
        {
            Socket channel;
            try
            {
                channel = _control.Accept();
                backoff = TimeSpan.Zero;
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Out of descriptors, accept fails at once: pause as the TCP accept loop does, not
                // spin a core until one is free (a stopping server's disposed socket ends the loop).
                if (!IsStopped)
                {
                    backoff = NextAcceptBackoff(backoff);
                    Thread.Sleep(backoff);
                }
                continue;
            }
            var credentials = PeerProcessId(channel);
            Worker? worker = null;
            if (credentials is int pid)
            {
                // Waits for a StartWorker that has started this process but not listed it yet.
                lock (_registry)
                {
                    _workers.TryGetValue(pid, out worker);
                }
            }
            if (worker is not null)
            {
                worker.Channel = channel;
                OnWorkerReady(worker);
            }
            else
            {
                // Not one of ours: anyone can connect to a path in /tmp.
                channel.Dispose();
            }
        }
    }

    private static int? PeerProcessId(Socket channel)
    {
        // SO_PEERCRED: struct ucred { pid_t pid; uid_t uid; gid_t gid; }
        byte[] cred = new byte[12];
        try
        {
            channel.GetRawSocketOption(1, 17, cred);
        }
        catch (SocketException)
        {
            return null;
        }
        return BitConverter.ToInt32(cred, 0);
    }

    /// <inheritdoc />
    protected override void OnAccepted(Socket client, TimeSpan firstFrameTimeout)
    {
        // The worker gives the first frame its own HandshakeTimeout from when it takes the socket.
        try
        {
            _handOffs.Add(client);
        }
        catch (Exception ex)
        {
            // Stopped (InvalidOperationException: the queue takes no more), or out of memory, which
            // RpycServer logs once it has closed the connection.
            ReleaseConnection();
            client.Dispose();
            if (ex is not InvalidOperationException)
            {
                throw;
            }
        }
    }

    // One thread gives the clients to workers in arrival order; waiting here for a worker to start
    // holds up neither accept nor the other connections' first bytes.
    private void HandOffLoop()
    {
        try
        {
            foreach (Socket client in _handOffs.GetConsumingEnumerable(_stopping.Token))
            {
                try
                {
                    HandOff(client);
                }
                catch (Exception ex)
                {
                    // Out of memory too: an exception escaping this thread would end the server.
                    RecordConnectionFailure("a connection being handed to a worker", ex);
                }
                finally
                {
                    Interlocked.Decrement(ref _handingOff);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void HandOff(Socket client)
    {
        using (client)
        {
            while (!PeerGone(client) && TakeReadyWorker(client) is Worker worker)
            {
                if (PeerGone(client))
                {
                    // Gone while this worker started: it stays ready for the next client.
                    _ready.Add(worker);
                    break;
                }
                // Before the hand-off: a worker whose client hangs up at once can exit right after it, and
                // its exit must find it here, or it would count as serving for good.
                _serving[worker.Pid] = worker;
                FdPassing.Taken taken;
                try
                {
                    Action? sent = null;
                    if (FaultInjection is not null)
                    {
                        InjectFault($"hand-off {worker.Pid}");
                        sent = () => InjectFault($"handed-off {worker.Pid}");
                    }
                    taken = FdPassing.HandOver(worker.Channel!, client, s_takenTimeout, sent);
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                    _serving.TryRemove(worker.Pid, out _);
                    RpycLog.Warn($"worker {worker.Pid} did not take the connection: {ex.Message}");
                    continue;
                }
                catch
                {
                    // Whatever else failed, this worker is not serving: an entry left here would
                    // count against MaxWorkers for as long as the server runs.
                    _serving.TryRemove(worker.Pid, out _);
                    throw;
                }
                switch (taken)
                {
                    case FdPassing.Taken.No:
                        // Died between the send and taking it: this copy is the connection's last.
                        _serving.TryRemove(worker.Pid, out _);
                        RpycLog.Warn($"worker {worker.Pid} died before it took the connection; handing it to another.");
                        continue;
                    case FdPassing.Taken.Unknown:
                        RpycLog.Warn($"worker {worker.Pid} did not confirm the connection within {s_takenTimeout.TotalSeconds:0} s; leaving it to that worker (a worker of an Rpyc version before the confirmation never does: use one built from this server's version).");
                        break;
                }
                // Top the pool up, but a moment later and off this thread: a starting runtime
                // takes a whole core, and the new client's first call should not compete with it.
                _ = Task.Delay(_forking.ReplacementDelay).ContinueWith(_ => TopUp(), TaskScheduler.Default);
                return;
            }
            if (PeerGone(client))
            {
                Volatile.Write(ref _lastGonePeer, PeerOf(client));
                _peersGone.Record();
            }
            else if (!IsStopped)
            {
                RpycLog.Warn($"no worker process was ready within {_forking.WorkerStartTimeout.TotalSeconds:0} s; closing {client.RemoteEndPoint}.");
            }
        }
    }

    // A ready worker waits in recvmsg and answers within microseconds; this bounds how long one that
    // is stopped or starved holds up the hand-off thread (every later client waits behind it).
    private static readonly TimeSpan s_takenTimeout = TimeSpan.FromSeconds(1);

    // The address accept(2) gave: a reset socket has no peer for getpeername(2) any more.
    private static string PeerOf(Socket client)
    {
        try
        {
            return client.RemoteEndPoint?.ToString() ?? "?";
        }
        catch (SocketException)
        {
            return "?";
        }
    }

    private bool PeerGone(Socket client) => GonePeer.IsGone(client, _tlsSettings is not null);

    // Null when no worker was ready in time, the server stops, or the client is gone meanwhile.
    private Worker? TakeReadyWorker(Socket client)
    {
        bool missed = false;
        long deadline = 0;
        while (true)
        {
            if (!_ready.TryTake(out Worker? worker))
            {
                if (!missed)
                {
                    missed = true;
                    // Negative is InfiniteTimeSpan, as BlockingCollection's wait took it.
                    deadline = _forking.WorkerStartTimeout < TimeSpan.Zero
                        ? long.MaxValue
                        : Environment.TickCount64 + (long)_forking.WorkerStartTimeout.TotalMilliseconds;
                    RecordMiss();
                    // Right away and on this thread: this client is already waiting for one of them.
                    TopUp();
                }
                worker = WaitForReadyWorker(deadline, client);
                if (worker is null)
                {
                    return null;
                }
            }
            if (IsAlive(worker))
            {
                return worker;
            }
            // Died while idle (killed, crashed) before its exit was seen: the client would have
            // gone to a dead worker. Dropped; its exit, or this, starts a replacement.
            RpycLog.Warn($"worker {worker.Pid} died while idle; handing the connection to another.");
            worker.Channel?.Dispose();
            TopUp();
        }
    }

    // An idle worker never writes on its channel (it writes once, to acknowledge the connection it
    // was given), so a readable channel is one whose worker has gone (end of stream): its process
    // closed it in dying, before the exit can be reported.
    private static bool IsAlive(Worker worker)
    {
        if (worker.Exited || worker.Channel is not Socket channel)
        {
            return false;
        }
        try
        {
            return !channel.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    // The first retry's pause while a client waits; it doubles up to the last.
    private static readonly TimeSpan s_firstRetry = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan s_lastRetry = TimeSpan.FromSeconds(4);

    // Until a worker is ready, the deadline passes or the server stops. A start that failed (fork
    // refused under a pids or memory limit) or a worker that exited before it was ready frees its
    // start and leaves nothing on the way for this client, which then waited all of
    // WorkerStartTimeout: so the pool is topped up again after each pause. TopUp starts only what
    // ready and starting workers lack, so starts still on their way are not doubled; the pauses
    // grow, so a worker that can never start is retried a few times per waiting client, not in a loop.
    private Worker? WaitForReadyWorker(long deadline, Socket client)
    {
        TimeSpan retry = s_firstRetry;
        while (true)
        {
            long left = deadline == long.MaxValue ? long.MaxValue : deadline - Environment.TickCount64;
            if (left <= 0)
            {
                return null;
            }
            int wait = (int)Math.Min(left, (long)retry.TotalMilliseconds);
            try
            {
                if (_ready.TryTake(out Worker? worker, wait, _stopping.Token))
                {
                    return worker;
                }
            }
            catch (OperationCanceledException)
            {
                return null;
            }
            if (PeerGone(client))
            {
                return null;
            }
            TopUp();
            retry = retry < s_lastRetry ? retry * 2 : s_lastRetry;
        }
    }

    private void OnWorkerExited(Process process)
    {
        int id = SafeId(process);
        Worker? worker;
        // As AcceptWorkers: a worker that exits at once may be reported before StartWorker listed
        // it, and would otherwise stay listed, and counted as starting, for good.
        lock (_registry)
        {
            _workers.TryRemove(id, out worker);
        }
        if (worker is not null)
        {
            OnWorkerGone(worker);
            worker.Channel?.Dispose();
        }
        _serving.TryRemove(id, out _);
        _ = DisposeWhenDrainedAsync(process);
        // An idle worker that died leaves the pool short: no longer counted ready, it is replaced
        // now, not when the next client misses (TopUp starts only what the pool lacks).
        if (!IsStopped)
        {
            ThreadPool.QueueUserWorkItem(_ => TopUp());
        }
    }

    // Exited can run before the last stderr lines (a FailFast message, a crash's stack) were read,
    // and disposing at once would drop them. This handler runs on a thread-pool thread, and waiting
    // there (WaitForExit) held it until the pipe's reader, itself a thread-pool work item, had run:
    // with the pool at its minimum (one thread per core) a few workers exiting together can hold
    // every pool thread, so that the exits queued behind them go unseen and no top-up runs. That is
    // the state in which the server refused every client as if MaxWorkers were serving ("64
    // connections serving, 64 worker processes, 0 ready", 3 of 29 rpycbench runs on 2 cores; the
    // chain is inferred, not traced: none of 28 runs failed after this change). Awaited, the wait
    // holds no thread.
    private static async Task DisposeWhenDrainedAsync(Process process)
    {
        try
        {
            await process.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
        }
        process.Dispose();
    }

    /// <inheritdoc />
    protected override void OnStopping()
    {
        StopPool();
        _stopping.Cancel();
        _handOffs.CompleteAdding();
        _handOffThread?.Join(TimeSpan.FromSeconds(5));
        while (_handOffs.TryTake(out Socket? queued))
        {
            queued.Dispose();
            Interlocked.Decrement(ref _handingOff);
        }
        _control.Dispose();
        // Closing a worker's channel asks it to close its connection (it sends CLOSE, as rpyc does).
        foreach (Worker worker in _workers.Values)
        {
            worker.Channel?.Dispose();
        }
        long deadline = Environment.TickCount64 + 3000;
        foreach (Worker worker in _workers.Values)
        {
            int left = (int)Math.Max(0, deadline - Environment.TickCount64);
            try
            {
                if (!worker.Process.WaitForExit(left))
                {
                    worker.Process.Kill(entireProcessTree: true);
                    worker.Process.WaitForExit(1000);
                }
            }
            catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
            }
        }
        _workersBusy.Dispose();
        _peersGone.Dispose();
    }

    private sealed class Worker(Process process)
    {
        public Process Process { get; } = process;

        // Kept apart from Process: Process.Id throws once the process object is disposed at exit.
        public int Pid { get; } = process.Id;

        public Socket? Channel { get; set; }

        // Started but not yet connected to the control socket; guarded by _pool.
        public bool Starting { get; set; } = true;

        private volatile bool _exited;

        // Set on a Process.Exited thread, read on the accept thread.
        public bool Exited
        {
            get => _exited;
            set => _exited = value;
        }
    }
}
