using System.Diagnostics;

namespace Rpyc;

// The adaptive pool of idle warm workers. A miss (an accepted client finds no ready worker) doubles
// the target, up to MaxPrestartedWorkers; PoolShrinkAfter without a miss halves it, down to
// PrestartedWorkers, and retires the surplus idle workers. _pool guards the target, the count of
// starting workers and the hand-over from starting to ready; it is never held across a process
// start or a blocking wait, so Stop cannot deadlock on it.
public sealed partial class ForkingServer
{
    // Timer.Change takes at most 0xFFFFFFFE ms.
    private static readonly TimeSpan s_longestTimer = TimeSpan.FromDays(49);

    // A starting runtime keeps a core busy for ~0.1 s. Starting more at once than there are cores
    // makes no more workers per second; the cores are shared, so it only delays the first worker a
    // waiting client gets (8 at once on 2 cores: all ready after ~0.4 s instead of 2 every ~0.1 s).
    // The held-back starts go as earlier ones become ready.
    private static readonly int s_concurrentStarts = Math.Max(2, Environment.ProcessorCount);

    private readonly object _pool = new();
    private readonly Timer _shrinkTimer;
    private int _target;
    private int _starting;
    // Starts reserved whose process is not in _workers yet: with _workers.Count, what MaxWorkers caps.
    private int _unstarted;
    private long _lastPoolChange;

    /// <summary>
    /// How many idle warm workers the pool aims to keep now: <see cref="ForkingServerOptions.PrestartedWorkers"/>,
    /// grown while clients find none ready and shrunk again when they stop doing so.
    /// </summary>
    public int PoolTarget => Volatile.Read(ref _target);

    /// <summary>Idle workers connected and waiting for a connection (tests and diagnostics).</summary>
    internal int ReadyWorkers => LiveReady();

    // Ready workers whose exit has not been seen. An idle worker that dies stays in _ready until a
    // client takes it (and TakeReadyWorker drops it); counted ready, it kept the pool from starting
    // its replacement.
    private int LiveReady()
    {
        int live = 0;
        foreach (Worker worker in _ready)
        {
            if (!worker.Exited)
            {
                live++;
            }
        }
        return live;
    }

    private void RecordMiss()
    {
        lock (_pool)
        {
            if (IsStopped)
            {
                return;
            }
            _lastPoolChange = Stopwatch.GetTimestamp();
            int grown = Math.Min(_forking.MaxPrestartedWorkers, Math.Max(1, _target * 2));
            if (grown > _target)
            {
                RpycLog.Warn($"forking pool on port {Port}: target {_target} -> {grown}: a client found no ready worker.");
                Volatile.Write(ref _target, grown);
            }
            if (_target > _forking.PrestartedWorkers)
            {
                ArmShrinkTimer(_forking.PoolShrinkAfter);
            }
        }
    }

    // Reserves the starts that bring ready + starting up to the target, as many as may run at once;
    // the caller starts them.
    private int ReserveStarts()
    {
        lock (_pool)
        {
            if (IsStopped)
            {
                return 0;
            }
            int deficit = Math.Min(_target - LiveReady() - _starting, s_concurrentStarts - _starting);
            deficit = Math.Min(deficit, _forking.MaxWorkers - _workers.Count - _unstarted);
            if (deficit <= 0)
            {
                return 0;
            }
            _starting += deficit;
            _unstarted += deficit;
            return deficit;
        }
    }

    private void ReleaseStarts(int count)
    {
        lock (_pool)
        {
            _starting -= count;
            _unstarted -= count;
        }
    }

    private void TopUp() => StartWorkers(ReserveStarts(), throwOnFailure: false);

    private void StartWorkers(int reserved, bool throwOnFailure)
    {
        while (reserved > 0)
        {
            reserved--;
            try
            {
                InjectFault("start-worker");
                StartWorker();
            }
            catch (Exception ex)
            {
                // Out of memory too: this runs on timer and thread-pool threads, where an exception
                // would end the process; the next miss or hand-off tries again.
                ReleaseStarts(throwOnFailure ? reserved + 1 : 1);
                if (throwOnFailure)
                {
                    throw;
                }
                LogStartFailure(ex);
            }
        }
    }

    private void LogStartFailure(Exception ex)
    {
        try
        {
            RpycLog.Warn($"could not start a worker process: {ex.GetType().Name}: {ex.Message}");
        }
        catch (OutOfMemoryException)
        {
        }
    }

    // Runs on the control thread: a starting worker connected, so it moves to the ready queue.
    private void OnWorkerReady(Worker worker)
    {
        bool belowTarget;
        lock (_pool)
        {
            if (!worker.Starting)
            {
                // It exited between connecting and this line.
                worker.Channel?.Dispose();
                return;
            }
            worker.Starting = false;
            _starting--;
            _ready.Add(worker);
            belowTarget = LiveReady() + _starting < _target;
        }
        if (belowTarget)
        {
            // A start slot is free: the starts held back by s_concurrentStarts go now, off this thread.
            ThreadPool.QueueUserWorkItem(_ => TopUp());
        }
    }

    // Runs on a Process.Exited thread.
    private void OnWorkerGone(Worker worker)
    {
        lock (_pool)
        {
            worker.Exited = true;
            if (worker.Starting)
            {
                worker.Starting = false;
                _starting--;
            }
        }
    }

    private void OnShrinkTimer(object? state)
    {
        var retired = new List<Worker>();
        lock (_pool)
        {
            if (IsStopped)
            {
                return;
            }
            TimeSpan quiet = Stopwatch.GetElapsedTime(_lastPoolChange);
            if (quiet < _forking.PoolShrinkAfter)
            {
                ArmShrinkTimer(_forking.PoolShrinkAfter - quiet);
                return;
            }
            int before = _target;
            Volatile.Write(ref _target, Math.Max(_forking.PrestartedWorkers, _target / 2));
            _lastPoolChange = Stopwatch.GetTimestamp();
            // Only idle workers retire; starting ones join the queue and go at the next tick.
            int surplus = LiveReady() + _starting - _target;
            while (surplus > 0 && _ready.TryTake(out Worker? idle))
            {
                // A dead one taken here is dropped, not counted as retired.
                if (!idle.Exited)
                {
                    surplus--;
                    retired.Add(idle);
                }
            }
            if (before != _target || retired.Count > 0)
            {
                RpycLog.Warn($"forking pool on port {Port}: target {before} -> {_target}: no miss for {_forking.PoolShrinkAfter.TotalSeconds:0.#} s; retiring {retired.Count} idle worker(s).");
            }
            if (_target > _forking.PrestartedWorkers || LiveReady() + _starting > _target)
            {
                ArmShrinkTimer(_forking.PoolShrinkAfter);
            }
        }
        // An idle worker waits in recvmsg on its channel; end of stream makes it exit (ForkingWorker.Run).
        foreach (Worker idle in retired)
        {
            idle.Channel?.Dispose();
        }
    }

    private void ArmShrinkTimer(TimeSpan due) => _shrinkTimer.Change(due < s_longestTimer ? due : s_longestTimer, Timeout.InfiniteTimeSpan);

    private void StopPool()
    {
        lock (_pool)
        {
            _shrinkTimer.Dispose();
        }
    }
}
