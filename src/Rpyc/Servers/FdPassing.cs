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

    /// <summary>Sends <paramref name="passed"/>'s descriptor with one marker byte over <paramref name="channel"/>.</summary>
    /// <exception cref="ObjectDisposedException">Either socket is closed (a worker that exited: its channel is disposed).</exception>
    /// <exception cref="SocketException">The send failed.</exception>
    public static void Send(Socket channel, Socket passed)
    {
        EnsureSupported();
        using var channelFd = new HeldDescriptor(channel);
        using var passedFd = new HeldDescriptor(passed);
        SendDescriptor(channel, channelFd.Fd, passedFd.Fd);
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

    /// <summary>Whether the receiver took what <see cref="Send"/> passed.</summary>
    public enum Taken
    {
        /// <summary>It acknowledged: the descriptor is its own; the sender may close its copy.</summary>
        Yes,

        /// <summary>Its end closed first (it died): the descriptor died with its queue, the sender's copy is the only one.</summary>
        No,

        /// <summary>No answer in time: it may still take it (stopped, or starved of CPU).</summary>
        Unknown,
    }

    /// <summary>
    /// Waits for the receiver's acknowledgement of a <see cref="Send"/>. A descriptor in flight dies
    /// with a receiver that dies before taking it, and with the sender's copy closed too, the client's
    /// connection was reset with its first request unread; the sender keeps its copy until this says
    /// <see cref="Taken.Yes"/>, so on <see cref="Taken.No"/> it can give the connection to another.
    /// </summary>
    public static Taken AwaitTaken(Socket channel, TimeSpan timeout)
    {
        Span<byte> answer = stackalloc byte[1];
        try
        {
            if (!channel.Poll(timeout, SelectMode.SelectRead))
            {
                return Taken.Unknown;
            }
            return channel.Receive(answer) == 1 && answer[0] == TakenMarker ? Taken.Yes : Taken.No;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return Taken.No;
        }
    }

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
