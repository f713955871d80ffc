using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Rpyc.Figures.Reports;
using Rpyc.Figures.Statistics;

namespace Rpyc.Figures.Scenarios;

/// <summary>
/// The raw TCP references of the server figures: what C# sockets do on this machine with no RPC layer.
/// The servers run in this process (a thread per connection, blocking sockets, NoDelay), measured in the
/// same run as the RPyC figure they stand beside.
/// </summary>
internal static class RawTcp
{
    private const int MessageLength = 16;

    /// <summary><paramref name="connections"/> threads, each with its own connection, sending 16 B and reading the 16 B echo back to back.</summary>
    public static ScenarioResult RequestResponse(int connections, SteadyWarmup warmup, TimeSpan duration)
    {
        using var server = new LoopbackServer(EchoConnection);
        return RequestResponse(server.Connect, connections, warmup, duration, "raw_tcp_rr", $"raw C# TCP request/response 16 B, {connections} conns",
            "in-process echo server with a thread per connection; one client thread per connection, start barrier, fixed duration; each reply compared with its request");
    }

    /// <summary>The same against the 16-byte echo of another process (the .NET server host's <c>ECHO</c> port).</summary>
    public static ScenarioResult RequestResponse(int port, int connections, SteadyWarmup warmup, TimeSpan duration, string key, string title, string note) =>
        RequestResponse(() => LoopbackServer.Connect(port), connections, warmup, duration, key, title, note);

    /// <summary>One 16-byte round trip on <paramref name="socket"/>, true when the echo matches; <paramref name="tag"/> makes each connection's requests distinct.</summary>
    public static Func<bool> EchoCall(Socket socket, int tag)
    {
        byte[] request = new byte[MessageLength];
        byte[] reply = new byte[MessageLength];
        int sequence = tag << 24;
        return () =>
        {
            BinaryPrimitives.WriteInt32LittleEndian(request, ++sequence);
            try
            {
                socket.Send(request);
                return ReceiveExactly(socket, reply) && reply.AsSpan().SequenceEqual(request);
            }
            catch (SocketException)
            {
                return false;
            }
        };
    }

    /// <summary>One upload: the whole payload out, its 4-byte length back (checked).</summary>
    public static Func<bool> UploadCall(Socket socket, byte[] payload)
    {
        byte[] reply = new byte[4];
        return () =>
        {
            socket.Send(payload);
            return ReceiveExactly(socket, reply) && BinaryPrimitives.ReadInt32LittleEndian(reply) == payload.Length;
        };
    }

    /// <summary>One download of <c>buffer.Length</c> bytes into <paramref name="buffer"/> (reused: compare it after the clock).</summary>
    public static Func<bool> DownloadCall(Socket socket, byte[] buffer)
    {
        byte[] request = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(request, buffer.Length);
        return () =>
        {
            socket.Send(request);
            return ReceiveExactly(socket, buffer);
        };
    }

    private static ScenarioResult RequestResponse(Func<Socket> connect, int connections, SteadyWarmup warmup, TimeSpan duration, string key, string title, string note)
    {
        var sockets = new List<Socket>();
        try
        {
            var calls = new List<Func<bool>>();
            for (int c = 0; c < connections; c++)
            {
                Socket socket = connect();
                sockets.Add(socket);
                calls.Add(EchoCall(socket, c));
            }
            ClosedLoopResult r = ClosedLoop.Run(calls, warmup, title, duration);
            return ScenarioResult.Rate(key, title, connections, r.Calls, r.Seconds, r.PerCall, r.Failures, note).WithWarmup(r.Warmup);
        }
        finally
        {
            CloseAll(sockets);
        }
    }

    /// <summary>The client sends the payload; the server reads all of it and replies its length in 4 bytes.</summary>
    public static ScenarioResult Upload(byte[] payload, SteadyWarmup warmup, int count)
    {
        using var server = new LoopbackServer(s => UploadConnection(s, payload.Length));
        using Socket socket = server.Connect();
        return Measure("raw_tcp_upload_1mib", "raw TCP upload 1 MiB (reply: 4-byte length)", payload.Length, payload.Length, 4, warmup, count,
            UploadCall(socket, payload), "one blocking Send of the whole buffer; the server reads it into a reused buffer");
    }

    /// <summary>The client sends a 4-byte length; the server replies that many bytes of a cached buffer.</summary>
    public static ScenarioResult Download(byte[] expected, SteadyWarmup warmup, int count)
    {
        using var server = new LoopbackServer(s => DownloadConnection(s, expected));
        using Socket socket = server.Connect();
        byte[] buffer = new byte[expected.Length];
        return Measure("raw_tcp_download_1mib", "raw TCP download 1 MiB (request: 4-byte length)", expected.Length, 4, expected.Length, warmup, count,
            DownloadCall(socket, buffer), "received into a reused buffer; content compared once, after the last call",
        finalCheck: () => buffer.AsSpan().SequenceEqual(expected));
    }

    private static ScenarioResult Measure(string key, string title, long payload, long up, long down, SteadyWarmup warmup, int count, Func<bool> call, string note,
        Func<bool>? finalCheck = null)
    {
        int failures = 0;
        WarmupOutcome warmed = warmup.Run(title, [SteadyWarmup.For(() => failures += TryCall(call) ? 0 : 1)]);
        long[] ticks = new long[count];
        for (int i = 0; i < count; i++)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            bool ok = TryCall(call);
            ticks[i] = System.Diagnostics.Stopwatch.GetTimestamp() - start;
            failures += ok ? 0 : 1;
        }
        if (finalCheck is not null && !finalCheck())
        {
            failures++;
        }
        return ScenarioResult.Throughput(key, title, LatencyStats.FromTicks(ticks), failures, payload, up, down, note: note).WithWarmup(warmed);
    }

    private static bool TryCall(Func<bool> call)
    {
        try
        {
            return call();
        }
        catch (SocketException)
        {
            return false;
        }
    }

    internal static void EchoConnection(Socket socket)
    {
        byte[] buffer = new byte[MessageLength];
        while (ReceiveExactly(socket, buffer))
        {
            socket.Send(buffer);
        }
    }

    internal static void UploadConnection(Socket socket, int length)
    {
        byte[] buffer = new byte[length];
        byte[] reply = new byte[4];
        while (ReceiveExactly(socket, buffer))
        {
            BinaryPrimitives.WriteInt32LittleEndian(reply, length);
            socket.Send(reply);
        }
    }

    internal static void DownloadConnection(Socket socket, byte[] data)
    {
        byte[] request = new byte[4];
        while (ReceiveExactly(socket, request))
        {
            int n = Math.Clamp(BinaryPrimitives.ReadInt32LittleEndian(request), 0, data.Length);
            socket.Send(data, 0, n, SocketFlags.None);
        }
    }

    internal static bool ReceiveExactly(Socket socket, byte[] buffer)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int n = socket.Receive(buffer.AsSpan(filled));
            if (n == 0)
            {
                return false;
            }
            filled += n;
        }
        return true;
    }

    private static void CloseAll(List<Socket> sockets)
    {
        foreach (Socket socket in sockets)
        {
            socket.Dispose();
        }
    }
}
