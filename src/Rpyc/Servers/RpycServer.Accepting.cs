using System.Diagnostics;
using System.Net.Sockets;

namespace Rpyc;

// The accepting threads. A ForkingServer has one: it hands each connection on (to a worker
// process) without blocking. A ThreadedServer's accepting thread serves a connection whose first
// bytes are already there itself, and the other idle accepting threads, all waiting in accept(2),
// take the next connections: the kernel wakes one of them per connection, so connect + first call
// costs no hand-off to another thread (a futex wake and a context switch, ~20 us of the
// ~130 us connect + first call on the 2-vCPU VM of issue 11), as the raw TCP floor's server does.
// A connection that is silent at accept still goes to the pending connections' thread, so silent
// peers cannot hold the accepting threads.
public abstract partial class RpycServer
{
    // Accepting threads left waiting after their connection ends; more exit. An idle one costs its stack.
    internal const int MaxIdleAcceptors = 16;

    private readonly Lock _acceptorsGate = new();
    private readonly List<Thread> _acceptors = [];
    // Accepting threads not serving a connection (waiting in accept, or about to).
    private int _idleAcceptors;

    /// <summary>Accepting threads alive now, serving or waiting (tests).</summary>
    internal int AcceptorCount
    {
        get
        {
            lock (_acceptorsGate)
            {
                return _acceptors.Count;
            }
        }
    }

    /// <summary>
    /// Whether the accepting thread serves a connection whose first bytes are there at accept
    /// itself (<see cref="ServeOnAcceptingThread"/>), leaving the next accepts to the others.
    /// </summary>
    private protected virtual bool AcceptorsServe => false;

    /// <summary>
    /// Serves a connection on the thread that accepted it, until it ends; only when
    /// <see cref="AcceptorsServe"/>. Nothing may escape it. The default hands it on.
    /// </summary>
    /// <param name="client">The accepted socket, its first bytes there.</param>
    /// <param name="firstFrameTimeout">What is left of the handshake timeout for the first frame.</param>
    private protected virtual void ServeOnAcceptingThread(Socket client, TimeSpan firstFrameTimeout) => OnAccepted(client, firstFrameTimeout);

    /// <param name="refill">
    /// Started because the last idle accepting thread took a connection: only if none is idle yet
    /// when it runs. Threads that finished their connections may have become idle meanwhile, and
    /// starting one more then would leave MaxIdleAcceptors + 1 (a CI failure after a burst).
    /// </param>
    private void StartAcceptor(bool refill = false)
    {
        var thread = new Thread(AcceptLoop) { IsBackground = true, Name = $"rpyc-accept:{Port}" };
        lock (_acceptorsGate)
        {
            if (IsStopped)
            {
                return;
            }
            if (refill)
            {
                // 0 -> 1 atomically: a thread going back to idle increments without this lock.
                if (Interlocked.CompareExchange(ref _idleAcceptors, 1, 0) != 0)
                {
                    return;
                }
            }
            else
            {
                Interlocked.Increment(ref _idleAcceptors);
            }
            _acceptors.Add(thread);
            try
            {
                // Under the lock, so Stop never finds one in the list that it cannot join yet.
                thread.Start();
            }
            catch (Exception ex) when (ex is OutOfMemoryException or ThreadStartException)
            {
                // No thread to be had (a pids limit reached by a flood, or memory): this call may run
                // on the thread pool, where an exception ends the process. The server goes on with
                // the accepting threads it has; each is idle again once its connection is served.
                _acceptors.Remove(thread);
                Interlocked.Decrement(ref _idleAcceptors);
                RpycLog.Warn($"port {Port}: could not start an accepting thread: {ex.Message}");
            }
        }
    }

    // The accept loops' pause after a failed accept: 5 ms, doubling to 1 s. Out of descriptors
    // (EMFILE) or buffers, accept fails at once until something closes: back off instead of
    // spinning, as Go's net/http does.
    internal static TimeSpan NextAcceptBackoff(TimeSpan backoff) =>
        backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(5) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.TicksPerSecond));

    private void AcceptLoop()
    {
        try
        {
            TimeSpan backoff = TimeSpan.Zero;
            while (!IsStopped)
            {
                Socket? serveHere = AcceptOne(ref backoff);
                if (serveHere is null)
                {
                    continue;
                }
                // This thread leaves the idle ones while it serves; the last to leave has another
                // started, by the thread pool, off this connection's path.
                if (Interlocked.Decrement(ref _idleAcceptors) == 0)
                {
                    ThreadPool.UnsafeQueueUserWorkItem(static server => server.StartAcceptor(refill: true), this, preferLocal: false);
                }
                OnFirstBytes(serveHere, Options.HandshakeTimeout, serveHere: true);
                if (Interlocked.Increment(ref _idleAcceptors) > MaxIdleAcceptors)
                {
                    Interlocked.Decrement(ref _idleAcceptors);
                    return;
                }
            }
        }
        finally
        {
            lock (_acceptorsGate)
            {
                _acceptors.Remove(Thread.CurrentThread);
            }
        }
    }

    // Accepts one connection and places it: pending (silent), handed on, or returned for this
    // thread to serve. Nothing escapes: whatever fails (EMFILE, an OutOfMemoryException under a heap
    // limit, a bug) ends that connection only, since an exception on this thread would end the process.
    private Socket? AcceptOne(ref TimeSpan backoff)
    {
        Socket? client = null;
        try
        {
            client = _listener.Accept();
            backoff = TimeSpan.Zero;
            InjectFault("accept");
            client.NoDelay = Options.ConnectionOptions.NoDelay;
            if (!FirstBytesArrived(client))
            {
                _pending!.Add(client);
                return null;
            }
            Interlocked.Increment(ref _handedOnAtAccept);
            if (AcceptorsServe)
            {
                return client;
            }
            OnFirstBytes(client, Options.HandshakeTimeout);
            return null;
        }
        catch (Exception ex)
        {
            client?.Dispose();
            if (IsStopped)
            {
                return null;
            }
            RecordAcceptFailure(ex);
            if (client is null)
            {
                backoff = NextAcceptBackoff(backoff);
                Thread.Sleep(backoff);
            }
            return null;
        }
    }

    // A client speaks at once (rpyc's first request follows its connect), so its first bytes are
    // often here by the time accept returns, or within the server's ReceiveSpin: such a connection
    // is served at once instead of through the pending connections' thread, one thread wake-up
    // less on every connection. The poll lasts at most ReceiveSpin (0 by default: one look), so a
    // silent peer holds up this thread no longer than that, and goes to the pending connections.
    private bool FirstBytesArrived(Socket client)
    {
        long spin = (long)(Options.ConnectionOptions.ReceiveSpin.TotalSeconds * Stopwatch.Frequency);
        long start = Stopwatch.GetTimestamp();
        while (client.Available == 0)
        {
            if (Stopwatch.GetTimestamp() - start >= spin)
            {
                return false;
            }
            Thread.Yield();
        }
        return true;
    }

    // After the listener is closed (which ends every accept) and the connections with it.
    private void JoinAcceptors(TimeSpan timeout)
    {
        Thread[] acceptors;
        lock (_acceptorsGate)
        {
            acceptors = [.. _acceptors];
        }
        long start = Stopwatch.GetTimestamp();
        foreach (Thread thread in acceptors)
        {
            TimeSpan left = timeout - Stopwatch.GetElapsedTime(start);
            if (thread != Thread.CurrentThread && left > TimeSpan.Zero)
            {
                thread.Join(left);
            }
        }
    }
}
