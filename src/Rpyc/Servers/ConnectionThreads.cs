namespace Rpyc.Servers;

// The threads of a ThreadedServer's connections, one per connection as before, but kept after their
// connection ends to serve the next: starting a thread (clone, the runtime's set-up of it, its name
// written to /proc) cost a client that connects, calls once and hangs up a few hundred microseconds
// on every connection, more than the call itself (issue 11, connect + first call). At most MaxIdle
// threads wait, each for at most IdleLifetime, so a burst leaves no crowd of threads behind.
internal sealed class ConnectionThreads : IDisposable
{
    public const int MaxIdle = 16;

    public static readonly TimeSpan IdleLifetime = TimeSpan.FromSeconds(30);

    private readonly object _gate = new();
    private readonly List<Worker> _idle = [];
    private readonly string _name;
    private bool _disposed;

    public ConnectionThreads(string name) => _name = name;

    /// <summary>Threads waiting for a connection now (tests).</summary>
    public int IdleCount
    {
        get
        {
            lock (_gate)
            {
                return _idle.Count;
            }
        }
    }

    /// <summary>Runs <paramref name="work"/> on an idle thread, or on a new one.</summary>
    public void Run(Action work)
    {
        lock (_gate)
        {
            if (_idle.Count > 0)
            {
                Worker worker = _idle[^1];
                _idle.RemoveAt(_idle.Count - 1);
                worker.Assign(work);
                return;
            }
        }
        var created = new Worker(this);
        new Thread(() => created.Loop(work)) { IsBackground = true, Name = _name }.Start();
    }

    // Called by a worker whose work is done: parks it, or false when it should end.
    private bool Park(Worker worker)
    {
        lock (_gate)
        {
            if (_disposed || _idle.Count >= MaxIdle)
            {
                return false;
            }
            _idle.Add(worker);
            return true;
        }
    }

    // Called by a worker whose wait timed out: false when it was taken in the meantime (work follows).
    private bool TryLeave(Worker worker)
    {
        lock (_gate)
        {
            return _idle.Remove(worker);
        }
    }

    /// <summary>Ends the idle threads; the busy ones end when their connection does.</summary>
    public void Dispose()
    {
        Worker[] idle;
        lock (_gate)
        {
            _disposed = true;
            idle = [.. _idle];
            _idle.Clear();
        }
        foreach (Worker worker in idle)
        {
            worker.Assign(null);
        }
    }

    private sealed class Worker(ConnectionThreads owner)
    {
        private readonly SemaphoreSlim _signal = new(0);
        private Action? _work;

        public void Assign(Action? work)
        {
            Volatile.Write(ref _work, work);
            _signal.Release();
        }

        public void Loop(Action first)
        {
            Action? work = first;
            while (work is not null)
            {
                try
                {
                    work();
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // The work catches its own failures; this thread must outlive any it missed.
                    RpycLog.Warn($"a connection thread's work failed: {ex.Message}");
                }
                work = Next();
            }
            _signal.Dispose();
        }

        private Action? Next()
        {
            if (!owner.Park(this))
            {
                return null;
            }
            if (!_signal.Wait(IdleLifetime))
            {
                if (owner.TryLeave(this))
                {
                    return null;
                }
                // Taken just as the wait timed out: consume the assignment's signal.
                _signal.Wait();
            }
            return Interlocked.Exchange(ref _work, null);
        }
    }
}
