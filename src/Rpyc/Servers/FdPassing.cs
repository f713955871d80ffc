using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Rpyc.Servers;

/// <summary>
/// Hands an accepted socket to another process over a Unix domain socket (<c>SCM_RIGHTS</c>):
/// .NET cannot fork, so a pre-started worker process receives the connection itself. Written by
/// hand because .NET has no managed API for descriptor passing on Unix.
/// </summary>
internal static partial class FdPassing
{
    private const int SolSocket = 1;
    private const int ScmRights = 1;
    private const int EINTR = 4;
    private const int EAGAIN = 11;
    private const int EPIPE = 32;
    private const int ECONNRESET = 104;
    private const short PollIn = 0x001;
    private const int MsgDontWait = 0x40;
    private const int FDupFdCloexec = 1030;

    [StructLayout(LayoutKind.Sequential)]
    private struct IoVec
    {
        public IntPtr Base;
        public nuint Length;
    }

    // struct msghdr on 64-bit Linux; sequential layout adds the same padding after NameLength.
    [StructLayout(LayoutKind.Sequential)]
    private struct MsgHdr
    {
        public IntPtr Name;
        public uint NameLength;
        public IntPtr Iov;
        public nuint IovLength;
        public IntPtr Control;
        public nuint ControlLength;
        public int Flags;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint sendmsg(int socket, ref MsgHdr message, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint recvmsg(int socket, ref MsgHdr message, int flags);

    // cmsghdr: size_t cmsg_len | int cmsg_level | int cmsg_type | data (aligned to size_t)
    private static int CmsgHeaderLength => IntPtr.Size + 8;

    private static int CmsgSpace(int dataLength) => CmsgHeaderLength + Align(dataLength);

    private static int Align(int length) => (length + IntPtr.Size - 1) & ~(IntPtr.Size - 1);

    public static void EnsureSupported()
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("ForkingServer passes sockets with SCM_RIGHTS and runs on Linux only.");
        }
    }

    /// <summary>
    /// Sends <paramref name="passed"/>'s descriptor with one marker byte over <paramref name="channel"/>,
    /// then waits up to <paramref name="timeout"/> for the receiver to say it holds it
    /// (<see cref="AcknowledgeTaken"/>). A descriptor in flight dies with a receiver that dies before
    /// taking it, and with the sender's copy closed too, the client's connection was reset with its
    /// first request unread: the sender keeps its copy until this returns <see cref="Taken.Yes"/>, so
    /// on <see cref="Taken.No"/> it can give the connection to another receiver. The wait reads a
    /// duplicate of the channel's descriptor, so a concurrent dispose of the channel (the receiver's
    /// exit seen meanwhile) cannot hide an acknowledgement already sent.
    /// </summary>
    /// <param name="channel">The receiver's channel.</param>
    /// <param name="passed">The socket to pass.</param>
    /// <param name="timeout">How long to wait for the acknowledgement.</param>
    /// <param name="sent">Called between the send and the wait (fault injection in tests), or <c>null</c>.</param>
    /// <returns>Whether the receiver took it.</returns>
    /// <exception cref="ObjectDisposedException">Either socket is closed (a worker that exited: its channel is disposed).</exception>
    /// <exception cref="SocketException">The send failed.</exception>
    public static Taken HandOver(Socket channel, Socket passed, TimeSpan timeout, Action? sent = null)
    {
        EnsureSupported();
        int answerFd;
        using (var channelFd = new HeldDescriptor(channel))
        {
            using (var passedFd = new HeldDescriptor(passed))
            {
                SendDescriptor(channel, channelFd.Fd, passedFd.Fd);
            }
            // The wait reads a duplicate: holding the channel's own handle across it would make a
            // concurrent Dispose of the channel block until the wait ends (SafeSocketHandle waits
            // for its users), and Socket's calls throw once it is disposed.
            // Close-on-exec: a worker started meanwhile must not inherit this end of the channel.
            answerFd = fcntl(channelFd.Fd, FDupFdCloexec, 0);
        }
        sent?.Invoke();
        if (answerFd < 0)
        {
            // Out of descriptors: no way to listen; as a receiver that did not answer.
            return Taken.Unknown;
        }
        try
        {
            return AwaitTaken(answerFd, timeout);
        }
        finally
        {
            close(answerFd);
        }
    }

    private static unsafe void SendDescriptor(Socket channel, int channelFd, int fd)
    {
        byte marker = (byte)'F';
        byte* control = stackalloc byte[CmsgSpace(sizeof(int))];
        new Span<byte>(control, CmsgSpace(sizeof(int))).Clear();
        *(nuint*)control = (nuint)(CmsgHeaderLength + sizeof(int));
        *(int*)(control + IntPtr.Size) = SolSocket;
        *(int*)(control + IntPtr.Size + 4) = ScmRights;
        *(int*)(control + CmsgHeaderLength) = fd;
        var iov = new IoVec { Base = (IntPtr)(&marker), Length = 1 };
        var message = new MsgHdr { Iov = (IntPtr)(&iov), IovLength = 1, Control = (IntPtr)control, ControlLength = (nuint)CmsgSpace(sizeof(int)) };
        while (true)
        {
            if (sendmsg(channelFd, ref message, 0) >= 0)
            {
                return;
            }
            int errno = Marshal.GetLastPInvokeError();
            if (errno == EAGAIN)
            {
                channel.Poll(1_000_000, SelectMode.SelectWrite);
                continue;
            }
            if (errno != EINTR)
            {
                throw new SocketException(errno);
            }
        }
    }

