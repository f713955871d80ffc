using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Rpyc.Profiling.Wire;

/// <summary>
/// A TCP relay between any RPyC client and server (Python, .NET, any version 5.x or 6.x) that
/// forwards every byte unchanged and profiles the connections from their frames: round trips,
/// one-way messages, handlers, bytes, netrefs, nesting, slow calls and advice. Nothing is installed
/// on either side: point the client at <see cref="LocalEndPoint"/>. Each byte is forwarded before
/// it is decoded, so decoding never delays it; the time the relay takes is measured per round trip.
/// </summary>
/// <example>
/// <code>
/// await using var proxy = RpycWireProxy.Start(new IPEndPoint(IPAddress.Loopback, 18870), "127.0.0.1", 18861);
/// // ... run the client against 127.0.0.1:18870 ...
/// WireProfile profile = proxy.GetProfile();
/// Console.WriteLine(WireProfileReport.FormatText(profile));
/// </code>
/// </example>
public sealed class RpycWireProxy : IAsyncDisposable
{
    private const int BufferSize = 64 * 1024;

    private readonly Socket _listener;
    private readonly string _targetHost;
    private readonly int _targetPort;
    private readonly WireRecorder _recorder;
    private readonly CancellationTokenSource _stop = new();
    private readonly object _lock = new();
    private readonly List<Socket> _sockets = [];
    private readonly List<Task> _connections = [];
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _acceptLoop;
    private int _active;
    private int _disposed;

    private RpycWireProxy(Socket listener, string targetHost, int targetPort, RpycWireProxyOptions options)
    {
        _listener = listener;
        _targetHost = targetHost;
        _targetPort = targetPort;
        _recorder = new WireRecorder(options);
        LocalEndPoint = (IPEndPoint)listener.LocalEndPoint!;
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>Where the relay listens (with the port the OS chose when asked for port 0).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>The server the relay connects each client to, as <c>host:port</c> (an IPv6 address in brackets).</summary>
    public string Target => Rpyc.Transport.HostPort.Format(_targetHost, _targetPort);

    /// <summary>Client connections currently relayed.</summary>
    public int ActiveConnections => Volatile.Read(ref _active);

    /// <summary>Client connections accepted so far.</summary>
    public int TotalConnections => _recorder.ConnectionCount;

    /// <summary>Completes when at least one client has connected and the last one has disconnected.</summary>
    public Task Idle => _idle.Task;

    /// <summary>Starts listening on <paramref name="listen"/> and relaying each client to the target.</summary>
    /// <param name="listen">The address and port to listen on (port 0: any free port).</param>
    /// <param name="targetHost">The server's host name or address.</param>
    /// <param name="targetPort">The server's port.</param>
    /// <param name="options">Settings, or <c>null</c> for <see cref="RpycWireProxyOptions.Default"/>.</param>
    /// <returns>The running relay; dispose it to stop.</returns>
    /// <exception cref="ArgumentException"><paramref name="targetHost"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="targetPort"/> is not 1..65535, or an option is out of range.</exception>
    /// <exception cref="SocketException">The listen address cannot be bound (in use, not local).</exception>
    public static RpycWireProxy Start(IPEndPoint listen, string targetHost, int targetPort, RpycWireProxyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentException.ThrowIfNullOrEmpty(targetHost);
        ArgumentOutOfRangeException.ThrowIfLessThan(targetPort, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(targetPort, IPEndPoint.MaxPort);
        options ??= RpycWireProxyOptions.Default;
        options.Validate();
        var listener = new Socket(listen.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.Bind(listen);
            listener.Listen(128);
        }
        catch
        {
            listener.Dispose();
            throw;
        }
        return new RpycWireProxy(listener, targetHost, targetPort, options);
    }

    internal WireRecorder Recorder => _recorder;

    /// <summary>Awaited by each pump after it forwards a chunk: a test widens the gap between forwarding and what follows it.</summary>
    internal Func<Task>? AfterForwardForTests { get; set; }

    /// <summary>What was seen so far (connections still open included).</summary>
    /// <returns>An immutable profile.</returns>
    public WireProfile GetProfile() => _recorder.Snapshot(LocalEndPoint.ToString(), Target);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }
            Interlocked.Increment(ref _active);
            lock (_lock)
            {
                _sockets.Add(client);
                _connections.Add(RelayAsync(client));
            }
        }
    }

    private async Task RelayAsync(Socket client)
    {
        WireRecorder.ConnectionState connection = _recorder.Open(client.RemoteEndPoint?.ToString() ?? "?");
        var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp);
        string? connectError = null;
        try
        {
            // RPyC is request/response with small frames: Nagle would add 40 ms delayed-ACK stalls the peers do not have.
            client.NoDelay = true;
            upstream.NoDelay = true;
            lock (_lock)
            {
                _sockets.Add(upstream);
            }
            try
            {
                await upstream.ConnectAsync(_targetHost, _targetPort, _stop.Token).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                connectError = $"cannot connect to {Target}: {ex.Message}";
                return;
            }
            Task up = PumpAsync(client, upstream, connection, WireDirection.ClientToServer);
            Task down = PumpAsync(upstream, client, connection, WireDirection.ServerToClient);
            await Task.WhenAll(up, down).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            client.Dispose();
            upstream.Dispose();
            lock (_lock)
            {
                _sockets.Remove(client);
                _sockets.Remove(upstream);
            }
            _recorder.Closed(connection, connectError);
            if (Interlocked.Decrement(ref _active) == 0)
            {
                _idle.TrySetResult();
            }
        }
    }

    private async Task PumpAsync(Socket from, Socket to, WireRecorder.ConnectionState connection, WireDirection direction)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (true)
            {
                int received = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                long timestamp = Stopwatch.GetTimestamp();
                if (received == 0)
                {
                    // Half-close: the other direction may still carry replies.
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }
                // Recorded before forwarding, so the recorder sees every message before anything
                // sent in answer to it (see WireRecorder.OnData); the relay time includes it.
                _recorder.OnData(connection, direction, buffer.AsSpan(0, received), timestamp);
                for (int sent = 0; sent < received;)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, received - sent), SocketFlags.None, _stop.Token).ConfigureAwait(false);
                }
                _recorder.OnForwarded(connection, direction, Stopwatch.GetTimestamp() - timestamp);
                if (AfterForwardForTests is { } afterForward)
                {
                    await afterForward().ConfigureAwait(false);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // A reset on one side ends both: closing the other socket wakes its pump.
            from.Dispose();
            to.Dispose();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Stops listening, closes every relayed connection and waits for them to end.</summary>
    /// <returns>A task that completes when everything is closed.</returns>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        Task[] pending;
        lock (_lock)
        {
            foreach (Socket socket in _sockets)
            {
                socket.Dispose();
            }
            pending = [_acceptLoop, .. _connections];
        }
        await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _stop.Dispose();
    }
}
