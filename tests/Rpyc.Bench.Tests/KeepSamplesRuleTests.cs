namespace Rpyc.Bench.Tests;

// --keep-samples is one percentile rule for every figure: the bandwidth sizes' transfer times and
// the ping's pairing with the floor once kept the histogram rule while the ping interpolated.
[Collection(ServerProcesses.Name)]
public sealed class KeepSamplesRuleTests : IDisposable
{
    private readonly TcpRawServer _server = new("127.0.0.1", 0, TimeSpan.Zero);

    public void Dispose() => _server.Dispose();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BandwidthRecorders_FollowKeepSamples(bool keep)
    {
        var recorders = new Dictionary<(int Size, bool Upload), LatencyRecorder>();
        using var client = new TcpRawBenchClient("127.0.0.1", _server.Port, TimeSpan.Zero);
        BandwidthResult r = new BandwidthBenchmark("b", client, [1024], new RunLimits(5, TimeSpan.FromSeconds(10), 1))
        {
            Into = recorders,
            KeepSamples = keep,
        }.Execute();
        Assert.Equal(5, Assert.Single(r.Upload).Transfers);
        Assert.Equal(2, recorders.Count);
        Assert.All(recorders.Values, recorder => Assert.Equal(keep, recorder.KeepsSamples));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void FloorPairing_FollowsKeepSamples(bool keep) =>
        Assert.Equal(keep, new FloorPairing(new TcpRawBenchTarget("tcp_raw", "127.0.0.1", _server.Port), keep).KeepsSamples);
}
