using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Rpyc.IntegrationTests;

/// <summary>
/// A signal that interrupts <see cref="RpycConnection.Connect"/> in connect(2) (EINTR; the runtime
/// retries, and Linux answers EALREADY while the handshake goes on) no longer fails the connect with
/// "Operation already in progress": the pending connect is waited for within ConnectTimeout and its
/// outcome taken from SO_ERROR; a connect that completes that way is a normal connected socket. Real sockets: a listener whose accept queue is full drops the SYN,
/// so the connect stays in SYN_SENT until the test drains the queue (or never, for the timeout case).
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ConnectInterruptedTests(ITestOutputHelper output)
{
    private const int SigWinch = 28;

    [DllImport("libc", EntryPoint = "gettid")]
    private static extern int GetTid();

    [DllImport("libc", EntryPoint = "tgkill", SetLastError = true)]
    private static extern int TgKill(int tgid, int tid, int signal);

    private static int ConnectSyscall => RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? 203 : 42;

    [Fact]
    public async Task Connect_InterruptedBySignal_CompletesWhenTheServerAccepts()
    {
        using var listener = FullListener(out List<Socket> queued);
        try
        {
            (Task<RpycConnection> connecting, int tid) = StartConnect(listener, TimeSpan.FromSeconds(20));
            await InterruptAsync(tid, connecting);
            // Accept until the retransmitted SYN gets in (about 1 s later) and the connect completes.
            using var drain = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (!connecting.IsCompleted && !drain.IsCancellationRequested)
            {
                if (listener.Poll(50_000, SelectMode.SelectRead))
                {
                    queued.Add(listener.Accept());
                }
            }
            Assert.True(connecting.IsCompleted, "The interrupted connect did not complete within 20 s of the queue being drained.");
            using RpycConnection conn = await connecting;
            var local = (IPEndPoint)conn.Socket!.LocalEndPoint!;
            output.WriteLine($"connected as {local} to {conn.PeerName}");
            Assert.Equal(listener.LocalEndPoint!.ToString(), conn.PeerName);
            Assert.True(conn.Socket.Connected);
            Assert.True(conn.Socket.Blocking);
            // The connection works: bytes reach the server's side of it.
            while (queued.All(s => !local.Equals(s.RemoteEndPoint)) && listener.Poll(2_000_000, SelectMode.SelectRead))
            {
                queued.Add(listener.Accept());
            }
            Socket server = Assert.Single(queued, s => local.Equals(s.RemoteEndPoint));
            conn.Socket.Send("ok"u8);
            byte[] got = new byte[2];
            server.ReceiveTimeout = 5000;
            Assert.Equal(2, server.Receive(got));
            Assert.Equal("ok"u8.ToArray(), got);
        }
        finally
        {
            queued.ForEach(s => s.Dispose());
        }
    }

    [Fact]
    public async Task Connect_InterruptedBySignal_NeverAccepted_TimesOut()
    {
        using var listener = FullListener(out List<Socket> queued);
        try
        {
            (Task<RpycConnection> connecting, int tid) = StartConnect(listener, TimeSpan.FromSeconds(3));
            await InterruptAsync(tid, connecting);
            var ex = await Assert.ThrowsAsync<RpycConnectionException>(() => connecting.WaitAsync(TimeSpan.FromSeconds(30)));
            output.WriteLine(ex.Message);
            Assert.IsType<TimeoutException>(ex.InnerException);
        }
        finally
        {
            queued.ForEach(s => s.Dispose());
        }
    }

    // A listener with a backlog of 1 and connections queued until a further SYN is dropped.
    private Socket FullListener(out List<Socket> queued)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        queued = [];
        for (int i = 0; i < 16; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            // Backlog 1 queues two connections on Linux: those complete however busy the machine is.
            using var quick = new CancellationTokenSource(queued.Count < 2 ? TimeSpan.FromSeconds(20) : TimeSpan.FromMilliseconds(500));
            try
            {
                filler.ConnectAsync(listener.LocalEndPoint!, quick.Token).AsTask().GetAwaiter().GetResult();
                queued.Add(filler);
            }
            catch (OperationCanceledException)
            {
                // Its SYN was dropped: the queue is full.
                filler.Dispose();
                output.WriteLine($"accept queue full after {queued.Count} connections");
                return listener;
            }
        }
        listener.Dispose();
        queued.ForEach(s => s.Dispose());
        throw new InvalidOperationException("The accept queue never filled: SYNs are not dropped on this machine.");
    }

    private static (Task<RpycConnection> Connecting, int Tid) StartConnect(Socket listener, TimeSpan timeout)
    {
        var tid = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var connecting = new TaskCompletionSource<RpycConnection>(TaskCreationOptions.RunContinuationsAsynchronously);
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        new Thread(() =>
        {
            tid.SetResult(GetTid());
            try
            {
                connecting.SetResult(RpycConnection.Connect("127.0.0.1", port, new RpycConnectOptions { ConnectTimeout = timeout }));
            }
            catch (Exception ex)
            {
                connecting.SetException(ex);
            }
        })
        { IsBackground = true, Name = "interrupted-connect" }.Start();
        return (connecting.Task, tid.Task.GetAwaiter().GetResult());
    }

    // Waits until the thread is blocked in connect(2), then sends it a signal that has a handler.
    private async Task InterruptAsync(int tid, Task<RpycConnection> connecting)
    {
        using PosixSignalRegistration handler = PosixSignalRegistration.Create(PosixSignal.SIGWINCH, context => context.Cancel = true);
        string path = $"/proc/self/task/{tid.ToString(CultureInfo.InvariantCulture)}/syscall";
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!InConnect(path))
        {
            Assert.False(connecting.IsCompleted, $"The connect ended before it could be interrupted: {connecting.Exception?.InnerException?.Message}");
            await Task.Delay(10, bound.Token);
        }
        Assert.Equal(0, TgKill(Environment.ProcessId, tid, SigWinch));
        output.WriteLine($"interrupted thread {tid} in connect(2)");
    }

    private static bool InConnect(string path) => ReadSyscall(path) == ConnectSyscall;

    private static int ReadSyscall(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (IOException)
        {
            // The thread has ended.
            return -1;
        }
        return int.TryParse(text.AsSpan(0, Math.Max(0, text.IndexOf(' ', StringComparison.Ordinal))), CultureInfo.InvariantCulture, out int nr) ? nr : -1;
    }
}
