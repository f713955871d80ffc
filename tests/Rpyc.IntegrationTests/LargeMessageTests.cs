using Rpyc.IntegrationTests.Servers;

namespace Rpyc.IntegrationTests;

/// <summary>
/// Tests that move hundreds of megabytes or measure this process's heap: they run alone, after the
/// parallel collections, so their garbage and forced collections disturb no other test (the GC
/// tests of netrefs count on no collection happening at the wrong moment) and no other test
/// disturbs their measurements.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MemoryHeavyCollection : ICollectionFixture<PythonServerFixture>
{
    public const string Name = "Memory-heavy tests, run alone";
}

/// <summary>Payloads from 100 KiB to 8 MiB round trip intact over real sockets, compressed or not, in both envelopes.</summary>
[Collection(MemoryHeavyCollection.Name)]
public sealed class LargeMessageTests(ITestOutputHelper output)
{
    private const int MiB = 1024 * 1024;

    public static TheoryData<int, int, RpycProtocolVersion> Cases()
    {
        var data = new TheoryData<int, int, RpycProtocolVersion>();
        foreach (int size in new[] { 100 * 1024, MiB, 8 * MiB })
        {
            // Compression off (the .NET default) and at Python's 3000-byte threshold on both sides.
            data.Add(size, -1, RpycProtocolVersion.V5);
            data.Add(size, FrameThreshold, RpycProtocolVersion.V5);
        }
        data.Add(MiB, -1, RpycProtocolVersion.V6);
        data.Add(MiB, FrameThreshold, RpycProtocolVersion.V6);
        return data;
    }

    private const int FrameThreshold = 3000;

    internal static byte[] Pattern(int length, int seed)
    {
        byte[] data = new byte[length];
        var random = new Random(seed);
        random.NextBytes(data);
        // Half random, half a repeating ramp: both incompressible and compressible stretches.
        for (int i = length / 2; i < length; i++)
        {
            data[i] = (byte)(i * 7);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Echo_LargeBytes_ThreadedServer_ContentIntactAndBudgetReturned(int size, int compressionThreshold, RpycProtocolVersion version)
    {
        var budget = new RpycMemoryBudget(256L * MiB);
        var serverOptions = new RpycServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            ConnectionOptions = new RpycConnectOptions { CompressionThreshold = compressionThreshold, MemoryBudget = budget },
        };
        using RpycServer server = TestServers.Start<InteropService>(ServerKind.Threaded, serverOptions);
        var clientOptions = new RpycConnectOptions
        {
            ProtocolVersion = version,
            CompressionThreshold = compressionThreshold,
            MemoryBudget = budget,
            SyncRequestTimeout = TimeSpan.FromSeconds(60),
        };
        using (RpycConnection client = TestServers.Connect(server, clientOptions))
        {
            Netref root = client.RootNetref;
            for (int round = 0; round < 3; round++)
            {
                byte[] data = Pattern(size, size + round);
                object? echo = root.CallMethod("echo", data);
                Assert.Equal(data, Assert.IsType<byte[]>(echo));
                Assert.Equal((long)size, root.CallMethod("upload", data));
                byte[] download = Assert.IsType<byte[]>(root.CallMethod("download", size));
                Assert.Equal(size, download.Length);
                Assert.True(download.AsSpan().SequenceEqual(InteropDownload(size)), $"download({size}) differs from the service's pattern.");
            }
            output.WriteLine($"{size} bytes, threshold {compressionThreshold}, {version}: budget {budget}, peak {budget.Peak / (double)MiB:0.0} MiB");
            // Both ends count in this budget: a receive buffer each (and an inflate buffer when compressed),
            // each at most the message plus segment rounding, never the doubling of one big array.
            long bound = 2L * (compressionThreshold >= 0 ? 2 : 1) * (size + (2L * MiB));
            Assert.True(budget.Peak <= bound, $"Peak {budget.Peak} bytes held for {size}-byte messages (bound {bound}).");
        }
        Assert.True(await Eventually.TrueAsync(() => budget.InUse == 0, TimeSpan.FromSeconds(10)),
            $"{budget.InUse} bytes still counted after both connections closed.");
    }

    private static byte[] InteropDownload(int n)
    {
        var data = new byte[n];
        for (int i = 0; i < n; i++)
        {
            data[i] = (byte)((i * 7) & 0xFF);
        }
        return data;
    }
}

/// <summary>
/// Large payloads to and from Debian's Python rpyc, which compresses every frame over 3000 bytes:
/// the replies exercise inflation into the reused buffers with zlib's own output.
/// </summary>
[Collection(MemoryHeavyCollection.Name)]
public sealed class PythonLargeMessageTests(PythonServerFixture server, ITestOutputHelper output)
{
    private const int MiB = 1024 * 1024;

    [Theory]
    [InlineData(100 * 1024, -1)]
    [InlineData(MiB, -1)]
    [InlineData(8 * MiB, -1)]
    [InlineData(MiB, 3000)]
    public void Echo_LargeBytes_PythonServer_ContentIntact(int size, int compressionThreshold)
    {
        using RpycConnection client = server.Connect(PythonServerFixture.Options(TimeSpan.FromSeconds(60), compressionThreshold));
        Netref root = client.RootNetref;
        for (int round = 0; round < 2; round++)
        {
            byte[] data = LargeMessageTests.Pattern(size, size + round);
            object? echo = root.CallMethod("echo", data);
            Assert.Equal(data, Assert.IsType<byte[]>(echo));
        }
        output.WriteLine($"{size} bytes echoed twice by Python rpyc {server.RpycVersion} (threshold {compressionThreshold}); {client.Counters.BytesReceived} bytes received");
    }

    [Theory]
    [InlineData(100 * 1024, -1)]
    [InlineData(MiB, -1)]
    [InlineData(MiB, 3000)]
    public void Echo_LargeBytes_PythonServer_ReplyLentFromPool(int size, int compressionThreshold)
    {
        RpycConnectOptions defaults = PythonServerFixture.Options(TimeSpan.FromSeconds(60), compressionThreshold);
        var options = new RpycConnectOptions
        {
            ProtocolVersion = defaults.ProtocolVersion,
            SyncRequestTimeout = defaults.SyncRequestTimeout,
            CompressionThreshold = compressionThreshold,
            PooledBytesThreshold = 64 * 1024,
        };
        using RpycConnection client = server.Connect(options);
        Netref root = client.RootNetref;
        for (int round = 0; round < 3; round++)
        {
            byte[] data = LargeMessageTests.Pattern(size, size + round);
            using var echo = Assert.IsType<PooledBytes>(root.CallMethod("echo", data));
            Assert.Equal(data, echo.ToArray());
            // Sent back as it came: Python sees bytes, equal to the original.
            Assert.Equal(data, Assert.IsType<PooledBytes>(root.CallMethod("echo", echo)).ToArray());
        }
        Assert.IsType<byte[]>(root.CallMethod("echo", new byte[1000]));
    }
}
