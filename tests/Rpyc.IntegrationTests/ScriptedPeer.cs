using System.Buffers;
using System.Net;
using System.Net.Sockets;
using Rpyc.Channel;

namespace Rpyc.IntegrationTests;

/// <summary>
/// The server end of one loopback connection, driven by a test script: whole frames in, raw
/// bytes out. Listens on 127.0.0.1 and a port chosen by the OS.
/// </summary>
internal sealed class ScriptedPeer : IAsyncDisposable
{
    private readonly TcpListener _listener;
    private Socket? _socket;
    private byte[] _buffer = new byte[64 * 1024];
    private int _count;

    public ScriptedPeer()
    {
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start(1);
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
    }

    public int Port { get; }

    public async Task AcceptAsync(CancellationToken cancellationToken)
    {
        _socket = await _listener.AcceptSocketAsync(cancellationToken);
        _socket.NoDelay = true;
        _listener.Stop();
    }

    /// <summary>The next complete frame, exactly as sent, or <c>null</c> at end of stream.</summary>
    public async Task<byte[]?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        Socket socket = _socket ?? throw new InvalidOperationException("No connection accepted yet.");
        while (true)
        {
            var buffered = new ReadOnlySequence<byte>(_buffer, 0, _count);
            if (FrameReader.TryReadHeader(buffered, ChannelLimits.Default, out int bodyLength, out _))
            {
                int total = FrameWriter.HeaderLength + bodyLength + 1;
                if (_count >= total)
                {
                    byte[] frame = _buffer.AsSpan(0, total).ToArray();
                    _buffer.AsSpan(total, _count - total).CopyTo(_buffer);
                    _count -= total;
                    return frame;
                }
                if (_buffer.Length < total)
                {
                    Array.Resize(ref _buffer, total);
                }
            }
            int read;
            try
            {
                read = await socket.ReceiveAsync(_buffer.AsMemory(_count), SocketFlags.None, cancellationToken);
            }
            catch (SocketException)
            {
                return null;
            }
            if (read == 0)
            {
                return null;
            }
            _count += read;
        }
    }

    public async Task SendAsync(byte[] frame, CancellationToken cancellationToken)
    {
        Socket socket = _socket ?? throw new InvalidOperationException("No connection accepted yet.");
        int sent = 0;
        while (sent < frame.Length)
        {
            sent += await socket.SendAsync(frame.AsMemory(sent), SocketFlags.None, cancellationToken);
        }
    }

    /// <summary>Drops the connection, as Python does after CLOSE or a protocol error.</summary>
    public void CloseConnection()
    {
        Socket? socket = _socket;
        if (socket is null)
        {
            return;
        }
        try
        {
            socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
        socket.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Dispose();
        CloseConnection();
        return ValueTask.CompletedTask;
    }
}
