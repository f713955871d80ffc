using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Rpyc.Bench;

/// <summary>
/// The raw TCP benchmark server: one thread per connection, blocking reads, the same operations as
/// the benchmark service with no serialization at all. The floor of every comparison.
/// </summary>
public sealed class TcpRawServer : IDisposable
{
    private readonly Socket _listener;
    private readonly List<Socket> _clients = [];
    private readonly Lock _sync = new();
    private readonly Thread _acceptThread;
    private volatile bool _stopped;

    /// <summary>Binds and starts accepting.</summary>
    /// <param name="host">Address to bind, e.g. 127.0.0.1.</param>
    /// <param name="port">Port, 0 for a free one.</param>
    public TcpRawServer(string host, int port)
    {
        IPAddress address = IPAddress.Parse(host == "localhost" ? "127.0.0.1" : host);
        _listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(new IPEndPoint(address, port));
        _listener.Listen(512);
        Port = ((IPEndPoint)_listener.LocalEndPoint!).Port;
        _acceptThread = new Thread(AcceptLoop) { IsBackground = true, Name = "tcp-raw-accept" };
        _acceptThread.Start();
    }

    /// <summary>The bound port.</summary>
    public int Port { get; }

    private void AcceptLoop()
    {
        while (!_stopped)
        {
            Socket client;
            try
            {
                client = _listener.Accept();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                continue;
            }
            client.NoDelay = true;
            lock (_sync)
            {
                _clients.Add(client);
            }
            new Thread(() => Serve(client)) { IsBackground = true, Name = "tcp-raw-conn" }.Start();
        }
    }

    private void Serve(Socket client)
    {
        byte[] header = new byte[5];
        byte[] body = new byte[64 * 1024];
        byte[] reply = new byte[64];
        byte[] lengthReply = new byte[8];
        try
        {
            while (!_stopped)
            {
                TcpRawProtocol.ReceiveExactly(client, header);
                int length = BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1));
                if (length < 0 || length > TcpRawProtocol.MaxBody)
                {
                    return;
                }
                if (body.Length < length)
                {
                    body = new byte[Math.Max(length, body.Length * 2)];
                }
                TcpRawProtocol.ReceiveExactly(client, body.AsSpan(0, length));
                ReadOnlySpan<byte> arg = body.AsSpan(0, length);
                switch (header[0])
                {
                    case TcpRawProtocol.Ping:
                        Reply(client, reply, "pong"u8);
                        break;
                    case TcpRawProtocol.Echo:
                    case TcpRawProtocol.Sleep:
                        if (header[0] == TcpRawProtocol.Sleep)
                        {
                            Thread.Sleep(TimeSpan.FromSeconds(Math.Max(0, BinaryPrimitives.ReadDoubleBigEndian(arg))));
                        }
                        Reply(client, reply, arg);
                        break;
                    case TcpRawProtocol.Upload:
                        BinaryPrimitives.WriteInt64BigEndian(lengthReply, length);
                        Reply(client, reply, lengthReply);
                        break;
                    case TcpRawProtocol.Download:
                        Reply(client, reply, BenchOperations.Download(BinaryPrimitives.ReadInt32BigEndian(arg)));
                        break;
                    case TcpRawProtocol.Compute:
                        object sum = BenchOperations.Compute(BinaryPrimitives.ReadInt32BigEndian(arg));
                        Reply(client, reply, Encoding.ASCII.GetBytes(Convert.ToString(sum, CultureInfo.InvariantCulture)!));
                        break;
                    default:
                        return;
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or EndOfStreamException or ObjectDisposedException or ArgumentException)
        {
            // The client went away, or sent garbage: drop the connection only.
        }
        finally
        {
            lock (_sync)
            {
                _clients.Remove(client);
            }
            client.Dispose();
        }
    }

    private static void Reply(Socket client, byte[] scratch, ReadOnlySpan<byte> data)
    {
        BinaryPrimitives.WriteInt32BigEndian(scratch, data.Length);
        if (data.Length <= scratch.Length - 4)
        {
            data.CopyTo(scratch.AsSpan(4));
            TcpRawProtocol.SendAll(client, scratch.AsSpan(0, 4 + data.Length));
        }
        else
        {
            TcpRawProtocol.SendAll(client, scratch.AsSpan(0, 4));
            TcpRawProtocol.SendAll(client, data);
        }
    }

    /// <summary>Stops accepting and closes every connection.</summary>
    public void Dispose()
    {
        _stopped = true;
        _listener.Dispose();
        lock (_sync)
        {
            foreach (Socket client in _clients)
            {
                client.Dispose();
            }
            _clients.Clear();
        }
        _acceptThread.Join(TimeSpan.FromSeconds(2));
    }
}
