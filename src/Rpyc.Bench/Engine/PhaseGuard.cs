namespace Rpyc.Bench;

/// <summary>
/// Keeps a stalled server from stalling the suite: every client the suite opens through
/// <see cref="Wrap"/> is tracked, and when a phase outlives its budget the clients still waiting
/// for a reply are closed (which fails their blocked call at once) and every later request of the
/// phase fails without being sent. Failures are counted as usual, so a server that stops answering
/// turns into failed requests and a partial report, never a hang. Checked every 100 ms on a timer;
/// the request path costs two volatile writes.
/// </summary>
internal sealed class PhaseGuard : IDisposable
{
    private readonly Lock _lock = new();
    private readonly HashSet<GuardedClient> _live = [];
    private readonly Timer _timer;
    private long _deadline = long.MaxValue;

    public PhaseGuard()
    {
        _timer = new Timer(_ => Check(), null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100));
    }

    /// <summary>Whether the current phase's budget is spent.</summary>
    public bool Expired => Clock.Now > Volatile.Read(ref _deadline);

    /// <summary>The phases' clients go through this target.</summary>
    public BenchTarget Wrap(BenchTarget inner) => new GuardedTarget(inner, this);

    /// <summary>Starts a phase that may last <paramref name="budget"/>.</summary>
    public void Begin(TimeSpan budget) => Volatile.Write(ref _deadline, Clock.Now + Clock.FromSeconds(budget.TotalSeconds));

    /// <summary>Ends the phase: no budget until the next <see cref="Begin"/>.</summary>
    public void End() => Volatile.Write(ref _deadline, long.MaxValue);

    private void Check()
    {
        if (!Expired)
        {
            return;
        }
        GuardedClient[] waiting;
        lock (_lock)
        {
            waiting = _live.Where(c => c.InCall).ToArray();
        }
        foreach (GuardedClient client in waiting)
        {
            client.Abort();
        }
    }

    private void Add(GuardedClient client)
    {
        lock (_lock)
        {
            _live.Add(client);
        }
    }

    private void Remove(GuardedClient client)
    {
        lock (_lock)
        {
            _live.Remove(client);
        }
    }

    public void Dispose() => _timer.Dispose();

    private sealed class GuardedTarget(BenchTarget inner, PhaseGuard guard) : BenchTarget(inner.Name, inner.Protocol, inner.Host, inner.Port)
    {
        public override BenchClient Connect()
        {
            if (guard.Expired)
            {
                throw TimeIsUp();
            }
            var client = new GuardedClient(inner.Connect(), guard);
            guard.Add(client);
            return client;
        }
    }

    private static TimeoutException TimeIsUp() =>
        new("the phase ran past its time bound (--max-phase-seconds) waiting for the server: request not sent");

    private sealed class GuardedClient(BenchClient inner, PhaseGuard guard) : BenchClient, IGuardedClient
    {
        public BenchClient Inner => inner;

        private int _inCall;
        private int _aborted;

        public bool InCall => Volatile.Read(ref _inCall) != 0;

        public override long RoundTrips => inner.RoundTrips;

        public override long? ConnectionsOpened => inner.ConnectionsOpened;

        public void Abort()
        {
            if (Interlocked.Exchange(ref _aborted, 1) == 0)
            {
                // Closing the socket wakes the thread blocked in recv(2) with an error.
                inner.Dispose();
            }
        }

        public override void Ping()
        {
            Enter();
            try
            {
                inner.Ping();
            }
            finally
            {
                Exit();
            }
        }

        public override void Echo(byte[] data)
        {
            Enter();
            try
            {
                inner.Echo(data);
            }
            finally
            {
                Exit();
            }
        }

        public override void Upload(byte[] data)
        {
            Enter();
            try
            {
                inner.Upload(data);
            }
            finally
            {
                Exit();
            }
        }

        public override void Download(int length)
        {
            Enter();
            try
            {
                inner.Download(length);
            }
            finally
            {
                Exit();
            }
        }

        public override void Compute(int n)
        {
            Enter();
            try
            {
                inner.Compute(n);
            }
            finally
            {
                Exit();
            }
        }

        public override void Sleep(double seconds)
        {
            Enter();
            try
            {
                inner.Sleep(seconds);
            }
            finally
            {
                Exit();
            }
        }

        public void Enter()
        {
            if (Volatile.Read(ref _aborted) != 0 || guard.Expired)
            {
                throw TimeIsUp();
            }
            Volatile.Write(ref _inCall, 1);
        }

        public void Exit()
        {
            Volatile.Write(ref _inCall, 0);
            if (Volatile.Read(ref _aborted) != 0)
            {
                throw new TimeoutException("the phase ran past its time bound (--max-phase-seconds): the server did not answer, the connection was closed");
            }
        }

        protected override void Dispose(bool disposing)
        {
            guard.Remove(this);
            if (Interlocked.Exchange(ref _aborted, 1) == 0)
            {
                inner.Dispose();
            }
        }
    }
}

/// <summary>A client whose calls the <see cref="PhaseGuard"/> watches; other request kinds (scenarios) bracket their calls with it.</summary>
internal interface IGuardedClient
{
    public BenchClient Inner { get; }

    public void Enter();

    public void Exit();
}