    /// <summary>Waits for a descriptor on <paramref name="channel"/>; <c>null</c> when the sender closed the channel.</summary>
    /// <exception cref="ObjectDisposedException">The channel is closed.</exception>
    public static Socket? Receive(Socket channel)
    {
        EnsureSupported();
        using var channelFd = new HeldDescriptor(channel);
        return ReceiveDescriptor(channel, channelFd.Fd);
    }

    private static unsafe Socket? ReceiveDescriptor(Socket channel, int channelFd)
    {
        byte marker = 0;
        byte* control = stackalloc byte[CmsgSpace(sizeof(int))];
        while (true)
        {
            new Span<byte>(control, CmsgSpace(sizeof(int))).Clear();
            var iov = new IoVec { Base = (IntPtr)(&marker), Length = 1 };
            var message = new MsgHdr { Iov = (IntPtr)(&iov), IovLength = 1, Control = (IntPtr)control, ControlLength = (nuint)CmsgSpace(sizeof(int)) };
            // The channel may be non-blocking inside .NET: wait for readability, then read.
            channel.Poll(-1, SelectMode.SelectRead);
            nint n = recvmsg(channelFd, ref message, 0);
            if (n == 0)
            {
                return null;
            }
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno is EAGAIN or EINTR)
                {
                    continue;
                }
                throw new SocketException(errno);
            }
            if (message.ControlLength < (nuint)(CmsgHeaderLength + sizeof(int))
                || *(int*)(control + IntPtr.Size) != SolSocket || *(int*)(control + IntPtr.Size + 4) != ScmRights)
            {
                throw new InvalidOperationException("The control message carried no socket descriptor.");
            }
            int fd = *(int*)(control + CmsgHeaderLength);
            return new Socket(new SafeSocketHandle(fd, ownsHandle: true));
        }
    }

    // The worker's one byte back on the channel once it holds the descriptor (AwaitTaken).
    private const byte TakenMarker = (byte)'T';

    /// <summary>Tells the sender that the descriptor <see cref="Receive"/> returned is held here now.</summary>
    /// <exception cref="SocketException">The send failed (the sender is gone).</exception>
    public static void AcknowledgeTaken(Socket channel) => channel.Send([TakenMarker]);

    /// <summary>Whether the receiver took what <see cref="HandOver"/> passed.</summary>
    public enum Taken
    {
        /// <summary>It acknowledged: the descriptor is its own; the sender may close its copy.</summary>
        Yes,

        /// <summary>Its end closed first (it died): the descriptor died with its queue, the sender's copy is the only one.</summary>
        No,

        /// <summary>No answer in time: it may still take it (stopped, or starved of CPU).</summary>
        Unknown,
    }

    // On HandOver's duplicate of the channel's descriptor, which stays open when the channel is
    // disposed: the acknowledgement may be waiting in it.
    private static unsafe Taken AwaitTaken(int channelFd, TimeSpan timeout)
    {
        var request = new PollFd { Fd = channelFd, Events = PollIn };
        long deadline = Environment.TickCount64 + (long)Math.Ceiling(timeout.TotalMilliseconds);
        while (true)
        {
            int ready = poll(ref request, 1, (int)Math.Clamp(deadline - Environment.TickCount64, 0, int.MaxValue));
            if (ready > 0)
            {
                break;
            }
            if (ready == 0 || Marshal.GetLastPInvokeError() != EINTR)
            {
                return Taken.Unknown;
            }
        }
        byte answer = 0;
        nint n = recv(channelFd, &answer, 1, MsgDontWait);
        if (n == 1)
        {
            // Anything else is not the protocol: the receiver is alive and may hold the connection.
            return answer == TakenMarker ? Taken.Yes : Taken.Unknown;
        }
        // End of stream, or a reset (its end closed with the descriptor message unread): it died
        // before taking it. EAGAIN cannot follow a readable poll; treated as no answer.
        return n == 0 || Marshal.GetLastPInvokeError() is ECONNRESET or EPIPE ? Taken.No : Taken.Unknown;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int poll(ref PollFd fds, nuint count, int timeoutMs);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int fcntl(int fd, int command, int argument);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    [LibraryImport("libc", SetLastError = true)]
    private static unsafe partial nint recv(int socket, byte* buffer, nuint length, int flags);

    // A socket's descriptor number, kept open while a system call uses it. DangerousGetHandle alone
    // returns a closed socket's old number, which the process may already have given to a new
    // descriptor (Unix reuses the lowest free one at once): a send would then go to whatever owns
    // that number now, another worker's channel for instance, and report success. DangerousAddRef
    // throws ObjectDisposedException for a closed socket and defers a concurrent close until release.
    private readonly ref struct HeldDescriptor
    {
        private readonly SafeSocketHandle _handle;

        public HeldDescriptor(Socket socket)
        {
            _handle = socket.SafeHandle;
            bool added = false;
            _handle.DangerousAddRef(ref added);
            Fd = (int)_handle.DangerousGetHandle();
        }

        public int Fd { get; }

        public void Dispose() => _handle.DangerousRelease();
    }
}
