using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Rpyc.Bench.Tests;

/// <summary>
/// The connection phase warms by the latency phase's rule (<c>WarmupRule</c>), with real
/// connections to a real raw TCP server: until the JIT probe is quiet, and failed warmup
/// connections are counted, not ignored.
/// </summary>
public sealed class ConnectionWarmupTests : IDisposable
{
    private readonly TcpRawServer _server = new("127.0.0.1", 0, TimeSpan.Zero);

    public void Dispose() => _server.Dispose();

    private BenchTarget Target() => BenchTarget.Create(TargetCatalog.TcpRaw, "tcp", "127.0.0.1", _server.Port);

    [Fact]
    public void Warmup_JitBusyThenQuiet_ConnectsUntilQuietThenMeasuresItsCount()
    {
        Stopwatch? clock = null;
        long counter = 0;
        ConnectionResult result = new ConnectionBenchmark("c", Target(), new RunLimits(7, TimeSpan.FromSeconds(30), 2))
        {
            // Compiles for the first 200 ms of the warmup (from its first look), then never again.
            JitActivity = () => (clock ??= Stopwatch.StartNew()).ElapsedMilliseconds < 200 ? ++counter : counter,
            WarmupQuietPeriod = TimeSpan.FromMilliseconds(100),
        }.Execute();

        Assert.True(result.WarmupSettled);
        // 200 ms busy + 100 ms quiet; a count-only warmup (2 connections) takes well under 10 ms.
        Assert.InRange(result.WarmupSeconds ?? -1, 0.2, 10);
        Assert.Equal(0, result.WarmupFailures);
        Assert.Equal(7, result.Successes);
        Assert.Equal(0, result.Failures);
    }

    [Fact]
    public void Warmup_NoJitProbe_CountOnlySettledUnknown()
    {
        ConnectionResult result = new ConnectionBenchmark("c", Target(), new RunLimits(3, TimeSpan.FromSeconds(30), 4)).Execute();

        Assert.Null(result.WarmupSettled);
        Assert.NotNull(result.WarmupSeconds);
        Assert.Equal(3, result.Successes);
    }

    [Fact]
    public void Warmup_NothingListening_WarmupFailuresCounted()
    {
        // A port that was just free: every connect is refused.
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }
        BenchTarget dead = BenchTarget.Create(TargetCatalog.TcpRaw, "tcp", "127.0.0.1", port);

        ConnectionResult result = new ConnectionBenchmark("c", dead, new RunLimits(3, TimeSpan.FromSeconds(30), 4)).Execute();

        Assert.Equal(4, result.WarmupFailures);
        Assert.Equal(3, result.Failures);
        Assert.Equal(0, result.Successes);
        Assert.NotNull(result.FirstError);
    }
}
