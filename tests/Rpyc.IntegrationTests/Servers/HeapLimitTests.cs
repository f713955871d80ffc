using System.Diagnostics;
using System.Globalization;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>The child server: prints <c>PORT n BUDGET b</c>, serves until its standard input closes.</summary>
internal static class HeapLimitServer
{
    public const string Variable = "RPYC_TEST_HEAP_LIMIT_SERVER";

    public static int Run()
    {
        using var server = new ThreadedServer(() => new HeapLimitService(), new RpycServerOptions { Host = "127.0.0.1", Port = 0 });
        server.Start();
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"PORT {server.Port} BUDGET {RpycMemoryBudget.Shared.Capacity} AVAILABLE {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes}"));
        Console.Out.Flush();
        Console.In.ReadToEnd();
        return 0;
    }
}

/// <summary>The child server's service.</summary>
public sealed class HeapLimitService : RpycService
{
    /// <summary><c>ping() → 'pong'</c>.</summary>
    [Exposed]
    public static string Ping() => "pong";

    /// <summary><c>echo(x) → x</c>.</summary>
    [Exposed]
    public static object? Echo(object? data) => data;
}

/// <summary>
/// A ThreadedServer in a child process limited to a 768 MiB heap (DOTNET_GCHeapHardLimit=0x30000000)
/// survives 12 connections announcing 60 MiB frames, 5 zlib bombs at once, and large real frames;
/// it answers a fresh client after each. Before frames were buffered as they arrive, 12 such
/// headers reserved 12 x 64 MiB and the first OutOfMemoryException ended the process.
/// </summary>
[Collection(MemoryHeavyCollection.Name)]
public sealed class HeapLimitTests(ITestOutputHelper output)
{
    private const long MiB = 1024 * 1024;

    private sealed class ChildServer : IDisposable
    {
        private readonly Process _process;
        private readonly System.Text.StringBuilder _stderr = new();

