using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Rpyc.Servers;

// Accepted connections that have not sent a byte yet. On Linux one thread waits for all of them
// with epoll(7), so an idle peer costs a descriptor, not a thread or a worker process; elsewhere each
// waits on a thread of its own with poll. A connection whose first bytes arrive goes to onReady with
// what is left of the handshake timeout; one that sends nothing in time, or that hangs up, is closed.
// When MaxPendingConnections are waiting, the oldest is closed to make room, so a flood of idle
// peers cannot keep out a client that speaks at once.
//
// The descriptors stay blocking: .NET's async socket calls would switch them to non-blocking for
// good and slow every later receive (see Transport/KernelTimeouts), and a ForkingServer worker
// shares the file description, flags included, with this process.
internal sealed partial class PendingConnections : IDisposable
{
    private const int MaxEvents = 64;
    private const ulong WakeId = 0;
    private const int EpollCloexec = 0x80000;
    private const int EfdCloexec = 0x80000;
    private const int EfdNonblock = 0x800;
    private const int EpollCtlAdd = 1;
    private const int EpollCtlDel = 2;
    private const uint EpollIn = 0x001;
    private const uint EpollRdHup = 0x2000;
    private const uint EpollOneShot = 1u << 30;
    private const int EINTR = 4;

    private readonly object _gate = new();
    // Oldest first; every deadline is its accept time plus the same timeout, so this is deadline order too.
    private readonly LinkedList<Entry> _order = new();
    private readonly Dictionary<ulong, LinkedListNode<Entry>> _byId = [];
    private readonly Action<Socket, TimeSpan> _onReady;
    private readonly Action _onTimedOut;
    private readonly Action _onEvicted;
    private readonly int _max;
    private readonly TimeSpan _timeout;
    private readonly bool _epoll;
    private readonly int _epollFd = -1;
    private readonly int _wakeFd = -1;
    private readonly Thread? _thread;
    private ulong _nextId = WakeId + 1;
    private bool _disposed;
    private int _count;

