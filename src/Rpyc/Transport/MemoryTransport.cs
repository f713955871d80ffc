namespace Rpyc.Transport;

/// <summary>An in-memory duplex pair for protocol tests: no sockets, same blocking semantics.</summary>
internal sealed class MemoryTransport : Transport
{
    private readonly ByteQueue _incoming;
    private readonly ByteQueue _outgoing;
    private readonly string _name;

    private MemoryTransport(ByteQueue incoming, ByteQueue outgoing, string name)
    {
        _incoming = incoming;
        _outgoing = outgoing;
        _name = name;
    }

    public static (MemoryTransport A, MemoryTransport B) CreatePair()
    {
        var ab = new ByteQueue();
        var ba = new ByteQueue();
        return (new MemoryTransport(ba, ab, "memory:a"), new MemoryTransport(ab, ba, "memory:b"));
    }

    public override string PeerName => _name;

    public override int Receive(Span<byte> buffer, TimeSpan timeout) =>
        _incoming.WaitReadable(timeout) ? _incoming.Read(buffer) : -1;

    public override void Send(ReadOnlySpan<byte> data) => _outgoing.Write(data);

    public override void Dispose()
    {
        _incoming.Complete();
        _outgoing.Complete();
    }

    private sealed class ByteQueue
    {
        private readonly Queue<byte[]> _chunks = new();
        private byte[]? _current;
        private int _offset;
        private bool _completed;

        public void Write(ReadOnlySpan<byte> data)
        {
            lock (_chunks)
            {
                if (_completed)
                {
                    throw new IOException("The in-memory transport is closed.");
                }
                _chunks.Enqueue(data.ToArray());
                Monitor.PulseAll(_chunks);
            }
        }

        public bool WaitReadable(TimeSpan timeout)
        {
            lock (_chunks)
            {
                long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
                while (!HasData() && !_completed)
                {
                    long left = deadline - Environment.TickCount64;
                    if (left <= 0)
                    {
                        return false;
                    }
                    Monitor.Wait(_chunks, deadline == long.MaxValue ? Timeout.Infinite : (int)Math.Min(left, int.MaxValue));
                }
                return true;
            }
        }

        private bool HasData() => _current is not null || _chunks.Count > 0;

        public int Read(Span<byte> buffer)
        {
            lock (_chunks)
            {
                while (!HasData())
                {
                    if (_completed)
                    {
                        return 0;
                    }
                    Monitor.Wait(_chunks);
                }
                _current ??= _chunks.Dequeue();
                int n = Math.Min(buffer.Length, _current.Length - _offset);
                _current.AsSpan(_offset, n).CopyTo(buffer);
                _offset += n;
                if (_offset == _current.Length)
                {
                    _current = null;
                    _offset = 0;
                }
                return n;
            }
        }

        public void Complete()
        {
            lock (_chunks)
            {
                _completed = true;
                Monitor.PulseAll(_chunks);
            }
        }
    }
}
