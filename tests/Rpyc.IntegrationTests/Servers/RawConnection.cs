using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Rpyc.Channel;
using Rpyc.Protocol;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// A client that speaks frames and envelopes by hand over a raw socket, for replaying recorded
/// frames and sending malformed input to a real listening server.
/// </summary>
internal sealed class RawConnection : IDisposable
{
    // The test side accepts anything a server may legitimately send.
    private static readonly ChannelLimits s_limits = new(int.MaxValue, 512 * 1024 * 1024, 10_000);

    private readonly Socket _socket;
    private readonly MemoryStream _buffer = new();
    private bool _eof;

    private RawConnection(Socket socket)
    {
        _socket = socket;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    public static async Task<RawConnection> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return new RawConnection(socket);
    }

    /// <summary>This client's address as the server logs it (its <c>PeerName</c>).</summary>
    public IPEndPoint LocalEndPoint { get; }

    public string PeerNameOnServer => $"{LocalEndPoint.Address}:{LocalEndPoint.Port}";

    public bool SawEndOfStream => _eof;

    /// <summary>Whether the server reset the connection instead of closing it.</summary>
    public bool SawReset { get; private set; }

    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!bytes.IsEmpty)
        {
            int sent = await _socket.SendAsync(bytes, SocketFlags.None, cts.Token);
            bytes = bytes[sent..];
        }
    }

    /// <summary>Sends one message in <paramref name="version"/>'s envelope, compressed above <paramref name="compressionThreshold"/> as Python does.</summary>
    public Task SendMessageAsync(RpycProtocolVersion version, MessageKind kind, long seq, object? args, int compressionThreshold = FrameWriter.PythonCompressionThreshold) =>
        SendAsync(EncodeMessage(version, kind, seq, args, compressionThreshold));

    public static byte[] EncodeMessage(RpycProtocolVersion version, MessageKind kind, long seq, object? args, int compressionThreshold = FrameWriter.PythonCompressionThreshold)
    {
        var payload = new ArrayBufferWriter<byte>();
        Envelope.Write(payload, version, kind, seq, args);
        return FrameWriter.Encode(payload.WrittenSpan, compressionThreshold);
    }

    /// <summary>A request <c>(handler, boxed_args)</c> whose arguments are all plain values.</summary>
    public static object Request(HandlerId handler, params object?[] args) =>
        new PyTuple((long)handler, new PyTuple(BoxLabel.Value, PyTuple.From(args)));

    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>The next message, or <c>null</c> at end of stream (or reset).</summary>
    /// <exception cref="TimeoutException">Nothing complete arrived in time.</exception>
    public async Task<(Message Message, RpycProtocolVersion Version)?> ReadMessageAsync(RpycProtocolVersion? expected, TimeSpan timeout)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        byte[] chunk = new byte[64 * 1024];
        while (true)
        {
            if (TryTakeFrame(out byte[]? payload))
            {
                var sequence = new ReadOnlySequence<byte>(payload);
                RpycProtocolVersion version = expected ?? Envelope.Detect(sequence)
                    ?? throw new InvalidDataException($"The server sent a payload starting with 0x{payload[0]:x2}.");
                return (Envelope.Read(sequence, version, 10_000), version);
            }
            if (_eof)
            {
                if (_buffer.Length != 0)
                {
                    throw new InvalidDataException($"The server closed the connection after {_buffer.Length} bytes of an incomplete frame.");
                }
                return null;
            }
            long left = deadline - Environment.TickCount64;
            if (left <= 0)
            {
                throw new TimeoutException($"No complete frame within {timeout.TotalSeconds:0.#} s ({_buffer.Length} bytes buffered).");
            }
            int n;
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(left));
                n = await _socket.ReceiveAsync(chunk, SocketFlags.None, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"No complete frame within {timeout.TotalSeconds:0.#} s ({_buffer.Length} bytes buffered).");
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
            {
                SawReset = true;
                n = 0;
            }
            if (n == 0)
            {
                _eof = true;
                continue;
            }
            _buffer.Position = _buffer.Length;
            _buffer.Write(chunk, 0, n);
        }
    }

    /// <summary>Reads every message until the server closes the connection.</summary>
    /// <exception cref="TimeoutException">The connection stayed open.</exception>
    public async Task<List<Message>> ReadUntilClosedAsync(RpycProtocolVersion? expected, TimeSpan timeout)
    {
        var messages = new List<Message>();
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            TimeSpan left = TimeSpan.FromMilliseconds(Math.Max(1, deadline - Environment.TickCount64));
            (Message Message, RpycProtocolVersion Version)? next = await ReadMessageAsync(expected, left);
            if (next is null)
            {
                return messages;
            }
            messages.Add(next.Value.Message);
            if (messages.Count > 1000)
            {
                throw new InvalidDataException("More than 1000 messages before the close.");
            }
        }
    }

    private bool TryTakeFrame([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? payload)
    {
        payload = null;
        var buffered = new ReadOnlySequence<byte>(_buffer.GetBuffer(), 0, (int)_buffer.Length);
        ReadOnlySequence<byte> rest = buffered;
        if (!FrameReader.TryReadFrame(ref rest, s_limits, out ReadOnlySequence<byte> frame))
        {
            return false;
        }
        payload = frame.ToArray();
        byte[] remaining = rest.ToArray();
        _buffer.SetLength(0);
        _buffer.Write(remaining);
        return true;
    }

    public void Dispose() => _socket.Dispose();
}

/// <summary>Reading messages and boxes produced by the server.</summary>
internal static class Boxes
{
    public static long Label(object? boxed) =>
        boxed is PyTuple { Count: 2 } box && box[0] is long label ? label : throw new InvalidDataException($"Not a box: {PyValue.Repr(boxed)}.");

    public static object? Payload(object? boxed) =>
        boxed is PyTuple { Count: 2 } box ? box[1] : throw new InvalidDataException($"Not a box: {PyValue.Repr(boxed)}.");

    /// <summary>The exception type <c>(module, class)</c> of a MSG_EXCEPTION payload as <c>module.Class</c>.</summary>
    public static string ExceptionType(object? payload) => payload switch
    {
        long code when code == ExceptionCodes.StopIteration => "StopIteration (shortcut)",
        PyTuple { Count: >= 4 } t when t[0] is PyTuple { Count: 2 } type => $"{type[0]}.{type[1]}",
        _ => throw new InvalidDataException($"Not a vinegar payload: {PyValue.Repr(payload)}."),
    };

    public static PyTuple ExceptionArgs(object? payload) =>
        payload is PyTuple { Count: >= 4 } t && t[1] is PyTuple args ? args : PyTuple.Empty;
}
