using System.Net;
using System.Net.Sockets;

namespace Rpyc.Bench.Tests;

/// <summary>Two connected TCP sockets on 127.0.0.1, for tests of what one socket sees of the other.</summary>
internal static class LoopbackPair
{
    public static (Socket Connecting, Socket Accepted) Connect()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var connecting = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        connecting.Connect(listener.LocalEndPoint!);
        return (connecting, listener.Accept());
    }
}
