namespace Rpyc.Bench.Tests;

// Clients of the concurrent benchmark that cannot connect, against a real raw TCP server on
// 127.0.0.1: they must weigh in the success rate as the share of the load they were, however long
// the working clients ran.
[Collection(ServerProcesses.Name)]
public sealed class ConcurrentRefusedTests : IDisposable
{
    private readonly TcpRawServer _server = new("127.0.0.1", 0, TimeSpan.Zero);

    public void Dispose() => _server.Dispose();

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.3)]
    public void OneOfFourRefused_SuccessRateIsThreeQuartersWhateverThePhaseLasts(double minSeconds)
    {
        ConcurrentResult r = new ConcurrentBenchmark("k", new RefusingFirst(_server), clients: 4, requestsPerClient: 100)
        {
            MinDuration = TimeSpan.FromSeconds(minSeconds),
        }.Execute();
        Assert.Contains("could not connect", r.FirstError, StringComparison.Ordinal);
        // The three working clients made at least 100 requests each; the refused one failed as many
        // as they made on average.
        Assert.True(r.Successes >= 300, $"{r.Successes} successes");
        Assert.Equal(0.75, r.SuccessRate, 2);
        Assert.Equal(r.Successes / 3.0, r.Failures, r.Successes / 30.0);
    }

    // Refuses its first connection, then connects as the raw TCP target does.
    private sealed class RefusingFirst(TcpRawServer server) : BenchTarget("tcp_raw", "tcp", "127.0.0.1", server.Port)
    {
        private int _connects;

        public override BenchClient Connect() =>
            Interlocked.Increment(ref _connects) == 1
                ? throw new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused)
                : new TcpRawBenchClient(Host, Port, TimeSpan.Zero);
    }
}
