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
    public static unsafe void Send(Socket channel, Socket passed)
    {
        EnsureSupported();
        int fd = (int)passed.SafeHandle.DangerousGetHandle();
        byte marker = (byte)'F';
        byte* control = stackalloc byte[CmsgSpace(sizeof(int))];
        new Span<byte>(control, CmsgSpace(sizeof(int))).Clear();
        *(nuint*)control = (nuint)(CmsgHeaderLength + sizeof(int));
        *(int*)(control + IntPtr.Size) = SolSocket;
        *(int*)(control + IntPtr.Size + 4) = ScmRights;
        *(int*)(control + CmsgHeaderLength) = fd;
        var iov = new IoVec { Base = (IntPtr)(&marker), Length = 1 };
        var message = new MsgHdr { Iov = (IntPtr)(&iov), IovLength = 1, Control = (IntPtr)control, ControlLength = (nuint)CmsgSpace(sizeof(int)) };
        int channelFd = (int)channel.SafeHandle.DangerousGetHandle();
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
    public static unsafe Socket? Receive(Socket channel)
    {
        EnsureSupported();
        byte marker = 0;
        byte* control = stackalloc byte[CmsgSpace(sizeof(int))];
        int channelFd = (int)channel.SafeHandle.DangerousGetHandle();
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
}
