using System.Net;
using System.Net.Sockets;

namespace Rpyc.Bench;

/// <summary>
/// Measures the relay's own path cost once per process: the extra round-trip time a relay adds on top
/// of the delay it plays. A relayed byte crosses loopback twice, so a round trip through a relay
/// playing r costs r plus the direct loopback round trip plus this hop (the reader's wake-up is no
/// longer part of it: chunks are scheduled from the kernel's arrival stamp, see
/// <see cref="ArrivalStampedReceive"/>; with it, the hop was 15-70 us on a busy 2-core host). Measured
/// with 64-byte pings to an echo server of its own, interleaving blocks straight to it and through a
/// relay playing <see cref="ProbeRoundTrip"/>, so both paths see the same load; the relay then takes
/// half the hop off each one-way delay (<see cref="DelayRelayOptions.DelayCompensation"/>).
/// </summary>
internal static class RelayCalibration
{
    /// <summary>The round trip the probe relay plays: its writer sleeps and spins as a real profile's does.</summary>
    public static readonly TimeSpan ProbeRoundTrip = TimeSpan.FromMicroseconds(200);

    /// <summary>The most a calibration takes off each one-way delay.</summary>
    public static readonly TimeSpan MaxCompensation = TimeSpan.FromMicroseconds(100);

    private const int Blocks = 6;
    private const int PingsPerBlock = 50;
    private static readonly TimeSpan s_ioTimeout = TimeSpan.FromSeconds(2);
    private static readonly Lazy<TimeSpan> s_compensation = new(Measure, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Half the measured hop, within [0, <see cref="MaxCompensation"/>]; measured at first use, then cached.</summary>
    public static TimeSpan Compensation => s_compensation.Value;

    /// <summary>The relay's own round-trip cost: relayed p50 minus the probe's round trip minus direct p50, in seconds.</summary>
    /// <returns>The hop, or zero when it cannot be measured (a failed probe must not stop a run).</returns>
    public static double MeasureHopSeconds()
    {
        try
        {
            using var echo = new EchoServer();
            using DelayRelay relay = DelayRelay.Start(
                new NetworkProfile { Name = "calibration", RoundTrip = ProbeRoundTrip }, echo.EndPoint,
                options: new DelayRelayOptions { DelayCompensation = TimeSpan.Zero });
            using Socket direct = Connect(echo.EndPoint);
            using Socket relayed = Connect(relay.EndPoint);
            var directTicks = new List<long>(Blocks * PingsPerBlock);
            var relayedTicks = new List<long>(Blocks * PingsPerBlock);
            Ping(direct, 20, null);
            Ping(relayed, 20, null);
            for (int block = 0; block < Blocks; block++)
            {
                Ping(direct, PingsPerBlock, directTicks);
                Ping(relayed, PingsPerBlock, relayedTicks);
            }
            double hop = Median(relayedTicks) - Median(directTicks) - ProbeRoundTrip.TotalSeconds;
            return Math.Max(0, hop);
        }
        catch (Exception e) when (e is SocketException or IOException or ObjectDisposedException)
        {
            return 0;
        }
    }

    private static TimeSpan Measure()
    {
        double half = MeasureHopSeconds() / 2;
        return TimeSpan.FromTicks((long)Math.Round(Math.Min(half, MaxCompensation.TotalSeconds) * TimeSpan.TicksPerSecond));
    }

    private static Socket Connect(EndPoint endPoint)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveTimeout = (int)s_ioTimeout.TotalMilliseconds,
            SendTimeout = (int)s_ioTimeout.TotalMilliseconds,
        };
        socket.Connect(endPoint);
        return socket;
    }

    private static void Ping(Socket socket, int count, List<long>? ticks)
    {
        Span<byte> buffer = stackalloc byte[64];
        for (int i = 0; i < count; i++)
        {
            long start = Clock.Now;
            socket.Send(buffer);
            int read = 0;
            while (read < buffer.Length)
            {
                int n = socket.Receive(buffer[read..]);
                if (n == 0)
                {
                    throw new IOException("The calibration echo server closed the connection.");
                }
                read += n;
            }
            ticks?.Add(Clock.Now - start);
        }
    }

    private static double Median(List<long> ticks)
    {
        ticks.Sort();
        return Clock.ToSeconds(ticks[ticks.Count / 2]);
    }

    // Echoes every connection on a thread of its own until disposed.
    private sealed class EchoServer : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly List<Socket> _accepted = [];
        private readonly Thread _thread;

        public EchoServer()
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(4);
            EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
            _thread = new Thread(AcceptLoop) { Name = "relay calibration echo", IsBackground = true };
            _thread.Start();
        }

        public IPEndPoint EndPoint { get; }

        public void Dispose()
        {
            _listener.Dispose();
            lock (_accepted)
            {
                foreach (Socket s in _accepted)
                {
                    s.Dispose();
                }
            }
            _thread.Join(s_ioTimeout);
        }

        private void AcceptLoop()
        {
            try
            {
                while (true)
                {
                    Socket s = _listener.Accept();
                    s.NoDelay = true;
                    lock (_accepted)
                    {
                        _accepted.Add(s);
                    }
                    new Thread(() => Echo(s)) { Name = "relay calibration echo connection", IsBackground = true }.Start();
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Disposed.
            }
        }

        private static void Echo(Socket s)
        {
            byte[] buffer = new byte[4096];
            try
            {
                int n;
                while ((n = s.Receive(buffer)) > 0)
                {
                    s.Send(buffer.AsSpan(0, n));
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Disposed.
            }
        }
    }
}
