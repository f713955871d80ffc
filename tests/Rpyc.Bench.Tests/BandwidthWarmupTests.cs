namespace Rpyc.Bench.Tests;

/// <summary>
/// A bandwidth connection's first transfers warm by time (<c>ConnectionWarmupMinDuration</c>),
/// the sizes after them by count only, against a real raw TCP server.
/// </summary>
public sealed class BandwidthWarmupTests : IDisposable
{
    private readonly TcpRawServer _server = new("127.0.0.1", 0, TimeSpan.Zero);

    public void Dispose() => _server.Dispose();

    [Fact]
    public void ConnectionWarmup_FirstUploadWarmsByTime_LaterSizesByCount()
    {
        using var client = new CountingClient(BenchTarget.Create(TargetCatalog.TcpRaw, "tcp", "127.0.0.1", _server.Port).Connect());
        BandwidthResult result = new BandwidthBenchmark("b", client, [1024, 2048], new RunLimits(20, TimeSpan.FromSeconds(30), 3))
        {
            ConnectionWarmupMinDuration = TimeSpan.FromMilliseconds(200),
        }.Execute();

        Assert.All(result.Upload.Concat(result.Download), s => Assert.Equal(20, s.Transfers));
        // 200 ms of 1 KiB uploads on loopback are thousands; warmed by count alone the size would
        // have seen 3 + 20. More than that is the time rule at work, however slow the machine.
        Assert.True(client.Uploads[1024] > 23, $"{client.Uploads[1024]} uploads of 1 KiB");
        Assert.Equal(23, client.Downloads[1024]);
        Assert.Equal(23, client.Uploads[2048]);
        Assert.Equal(23, client.Downloads[2048]);
    }

    [Fact]
    public void ConnectionWarmup_ShorterThanWarmupMinDuration_EverySizeWarmsAlike()
    {
        using var client = new CountingClient(BenchTarget.Create(TargetCatalog.TcpRaw, "tcp", "127.0.0.1", _server.Port).Connect());
        new BandwidthBenchmark("b", client, [1024, 2048], new RunLimits(5, TimeSpan.FromSeconds(30), 3))
        {
            // 250 ms, not 50: one stall of the VM as long as the window (seen once in CI) left the
            // count's 3 + 5 transfers and failed the test; a few hundred transfers fit in 250 ms.
            WarmupMinDuration = TimeSpan.FromMilliseconds(250),
            ConnectionWarmupMinDuration = TimeSpan.FromMilliseconds(1),
        }.Execute();

        // Each size and direction warmed for 250 ms: far more than the count's 3 + 5.
        Assert.All(client.Uploads.Values.Concat(client.Downloads.Values), n => Assert.True(n > 8, $"{n} transfers"));
    }

    // Counts the transfers of each size that reach the real client.
    private sealed class CountingClient(BenchClient inner) : BenchClient
    {
        public Dictionary<int, int> Uploads { get; } = [];

        public Dictionary<int, int> Downloads { get; } = [];

        public override long RoundTrips => inner.RoundTrips;

        public override void Ping() => inner.Ping();

        public override void Echo(byte[] data) => inner.Echo(data);

        public override void Upload(byte[] data)
        {
            Uploads[data.Length] = Uploads.GetValueOrDefault(data.Length) + 1;
            inner.Upload(data);
        }

        public override void Download(int length)
        {
            Downloads[length] = Downloads.GetValueOrDefault(length) + 1;
            inner.Download(length);
        }

        public override void Compute(int n) => inner.Compute(n);

        public override void Sleep(double seconds) => inner.Sleep(seconds);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }
        }
    }
}
