namespace Rpyc.Bench;

/// <summary>
/// The CPU time of a set of threads, to the nanosecond: each thread registers itself on start and
/// leaves on exit (banking its final figure), and <see cref="TotalSeconds"/> reads the live ones through
/// their POSIX CPU clocks (<c>pthread_getcpuclockid</c>). Linux only; elsewhere the total is NaN.
/// </summary>
internal sealed class ThreadCpuClock
{
    private readonly Lock _lock = new();
    private readonly HashSet<int> _live = [];
    private long _exitedNanos;

    /// <summary>CPU seconds of every thread registered so far, live or exited; NaN off Linux.</summary>
    public double TotalSeconds
    {
        get
        {
            if (!OperatingSystem.IsLinux())
            {
                return double.NaN;
            }
            // Under the lock a live thread cannot exit, so its clock id stays valid while read.
            lock (_lock)
            {
                long nanos = _exitedNanos;
                foreach (int clockId in _live)
                {
                    nanos += Read(clockId);
                }
                return nanos / 1e9;
            }
        }
    }

    /// <summary>Registers the calling thread; dispose the result on the same thread as it exits.</summary>
    public Registration Enter()
    {
        int clockId = OperatingSystem.IsLinux() ? LinuxClock.CurrentThreadCpuClock() : -1;
        if (clockId == -1)
        {
            return new Registration(this, -1);
        }
        lock (_lock)
        {
            _live.Add(clockId);
        }
        return new Registration(this, clockId);
    }

    private void Leave(int clockId)
    {
        if (clockId == -1)
        {
            return;
        }
        lock (_lock)
        {
            _exitedNanos += Read(clockId);
            _live.Remove(clockId);
        }
    }

    private static long Read(int clockId) => LinuxClock.ReadNanos(clockId);

    /// <summary>One thread's registration; disposing it banks the thread's CPU time.</summary>
    internal readonly struct Registration(ThreadCpuClock owner, int clockId) : IDisposable
    {
        public void Dispose() => owner.Leave(clockId);
    }
}
