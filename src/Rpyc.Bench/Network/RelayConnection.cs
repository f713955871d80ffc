using System.Buffers;
using System.Net.Sockets;

namespace Rpyc.Bench;

/// <summary>
/// One relayed connection: for each direction a reader thread that stamps each chunk on arrival and
/// queues it with its due time, and a writer thread that sleeps until the chunk is due and sends it.
/// A FIN is delivered in order as a half-close (<see cref="Socket.Shutdown"/> of the send side); a
/// reset, or a failed send, aborts both sides with a reset. The sockets close when both directions end.
/// </summary>
internal sealed class RelayConnection
{
    private readonly DelayRelay _relay;
    private readonly Socket _client;
    private readonly Socket _server;
    private readonly Direction _up;
    private readonly Direction _down;
    private readonly List<Thread> _threads = new(4);
    private int _finishedDirections;
    private int _closed;

    public RelayConnection(DelayRelay relay, int id, Socket client, Socket server)
    {
        _relay = relay;
        _client = client;
        _server = server;
        _up = new Direction(this, "up", client, server, isUp: true);
        _down = new Direction(this, "down", server, client, isUp: false);
        Id = id;
    }

    public int Id { get; }

    public void Start()
    {
        foreach (Direction direction in (ReadOnlySpan<Direction>)[_up, _down])
        {
            _threads.Add(StartThread($"relay {Id} {direction.Name} read", direction.ReadLoop));
            _threads.Add(StartThread($"relay {Id} {direction.Name} write", direction.WriteLoop));
        }
    }

    /// <summary>Resets both sides and stops every thread (they exit within one 50 ms sleep slice).</summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }
        foreach (Socket socket in (ReadOnlySpan<Socket>)[_client, _server])
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0);
                // Wakes a reader blocked in its receive (a close alone does not, on Linux).
                socket.Shutdown(SocketShutdown.Receive);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Already gone: nothing left to reset.
            }
            socket.Dispose();
        }
        _up.Queue.Close();
        _down.Queue.Close();
        _relay.OnConnectionClosed(this);
    }

    public void Join(TimeSpan timeout)
    {
        foreach (Thread thread in _threads)
        {
            if (thread != Thread.CurrentThread)
            {
                thread.Join(timeout);
            }
        }
    }

    private bool IsClosed => Volatile.Read(ref _closed) != 0;

    private void DirectionFinished()
    {
        if (Interlocked.Increment(ref _finishedDirections) != 2 || Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }
        _client.Dispose();
        _server.Dispose();
        _up.Queue.Close();
        _down.Queue.Close();
        _relay.OnConnectionClosed(this);
    }

    private Thread StartThread(string name, Action loop)
    {
        var thread = new Thread(() =>
        {
            using ThreadCpuClock.Registration cpu = _relay.Cpu.Enter();
            loop();
        })
        {
            Name = name,
            IsBackground = true,
        };
        thread.Start();
        return thread;
    }

    private sealed class Direction(RelayConnection owner, string name, Socket source, Socket destination, bool isUp)
    {
        public string Name { get; } = name;

        public DelayQueue Queue { get; } = new(owner._relay.QueueCapacityBytes);

        public void ReadLoop()
        {
            DelayRelay relay = owner._relay;
            var schedule = new LinkSchedule(relay.Profile, PreciseTimer.TicksPerSecond, relay.Options.BurstBytes, relay.NewRandom(), relay.DelayCompensation);
            int chunkBytes = relay.ChunkBytes;
            bool stamped = ArrivalStampedReceive.Enable(source);
            while (true)
            {
                byte[] buffer = ArrayPool<byte>.Shared.Rent(chunkBytes);
                int read;
                long arrival;
                ChunkKind kind = ChunkKind.Data;
                try
                {
                    // Stamped by the kernel when the bytes arrived, so the reader's own wake-up is not delay.
                    read = ArrivalStampedReceive.Receive(source, stamped, buffer, chunkBytes, out arrival);
                    if (read > 0)
                    {
                        AckPromptly(source);
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    read = 0;
                    arrival = PreciseTimer.Now;
                    kind = ChunkKind.Reset;
                }
                if (read == 0)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    if (!owner.IsClosed)
                    {
                        Queue.Enqueue(new Chunk(kind == ChunkKind.Reset ? ChunkKind.Reset : ChunkKind.Fin, null, 0, schedule.Schedule(arrival, 0)));
                    }
                    return;
                }
                if (!Queue.Enqueue(new Chunk(ChunkKind.Data, buffer, read, schedule.Schedule(arrival, read))))
                {
                    return;
                }
            }
        }

        public void WriteLoop()
        {
            PreciseTimer.TightenTimerSlack();
            DelayRelay relay = owner._relay;
            PreciseTimer timer = relay.Timer;
            Func<bool> cancelled = () => owner.IsClosed;
            while (Queue.TryDequeue(out Chunk chunk))
            {
                if (!timer.WaitUntil(chunk.Due, cancelled))
                {
                    Queue.Release(chunk);
                    return;
                }
                long start = PreciseTimer.Now;
                switch (chunk.Kind)
                {
                    case ChunkKind.Data:
                        if (!SendAll(chunk.Buffer!, chunk.Length))
                        {
                            Queue.Release(chunk);
                            owner.Abort();
                            return;
                        }
                        relay.OnDelivered(isUp, chunk.Length, start - chunk.Due);
                        Queue.Release(chunk);
                        break;
                    case ChunkKind.Fin:
                        Queue.Release(chunk);
                        try
                        {
                            destination.Shutdown(SocketShutdown.Send);
                        }
                        catch (Exception e) when (e is SocketException or ObjectDisposedException)
                        {
                            owner.Abort();
                            return;
                        }
                        owner.DirectionFinished();
                        return;
                    default:
                        Queue.Release(chunk);
                        relay.OnReset();
                        owner.Abort();
                        return;
                }
            }
        }

        // TCP_QUICKACK (IPPROTO_TCP 6, option 12), re-armed after every receive because Linux drops
        // out of quick-ack mode on its own. The relay terminates TCP, so without it each socket
        // delays its ACK up to 40 ms, and a peer with Nagle on (a stock Python server) holds its next
        // small write until that ACK: py_rpyc_threaded `chain` at lan took 44 ms instead of ~1 ms.
        private static void AckPromptly(Socket socket)
        {
            if (!OperatingSystem.IsLinux())
            {
                return;
            }
            try
            {
                socket.SetRawSocketOption(6, 12, [1, 0, 0, 0]);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // A closing socket: nothing left to acknowledge.
            }
        }

        private bool SendAll(byte[] buffer, int length)
        {
            int sent = 0;
            try
            {
                while (sent < length)
                {
                    sent += destination.Send(buffer, sent, length - sent, SocketFlags.None);
                }
                return true;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return false;
            }
        }
    }
}
