using System.Buffers.Binary;
using System.IO.Compression;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// Hostile frame sizes against a real ThreadedServer on 127.0.0.1: headers announcing 60 MiB from
/// many connections cost nothing until bytes arrive, zlib bombs are refused without inflating past
/// the limit, and the budget bounds what all connections hold together. The server keeps serving.
/// </summary>
[Collection(MemoryHeavyCollection.Name)]
public sealed class ServerMemoryTests(ITestOutputHelper output)
{
    private const long MiB = 1024 * 1024;

    internal static byte[] Header(uint length, bool compressed = false)
    {
        byte[] header = new byte[5];
        BinaryPrimitives.WriteUInt32BigEndian(header, length);
        header[4] = compressed ? (byte)1 : (byte)0;
        return header;
    }

    // 128 MiB of zeros in a ~130 KB zlib stream, framed as a compressed frame.
    internal static byte[] ZlibBombFrame()
    {
        using var body = new MemoryStream();
        using (var zlib = new ZLibStream(body, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            byte[] zeros = new byte[1024 * 1024];
            for (int i = 0; i < 128; i++)
            {
                zlib.Write(zeros);
            }
        }
        byte[] compressed = body.ToArray();
        return [.. Header((uint)compressed.Length, compressed: true), .. compressed, 0x0A];
    }

    private static RpycServer StartServer(RpycMemoryBudget budget) =>
        TestServers.Start<InteropService>(ServerKind.Threaded, new RpycServerOptions
        {
            Host = "127.0.0.1",
            Port = 0,
            ConnectionOptions = new RpycConnectOptions { MemoryBudget = budget },
        });

    // The largest growth of the managed heap over a window, sampled (headers are read asynchronously by the server's threads).
    private static async Task<long> PeakGrowthAsync(long baseline, TimeSpan window)
    {
        long peak = 0;
        long deadline = Environment.TickCount64 + (long)window.TotalMilliseconds;
        while (Environment.TickCount64 < deadline)
        {
            peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false) - baseline);
            await Task.Delay(20);
        }
        return Math.Max(peak, GC.GetTotalMemory(forceFullCollection: false) - baseline);
    }

    [Fact]
    public async Task HeadersOf60MiB_TwelveConnections_NoMemoryHeldClosedAtHangUpAndFreshClientServed()
    {
        var budget = new RpycMemoryBudget(256 * MiB);
        using RpycServer server = StartServer(budget);
        using var log = new LogCapture(output);
        long baseline = GC.GetTotalMemory(forceFullCollection: true);
        var connections = new List<RawConnection>();
        try
        {
            for (int i = 0; i < 12; i++)
            {
                RawConnection raw = await RawConnection.ConnectAsync(server.Port);
                connections.Add(raw);
                // 60 MiB announced, then a few body bytes, then nothing.
                await raw.SendAsync((byte[])[.. Header(60 * 1024 * 1024), .. new byte[1000]]);
            }
            Assert.True(await Eventually.TrueAsync(() => server.ActiveConnections == 12, TimeSpan.FromSeconds(20)),
                $"{server.ActiveConnections} connections active, expected 12.");

            long growth = await PeakGrowthAsync(baseline, TimeSpan.FromSeconds(2));
            output.WriteLine($"12 x 60 MiB announced: managed heap grew by at most {growth / (double)MiB:0.0} MiB; budget {budget}");
            // The old receive buffer reserved the announced size: 12 x 64 MiB.
            Assert.True(growth < 64 * MiB, $"The managed heap grew by {growth / MiB} MiB for 12 headers announcing 60 MiB each.");
            Assert.True(budget.InUse < 2 * MiB, $"{budget.InUse} bytes counted for 12 x 1000 bytes received.");

            // The server answers others meanwhile.
            using (RpycConnection fresh = TestServers.Connect(server))
            {
                Assert.Equal("pong", fresh.RootNetref.CallMethod("ping"));
            }
        }
        finally
        {
            connections.ForEach(c => c.Dispose());
        }

        // Each hang-up mid-frame closes that connection, with the reason logged.
        foreach (RawConnection raw in connections)
        {
            await log.WaitForAsync(l => l.Contains(raw.PeerNameOnServer, StringComparison.Ordinal) && l.Contains("truncated", StringComparison.OrdinalIgnoreCase),
                TimeSpan.FromSeconds(10), $"naming {raw.PeerNameOnServer} and 'truncated'");
        }
        Assert.True(await Eventually.TrueAsync(() => server.ActiveConnections == 0, TimeSpan.FromSeconds(10)),
            $"{server.ActiveConnections} connections still active after the 12 hung up.");
        Assert.Equal(0, budget.InUse);
        using RpycConnection after = TestServers.Connect(server);
        Assert.Equal("pong", after.RootNetref.CallMethod("ping"));
    }

    [Fact]
    public async Task ZlibBombs_FiveAtOnce_RefusedWithinBudgetAndFreshClientServed()
    {
        // Below 5 x the 64 MiB MaxDecompressedLength, so both the limit and the budget get their turn.
        var budget = new RpycMemoryBudget(96 * MiB);
        using RpycServer server = StartServer(budget);
        using var log = new LogCapture(output);
        byte[] bomb = ZlibBombFrame();
        long baseline = GC.GetTotalMemory(forceFullCollection: true);

        var bombers = new List<RawConnection>();
        try
        {
            for (int i = 0; i < 5; i++)
            {
                bombers.Add(await RawConnection.ConnectAsync(server.Port));
            }
            Task<long> sampler = PeakGrowthAsync(baseline, TimeSpan.FromSeconds(3));
            await Task.WhenAll(bombers.Select(b => b.SendAsync(bomb)));
            foreach (RawConnection bomber in bombers)
            {
                List<Protocol.Message> messages = await bomber.ReadUntilClosedAsync(null, TimeSpan.FromSeconds(30));
                Assert.All(messages, m => Assert.Equal(Protocol.MessageKind.Request, m.Kind));
                string line = await log.WaitForAsync(
                    l => l.Contains(bomber.PeerNameOnServer, StringComparison.Ordinal)
                        && (l.Contains("MaxDecompressedLength", StringComparison.Ordinal) || l.Contains("MemoryBudget", StringComparison.Ordinal)),
                    TimeSpan.FromSeconds(10),
                    $"naming {bomber.PeerNameOnServer} and MaxDecompressedLength or MemoryBudget");
                output.WriteLine(line);
            }
            long growth = await sampler;
            output.WriteLine($"5 zlib bombs of {bomb.Length} bytes (128 MiB inflated): heap grew by at most {growth / (double)MiB:0.0} MiB; budget peak {budget.Peak / (double)MiB:0.0} MiB, {budget.Refusals} refusal(s)");
            Assert.True(budget.Peak <= budget.Capacity);
            // Live: at most the budget. The sampled heap also counts what refused connections gave
            // back and the GC has not collected yet (up to the budget again), and the test's own garbage.
            // Before, each bomb took a 128 MiB array for its 64 MiB limit, and more while growing to it.
            Assert.True(growth < (2 * budget.Capacity) + (64 * MiB), $"The managed heap grew by {growth / MiB} MiB for 5 bombs under a {budget.Capacity / MiB} MiB budget.");
        }
        finally
        {
            bombers.ForEach(b => b.Dispose());
        }
        Assert.True(await Eventually.TrueAsync(() => budget.InUse == 0 && server.ActiveConnections == 0, TimeSpan.FromSeconds(10)),
            $"{budget.InUse} bytes counted and {server.ActiveConnections} connections active after the bombs were refused.");
        using RpycConnection fresh = TestServers.Connect(server);
        Assert.Equal("pong", fresh.RootNetref.CallMethod("ping"));
        byte[] data = LargeMessageTests.Pattern(8 * 1024 * 1024, 5);
        Assert.Equal(data, fresh.RootNetref.CallMethod("echo", data));
    }
}