    public PendingConnections(string name, TimeSpan timeout, int max, Action<Socket, TimeSpan> onReady, Action onTimedOut, Action onEvicted, bool useEpoll = true)
    {
        _timeout = timeout;
        _max = max;
        _onReady = onReady;
        _onTimedOut = onTimedOut;
        _onEvicted = onEvicted;
        _epoll = useEpoll && OperatingSystem.IsLinux();
        if (!_epoll)
        {
            return;
        }
        _epollFd = epoll_create1(EpollCloexec);
        if (_epollFd < 0)
        {
            throw Failed("epoll_create1", Marshal.GetLastPInvokeError());
        }
        _wakeFd = eventfd(0, EfdCloexec | EfdNonblock);
        if (_wakeFd < 0 || Control(EpollCtlAdd, _wakeFd, WakeId) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            CloseFds();
            throw Failed("eventfd", errno);
        }
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    /// <summary>Connections waiting for their first bytes.</summary>
    public int Count => Volatile.Read(ref _count);

    private sealed record Entry(ulong Id, Socket Socket, long Accepted);

    /// <summary>Takes <paramref name="socket"/>, just accepted; it is handed on or closed from here.</summary>
    public void Add(Socket socket)
    {
        Socket? evicted = null;
        ulong id;
        long accepted = Stopwatch.GetTimestamp();
        lock (_gate)
        {
            if (_disposed)
            {
                socket.Dispose();
                return;
            }
            if (_byId.Count >= _max)
            {
                evicted = RemoveLocked(_order.First!).Socket;
            }
            id = _nextId++;
            _byId[id] = _order.AddLast(new Entry(id, socket, accepted));
            Volatile.Write(ref _count, _byId.Count);
            // Registered under the lock: the entry cannot be closed (and its descriptor number reused)
            // before epoll knows it.
            if (_epoll && Control(EpollCtlAdd, Fd(socket), id, EpollIn | EpollRdHup | EpollOneShot) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                _order.Remove(_byId[id]);
                _byId.Remove(id);
                Volatile.Write(ref _count, _byId.Count);
                socket.Dispose();
                evicted?.Dispose();
                throw Failed("epoll_ctl", errno);
            }
        }
        if (evicted is not null)
        {
            evicted.Dispose();
            _onEvicted();
        }
        if (!_epoll)
        {
            new Thread(() => WaitAlone(id, socket, accepted)) { IsBackground = true, Name = "rpyc-first-bytes" }.Start();
        }
    }

    private Entry RemoveLocked(LinkedListNode<Entry> node)
    {
        _order.Remove(node);
        _byId.Remove(node.Value.Id);
        Volatile.Write(ref _count, _byId.Count);
        if (_epoll)
        {
            // Before the socket is closed or handed on: a descriptor passed to a worker stays open.
            Control(EpollCtlDel, Fd(node.Value.Socket), node.Value.Id);
        }
        return node.Value;
    }

    private static SocketException Failed(string call, int errno) =>
        new((int)SocketError.SocketError, $"{call} failed with errno {errno}: {Marshal.GetPInvokeErrorMessage(errno)}.");

    private static int Fd(Socket socket) => (int)socket.SafeHandle.DangerousGetHandle();

    private unsafe void Run()
    {
        int stride = EventSize;
        byte* events = stackalloc byte[MaxEvents * 16];
        while (true)
        {
            int wait;
            lock (_gate)
            {
                if (_disposed)
                {
                    break;
                }
                wait = NextWaitMilliseconds();
            }
            int n = epoll_wait(_epollFd, events, MaxEvents, wait);
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR)
                {
                    continue;
                }
                RpycLog.Warn($"waiting for the first bytes of new connections failed (errno {errno}); they are closed.");
                break;
            }
            for (int i = 0; i < n; i++)
            {
                ulong id = *(ulong*)(events + (i * stride) + DataOffset);
                if (id != WakeId)
                {
                    Ready(id);
                }
            }
            ExpireDue();
        }
        CloseAll();
    }

    // Until the oldest deadline. With none waiting, one whole timeout: a connection added meanwhile
    // has a later deadline than that, so no wake-up is needed when one is added.
    private int NextWaitMilliseconds()
    {
        if (_order.First is not { } first)
        {
            return (int)Math.Ceiling(_timeout.TotalMilliseconds);
        }
        TimeSpan left = _timeout - Stopwatch.GetElapsedTime(first.Value.Accepted);
        return left <= TimeSpan.Zero ? 0 : (int)Math.Ceiling(left.TotalMilliseconds);
    }

    private void Ready(ulong id)
    {
        Entry entry;
        lock (_gate)
        {
            if (!_byId.TryGetValue(id, out LinkedListNode<Entry>? node))
            {
                return;
            }
            entry = RemoveLocked(node);
        }
        bool hasData;
        try
        {
            hasData = entry.Socket.Available > 0;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            hasData = false;
        }
        if (!hasData)
        {
            // Readable with nothing to read: the peer hung up (or reset) without a word.
            entry.Socket.Dispose();
            return;
        }
        TimeSpan left = _timeout - Stopwatch.GetElapsedTime(entry.Accepted);
        try
        {
            _onReady(entry.Socket, left > TimeSpan.FromMilliseconds(1) ? left : TimeSpan.FromMilliseconds(1));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A failing hand-off must never stop the others.
            RpycLog.Warn($"could not serve a new connection: {ex.Message}");
            entry.Socket.Dispose();
        }
    }

    private void ExpireDue()
    {
        List<Socket>? expired = null;
        lock (_gate)
        {
            while (_order.First is { } first && Stopwatch.GetElapsedTime(first.Value.Accepted) >= _timeout)
            {
                (expired ??= []).Add(RemoveLocked(first).Socket);
            }
        }
        foreach (Socket socket in expired ?? [])
        {
            socket.Dispose();
            _onTimedOut();
        }
    }

    // Off Linux: one thread per waiting connection, blocked in poll(2) until its deadline.
    private void WaitAlone(ulong id, Socket socket, long accepted)
    {
        bool readable;
        try
        {
            TimeSpan left = _timeout - Stopwatch.GetElapsedTime(accepted);
            readable = left > TimeSpan.Zero && socket.Poll((int)Math.Min(int.MaxValue, left.TotalMicroseconds), SelectMode.SelectRead);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Closed by an eviction or by Dispose.
            readable = false;
        }
        if (readable)
        {
            Ready(id);
            return;
        }
        lock (_gate)
        {
            if (!_byId.TryGetValue(id, out LinkedListNode<Entry>? node))
            {
                return;
            }
            RemoveLocked(node);
        }
        socket.Dispose();
        _onTimedOut();
    }

    private void CloseAll()
    {
        Entry[] left;
        lock (_gate)
        {
            _disposed = true;
            left = [.. _order];
            _order.Clear();
            _byId.Clear();
            Volatile.Write(ref _count, 0);
        }
        foreach (Entry entry in left)
        {
            entry.Socket.Dispose();
        }
    }

    private void CloseFds()
    {
        if (_wakeFd >= 0)
        {
            _ = close(_wakeFd);
        }
        if (_epollFd >= 0)
        {
            _ = close(_epollFd);
        }
    }

    /// <summary>Closes every waiting connection.</summary>
    public unsafe void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
        }
        if (_thread is null)
        {
            // Off Linux: each waiting thread sees its socket closed and ends.
            CloseAll();
            return;
        }
        ulong one = 1;
        _ = write(_wakeFd, &one, sizeof(ulong));
        if (_thread.Join(TimeSpan.FromSeconds(5)))
        {
            // Only once the thread is gone: a descriptor number closed under it could be reused.
            CloseFds();
        }
        else
        {
            RpycLog.Warn("the thread waiting for new connections' first bytes did not stop within 5 s.");
        }
    }

    // struct epoll_event { uint32_t events; epoll_data_t data; }: packed on x86-64 (data at offset 4,
    // 12 bytes), naturally aligned elsewhere (offset 8, 16 bytes).
    private static bool Packed => RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86;

    private static int EventSize => Packed ? 12 : 16;

    private static int DataOffset => Packed ? 4 : 8;

    private unsafe int Control(int op, int fd, ulong id, uint events = 0)
    {
        byte* ev = stackalloc byte[16];
        new Span<byte>(ev, 16).Clear();
        *(uint*)ev = events == 0 && op == EpollCtlAdd ? EpollIn : events;
        *(ulong*)(ev + DataOffset) = id;
        return epoll_ctl(_epollFd, op, fd, ev);
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int epoll_ctl(int epfd, int op, int fd, byte* ev);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial int epoll_wait(int epfd, byte* events, int maxEvents, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint write(int fd, void* buffer, nuint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);
}
