using Rpyc.Servers;

namespace Rpyc.Tests;

public sealed class ConnectionThreadsTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public void Run_AfterWorkEnds_NextWorkReusesTheThread()
    {
        using var threads = new ConnectionThreads("test-conn");
        Thread? first = null;
        Thread? second = null;
        using var done = new ManualResetEventSlim();
        threads.Run(() => first = Thread.CurrentThread);
        Assert.True(SpinWait.SpinUntil(() => threads.IdleCount == 1, s_timeout), "the thread did not park after its work");
        threads.Run(() =>
        {
            second = Thread.CurrentThread;
            done.Set();
        });
        Assert.True(done.Wait(s_timeout));
        Assert.Same(first, second);
        Assert.Equal("test-conn", second!.Name);
        Assert.True(second.IsBackground);
    }

    [Fact]
    public void Dispose_IdleThreads_End()
    {
        var threads = new ConnectionThreads("test-conn");
        Thread? worker = null;
        threads.Run(() => worker = Thread.CurrentThread);
        Assert.True(SpinWait.SpinUntil(() => threads.IdleCount == 1, s_timeout));
        threads.Dispose();
        Assert.True(worker!.Join(s_timeout), "an idle thread outlived Dispose");
        Assert.Equal(0, threads.IdleCount);
        // Work given after Dispose still runs, on a thread that ends with it.
        Thread? late = null;
        using var done = new ManualResetEventSlim();
        threads.Run(() =>
        {
            late = Thread.CurrentThread;
            done.Set();
        });
        Assert.True(done.Wait(s_timeout));
        Assert.True(late!.Join(s_timeout));
    }

    [Fact]
    public void Run_BurstOverMaxIdle_KeepsAtMostMaxIdle()
    {
        using var threads = new ConnectionThreads("test-conn");
        int count = ConnectionThreads.MaxIdle + 4;
        using var release = new ManualResetEventSlim();
        using var started = new CountdownEvent(count);
        var seen = new HashSet<Thread>();
        for (int i = 0; i < count; i++)
        {
            threads.Run(() =>
            {
                lock (seen)
                {
                    seen.Add(Thread.CurrentThread);
                }
                started.Signal();
                release.Wait(s_timeout);
            });
        }
        Assert.True(started.Wait(s_timeout));
        Assert.Equal(count, seen.Count);
        release.Set();
        Assert.True(SpinWait.SpinUntil(() => threads.IdleCount == ConnectionThreads.MaxIdle, s_timeout));
        Assert.True(SpinWait.SpinUntil(() => seen.Count(t => !t.IsAlive) == 4, s_timeout), "the threads beyond MaxIdle did not end");
    }

    [Fact]
    public void Run_WorkThrows_ThreadServesTheNextWork()
    {
        using var threads = new ConnectionThreads("test-conn");
        threads.Run(() => throw new InvalidOperationException("boom"));
        Assert.True(SpinWait.SpinUntil(() => threads.IdleCount == 1, s_timeout));
        using var done = new ManualResetEventSlim();
        threads.Run(done.Set);
        Assert.True(done.Wait(s_timeout));
    }
}
