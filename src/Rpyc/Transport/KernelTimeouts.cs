using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Rpyc.Transport;

/// <summary>
/// SO_RCVTIMEO and SO_SNDTIMEO set with setsockopt(2) directly. On Unix, .NET's own
/// <see cref="Socket.ReceiveTimeout"/>, <see cref="Socket.Blocking"/> = false and every async
/// operation switch the descriptor to non-blocking for good and emulate blocking calls in the
/// runtime's epoll engine, which then wakes the engine's threads on every message (measured: about
/// 5 us of CPU per call). The kernel's timeouts keep the descriptor blocking: one recv(2) per read.
/// </summary>
internal static class KernelTimeouts
{
    private static int SolSocket => OperatingSystem.IsLinux() ? 1 : 0xffff;

    private static int SoSndTimeo => OperatingSystem.IsLinux() ? 21 : 0x1005;

    private static int SoRcvTimeo => OperatingSystem.IsLinux() ? 20 : 0x1006;

    /// <summary>Whether a blocking connect(2) honours SO_SNDTIMEO (Linux).</summary>
    public static bool BoundConnect => OperatingSystem.IsLinux();

    /// <summary>Sets the receive timeout in milliseconds; 0 means none.</summary>
    public static void SetReceive(Socket socket, int milliseconds) => Set(socket, SoRcvTimeo, milliseconds);

    /// <summary>Sets the send (and, on Linux, connect) timeout in milliseconds; 0 means none.</summary>
    public static void SetSend(Socket socket, int milliseconds) => Set(socket, SoSndTimeo, milliseconds);

    private static void Set(Socket socket, int option, int milliseconds)
    {
        if (OperatingSystem.IsWindows())
        {
            // Windows takes these natively (no emulation), as a DWORD of milliseconds.
            socket.SetSocketOption(SocketOptionLevel.Socket, option == SoRcvTimeo ? SocketOptionName.ReceiveTimeout : SocketOptionName.SendTimeout, milliseconds);
            return;
        }
        // struct timeval: two native words (tv_sec, tv_usec) on Linux and macOS alike.
        Span<nint> timeval = [milliseconds / 1000, milliseconds % 1000 * 1000];
        socket.SetRawSocketOption(SolSocket, option, MemoryMarshal.AsBytes(timeval));
    }
}
