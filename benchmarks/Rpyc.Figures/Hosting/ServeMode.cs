using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Rpyc.Figures.Scenarios;

namespace Rpyc.Figures.Hosting;

/// <summary>
/// The hidden <c>--serve-threaded</c> / <c>--serve-forking</c> modes: host <see cref="FiguresBenchService"/>
/// on 127.0.0.1 and a free port, print <c>PORT n</c>, and serve until stdin closes (or the process is killed).
/// The server figures run the .NET servers this way, in a process of their own, as a deployment would.
/// Before that it prints <c>ECHO n</c>: a raw 16-byte TCP echo (a thread per connection) in this same process,
/// the cross-process TCP reference that separates the cost of a second process from the cost of RPyC.
/// </summary>
internal static class ServeMode
{
    /// <param name="mode">Threaded or forking.</param>
    /// <param name="spinMicros">The server connections' <see cref="RpycConnectOptions.ReceiveSpin"/>, in microseconds.</param>
    public static int Run(FiguresMode mode, int spinMicros)
    {
        var options = new RpycServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            ConnectionOptions = new RpycConnectOptions { ReceiveSpin = TimeSpan.FromMicroseconds(spinMicros) },
        };
        using RpycServer server = mode == FiguresMode.ServeForking
            ? ForkingServer.Create<FiguresBenchService>(options)
            : new ThreadedServer(() => new FiguresBenchService(), options);
        server.Start();
        using var echo = new TcpListener(IPAddress.Loopback, 0);
        echo.Start();
        new Thread(() => ServeEcho(echo)) { IsBackground = true, Name = "raw-echo-accept" }.Start();
        Console.Out.WriteLine($"ECHO {((IPEndPoint)echo.LocalEndpoint).Port.ToString(CultureInfo.InvariantCulture)}");
        Console.Out.WriteLine($"PORT {server.Port.ToString(CultureInfo.InvariantCulture)}");
        Console.Out.Flush();
        // The parent holds our stdin: EOF means it is done with us (or died).
        using Stream stdin = Console.OpenStandardInput();
        byte[] sink = new byte[256];
        while (stdin.Read(sink) > 0)
        {
        }
        server.Stop();
        return 0;
    }

    private static void ServeEcho(TcpListener listener)
    {
        while (true)
        {
            Socket accepted;
            try
            {
                accepted = listener.AcceptSocket();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            accepted.NoDelay = true;
            new Thread(() =>
            {
                using (accepted)
                {
                    try
                    {
                        TcpFloor.EchoUntilClosed(accepted);
                    }
                    catch (SocketException)
                    {
                    }
                }
            })
            { IsBackground = true, Name = "raw-echo" }.Start();
        }
    }
}
