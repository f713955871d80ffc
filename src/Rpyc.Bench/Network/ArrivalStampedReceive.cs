using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Rpyc.Bench;

/// <summary>
/// A blocking receive that also says when the bytes reached the socket, by the kernel's clock
/// (<c>SO_TIMESTAMPNS</c>: loopback stamps a segment as the sender's write delivers it), not when the
/// reader thread woke up to take them. The relay schedules each chunk from that arrival, so its
/// reader's wake-up, which at a 1 ms RTT follows half a millisecond of idling (a vCPU halted by the
/// hypervisor: tens of microseconds), stays inside the played delay instead of adding to it. A real
/// link has no such reader: the wire starts counting when the sender's bytes leave.
/// </summary>
/// <remarks>
/// Written by hand: .NET's <see cref="Socket"/> exposes no control messages but IP_PKTINFO. Linux
/// only; elsewhere, or when the kernel attaches no stamp, the arrival is the time the receive returned.
/// </remarks>
internal static class ArrivalStampedReceive
{
    private const int SolSocket = 1;
    private const int SoTimestampNs = 35; // SO_TIMESTAMPNS_OLD: struct timespec of 64-bit longs
    private const int Realtime = 0;
    private const int Eintr = 4;
    private const int Eagain = 11;
    private const int ControlBytes = 64;

    // A stamp older than this (a clock step, or a reader held up for long) is not believed.
    private const long MaxAgeNanos = 1_000_000_000;

    /// <summary>Asks the kernel to stamp what arrives on <paramref name="socket"/>; false where it cannot.</summary>
    public static bool Enable(Socket socket)
    {
        if (!OperatingSystem.IsLinux() || !(RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64))
        {
            return false;
        }
        try
        {
            socket.SetRawSocketOption(SolSocket, SoTimestampNs, [1, 0, 0, 0]);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>
    /// Receives up to <paramref name="count"/> bytes (0: the peer's FIN) and their arrival in
    /// <see cref="PreciseTimer"/> ticks. Throws <see cref="SocketException"/> on a reset and
    /// <see cref="ObjectDisposedException"/> once the socket is closed.
    /// </summary>
    public static int Receive(Socket socket, bool stamped, byte[] buffer, int count, out long arrival)
    {
        if (!stamped)
        {
            int read = socket.Receive(buffer, 0, count, SocketFlags.None);
            arrival = PreciseTimer.Now;
            return read;
        }
        SafeHandle handle = socket.SafeHandle;
        bool added = false;
        // Held across the call so that a concurrent Dispose cannot close (and the process reuse) the
        // descriptor under the receive; RelayConnection.Abort shuts the receive side down to wake it.
        handle.DangerousAddRef(ref added);
        try
        {
            return ReceiveStamped((int)handle.DangerousGetHandle(), socket, buffer, count, out arrival);
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    private static unsafe int ReceiveStamped(int fd, Socket socket, byte[] buffer, int count, out long arrival)
    {
        byte* control = stackalloc byte[ControlBytes];
        fixed (byte* data = buffer)
        {
            var iov = new IoVec { Base = data, Length = (nuint)count };
            while (true)
            {
                var message = new MessageHeader { Iov = &iov, IovLength = 1, Control = control, ControlLength = ControlBytes };
                nint read = recvmsg(fd, &message, 0);
                if (read >= 0)
                {
                    arrival = Arrival(&message);
                    return (int)read;
                }
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Eintr)
                {
                    continue;
                }
                if (errno == Eagain)
                {
                    // A descriptor .NET made non-blocking: its own receive waits properly.
                    read = socket.Receive(buffer, 0, count, SocketFlags.None);
                    arrival = PreciseTimer.Now;
                    return (int)read;
                }
                throw new SocketException(errno == 104 ? (int)SocketError.ConnectionReset : (int)SocketError.SocketError);
            }
        }
    }

    // The stamp is CLOCK_REALTIME; its age, read against the same clock now, moves it onto the
    // monotonic one. The realtime clock is read first: a preemption between the two reads then
    // makes the arrival late (the chunk leaves a little later than due), never early (it would
    // leave before its delay was played, and a relayed round trip could come in under the profile's).
    private static unsafe long Arrival(MessageHeader* message)
    {
        long realtimeNow = LinuxClock.ReadNanos(Realtime);
        long now = PreciseTimer.Now;
        for (var header = (ControlHeader*)message->Control;
             header is not null && (byte*)header + sizeof(ControlHeader) <= (byte*)message->Control + (long)message->ControlLength;
             header = Next(message, header))
        {
            if (header->Level == SolSocket && header->Type == SoTimestampNs && (long)header->Length >= sizeof(ControlHeader) + 16)
            {
                long* stamp = (long*)((byte*)header + sizeof(ControlHeader));
                long stampNanos = (stamp[0] * 1_000_000_000) + stamp[1];
                long age = realtimeNow - stampNanos;
                return age is > 0 and < MaxAgeNanos ? now - age : now;
            }
        }
        return now;
    }

    private static unsafe ControlHeader* Next(MessageHeader* message, ControlHeader* header)
    {
        long step = ((long)header->Length + 7) & ~7L;
        if (step < sizeof(ControlHeader))
        {
            return null;
        }
        byte* next = (byte*)header + step;
        return next + sizeof(ControlHeader) <= (byte*)message->Control + (long)message->ControlLength ? (ControlHeader*)next : null;
    }

    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct IoVec
    {
        public byte* Base;
        public nuint Length;
    }

    // struct msghdr of the 64-bit Linux ABIs (x64 and arm64 alike).
    [StructLayout(LayoutKind.Sequential)]
    private unsafe struct MessageHeader
    {
        public void* Name;
        public uint NameLength;
        public IoVec* Iov;
        public nuint IovLength;
        public byte* Control;
        public nuint ControlLength;
        public int Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct ControlHeader
    {
        public nuint Length;
        public int Level;
        public int Type;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern unsafe nint recvmsg(int fd, MessageHeader* message, int flags);
}