        public ChildServer(ITestOutputHelper output)
        {
            string worker = Path.Combine(AppContext.BaseDirectory, "rpyc-worker.dll");
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(worker);
            start.Environment["DOTNET_STARTUP_HOOKS"] = typeof(HeapLimitServer).Assembly.Location;
            start.Environment[HeapLimitServer.Variable] = "1";
            start.Environment["DOTNET_GCHeapHardLimit"] = "0x30000000";
            _process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the child server.");
            _process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is not null)
                {
                    lock (_stderr)
                    {
                        _stderr.AppendLine(e.Data);
                    }
                }
            };
            _process.BeginErrorReadLine();
            Task<string?> line = _process.StandardOutput.ReadLineAsync();
            if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result is null)
            {
                Kill();
                throw new InvalidOperationException($"The child server printed no port. stderr:\n{Stderr}");
            }
            output.WriteLine($"child server (pid {_process.Id}): {line.Result}");
            string[] words = line.Result.Split(' ');
            Port = int.Parse(words[1], CultureInfo.InvariantCulture);
            Budget = long.Parse(words[3], CultureInfo.InvariantCulture);
            Available = long.Parse(words[5], CultureInfo.InvariantCulture);
        }

        public int Port { get; }

        public long Budget { get; }

        public long Available { get; }

        public bool HasExited => _process.HasExited;

        public string Stderr
        {
            get
            {
                lock (_stderr)
                {
                    return _stderr.ToString();
                }
            }
        }

        public string Describe() => HasExited ? $"the child server exited with {_process.ExitCode}. stderr:\n{Stderr}" : "alive";

        private void Kill()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.StandardInput.Close();
                    _process.WaitForExit(10_000);
                }
            }
            finally
            {
                Kill();
                _process.Dispose();
            }
        }
    }

    private static void AssertServes(ChildServer child, string when)
    {
        Assert.False(child.HasExited, $"{when}: {child.Describe()}");
        using RpycConnection fresh = RpycConnection.Connect("127.0.0.1", child.Port, new RpycConnectOptions { SyncRequestTimeout = TimeSpan.FromSeconds(60) });
        Assert.Equal("pong", fresh.RootNetref.CallMethod("ping"));
        byte[] data = LargeMessageTests.Pattern(8 * 1024 * 1024, 11);
        Assert.Equal(data, fresh.RootNetref.CallMethod("echo", data));
    }

    // A 5.x ping request (HANDLE_PING echoes its argument) carrying `size` bytes.
    private static byte[] PingFrame(long seq, byte[] data) =>
        RawConnection.EncodeMessage(RpycProtocolVersion.V5, Protocol.MessageKind.Request, seq, RawConnection.Request(Protocol.HandlerId.Ping, data), compressionThreshold: -1);

    [Fact]
    public async Task HeapLimit768MiB_HugeHeadersZlibBombsAndLargeFrames_ServerSurvivesAndServes()
    {
        using var child = new ChildServer(output);
        Assert.True(child.Available <= 800 * MiB, $"The child sees {child.Available} bytes available: DOTNET_GCHeapHardLimit was not applied.");
        Assert.True(child.Budget < 256 * MiB, $"The default budget {child.Budget} should be a quarter of the 768 MiB limit.");

        // 1. Twelve connections announce 60 MiB each and send 1000 bytes.
        var headers = new List<RawConnection>();
        try
        {
            for (int i = 0; i < 12; i++)
            {
                RawConnection raw = await RawConnection.ConnectAsync(child.Port);
                headers.Add(raw);
                await raw.SendAsync((byte[])[.. ServerMemoryTests.Header(60 * 1024 * 1024), .. new byte[1000]]);
            }
            // The server's threads read the headers while this client is served.
            AssertServes(child, "after 12 headers of 60 MiB");
            await Task.Delay(TimeSpan.FromSeconds(1));
            AssertServes(child, "a second after 12 headers of 60 MiB");
            output.WriteLine("12 x 60 MiB headers: served");

            // 2. Five zlib bombs (128 MiB inflated, limit 64 MiB) at once, the headers still open.
            byte[] bomb = ServerMemoryTests.ZlibBombFrame();
            var bombers = new List<RawConnection>();
            try
            {
                for (int i = 0; i < 5; i++)
                {
                    bombers.Add(await RawConnection.ConnectAsync(child.Port));
                }
                await Task.WhenAll(bombers.Select(b => b.SendAsync(bomb)));
                foreach (RawConnection bomber in bombers)
                {
                    List<Protocol.Message> messages = await bomber.ReadUntilClosedAsync(null, TimeSpan.FromSeconds(60));
                    Assert.All(messages, m => Assert.Equal(Protocol.MessageKind.Request, m.Kind));
                }
            }
            finally
            {
                bombers.ForEach(b => b.Dispose());
            }
            AssertServes(child, "after 5 zlib bombs");
            output.WriteLine("5 zlib bombs: each closed, served");

            // 3. Three real 32 MiB frames at once: each is echoed or, past the budget, closed.
            var senders = new List<RawConnection>();
            try
            {
                byte[] payload = LargeMessageTests.Pattern(32 * 1024 * 1024, 3);
                byte[] frame = PingFrame(1, payload);
                for (int i = 0; i < 3; i++)
                {
                    senders.Add(await RawConnection.ConnectAsync(child.Port));
                }
                Task[] sends = senders.Select(s => s.SendAsync(frame)).ToArray();
                int echoed = 0;
                foreach (RawConnection sender in senders)
                {
                    (Protocol.Message Message, RpycProtocolVersion Version)? reply;
                    try
                    {
                        reply = await sender.ReadMessageAsync(RpycProtocolVersion.V5, TimeSpan.FromSeconds(120));
                    }
                    catch (InvalidDataException)
                    {
                        // Closed mid-reply.
                        reply = null;
                    }
                    if (reply is { Message.Kind: Protocol.MessageKind.Reply } r)
                    {
                        byte[] echo = Assert.IsType<byte[]>(Boxes.Payload(r.Message.Args));
                        Assert.True(echo.AsSpan().SequenceEqual(payload), "A 32 MiB echo differs from what was sent.");
                        echoed++;
                    }
                }
                output.WriteLine($"3 x 32 MiB frames at once: {echoed} echoed, the others closed");
                try
                {
                    await Task.WhenAll(sends);
                }
                catch (System.Net.Sockets.SocketException)
                {
                    // A connection closed while its frame was still being sent.
                }
                catch (OperationCanceledException)
                {
                }
            }
            finally
            {
                senders.ForEach(s => s.Dispose());
            }
            AssertServes(child, "after 3 frames of 32 MiB");
        }
        finally
        {
            headers.ForEach(h => h.Dispose());
        }
        AssertServes(child, "after the 12 header connections hung up");
        output.WriteLine($"child stderr:\n{child.Stderr}");
    }
}
