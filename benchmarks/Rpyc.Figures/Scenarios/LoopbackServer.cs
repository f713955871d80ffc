using System.Net;
using System.Net.Sockets;

namespace Rpyc.Figures.Scenarios;

/// <summary>A loopback listener that serves each accepted connection on a thread of its own until the peer closes.</summary>
internal sealed class LoopbackServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Action<Socket> _serve;
    private readonly List<Thread> _threads = [];
    private readonly Thread _acceptor;

    public LoopbackServer(Action<Socket> serve)
    {
        _serve = serve;
        _listener.Start();
        _acceptor = new Thread(AcceptLoop) { IsBackground = true, Name = "raw-tcp-accept" };
        _acceptor.Start();
    }

    public Socket Connect() => Connect(((IPEndPoint)_listener.LocalEndpoint).Port);

    public static Socket Connect(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Connect(IPAddress.Loopback, port);
        return socket;
    }

    private void AcceptLoop()
    {
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = _listener.AcceptSocket();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            accepted.NoDelay = true;
            var thread = new Thread(() => Serve(accepted)) { IsBackground = true, Name = "raw-tcp-conn" };
            lock (_threads)
            {
                _threads.Add(thread);
            }
            thread.Start();
        }
    }

    private void Serve(Socket socket)
    {
        using (socket)
        {
            try
            {
                _serve(socket);
            }
            catch (SocketException)
            {
                // The client went away mid-message: the figure already counted it.
            }
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _acceptor.Join(TimeSpan.FromSeconds(5));
        Thread[] threads;
        lock (_threads)
        {
            threads = [.. _threads];
        }
        // Clients close first (the callers dispose their sockets before this), so each thread sees EOF.
        foreach (Thread thread in threads)
        {
            thread.Join(TimeSpan.FromSeconds(5));
        }
    }
}
