using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// The child server of <see cref="ServerFaultTests"/>: a ThreadedServer or a ForkingServer under a
/// 768 MiB heap limit whose accept path throws <see cref="OutOfMemoryException"/> once at each stage
/// (<see cref="RpycServer.FaultInjection"/>), and whose ThreadedServer service constructor runs out
/// of memory for real once (a 1 GiB array). Prints <c>PORT n</c>, serves until its standard input closes.
/// </summary>
internal static class FaultyServer
{
    public const string Variable = "RPYC_TEST_FAULTY_SERVER";

    private static int s_constructorFaults = 1;

    public static int Run(string kind)
    {
        // Worker processes inherit the environment (and this startup hook): they must not start servers too.
        Environment.SetEnvironmentVariable(Variable, null);
        var options = new RpycServerOptions { Host = "127.0.0.1", Port = 0 };
        using RpycServer server = kind == "forking"
            ? ForkingServer.Create<HeapLimitService>(options, new ForkingServerOptions
            {
                WorkerPath = Path.Combine(AppContext.BaseDirectory, "rpyc-worker.dll"),
                PrestartedWorkers = 1,
                ReplacementDelay = TimeSpan.Zero,
            })
            : new ThreadedServer(CreateService, options);
        server.Start();
        // Armed after Start, so the prestarted workers start; every stage fails once.
        var pending = new HashSet<string>(StringComparer.Ordinal) { "accept", "first-bytes", "start-worker" };
        server.FaultInjection = stage =>
        {
            bool fail;
            lock (pending)
            {
                fail = pending.Remove(stage);
            }
            if (fail)
            {
                throw new OutOfMemoryException($"injected at the {stage} stage");
            }
        };
        Console.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"PORT {server.Port}"));
        Console.Out.Flush();
        Console.In.ReadToEnd();
        return 0;
    }

    private static HeapLimitService CreateService()
    {
        if (Interlocked.Decrement(ref s_constructorFaults) >= 0)
        {
            // Past the 768 MiB heap limit: a real OutOfMemoryException, thrown on the connection's thread.
            byte[] huge = new byte[1 << 30];
            GC.KeepAlive(huge);
        }
        return new HeapLimitService();
    }
}

/// <summary>
/// An exception while accepting or serving one connection, an <see cref="OutOfMemoryException"/>
/// above all, closes that connection and never the server: before, the accept loop, the pending
/// connections' thread, the ForkingServer's hand-off and a ThreadedServer connection's thread let it
/// through their catch filters, and the process ended. Run in a child process under a 768 MiB heap
/// limit, so a regression is a failed assertion (the child's exit code and stderr), not a crashed test host.
/// </summary>
[Collection(MemoryHeavyCollection.Name)]
public sealed class ServerFaultTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("threaded", 3)]
    [InlineData("forking", 2)]
    public void OutOfMemoryWhileAccepting_ClosesThatConnection_ServerGoesOn(string kind, int faults)
    {
        using var child = new FaultyChild(kind, output);
        var options = new RpycConnectOptions { SyncRequestTimeout = TimeSpan.FromSeconds(20) };
        // Each of the first connections meets one fault (accept; first bytes; for the threaded server the
        // service constructor): it is closed, and the child lives on.
        for (int i = 0; i < faults; i++)
        {
            using RpycConnection failing = RpycConnection.Connect("127.0.0.1", child.Port, options);
            var ex = Assert.ThrowsAny<RpycConnectionException>(() => failing.Ping());
            output.WriteLine($"connection {i + 1}: {ex.GetType().Name}: {ex.Message}");
            Assert.False(child.HasExited, $"after fault {i + 1}: {child.Describe()}");
        }
        for (int i = 0; i < 3; i++)
        {
            using RpycConnection fresh = RpycConnection.Connect("127.0.0.1", child.Port, options);
            Assert.Equal("pong", fresh.RootNetref.CallMethod("ping"));
        }
        Assert.False(child.HasExited, child.Describe());
        string stderr = child.Stop();
        output.WriteLine(stderr);
        Assert.Equal(0, child.ExitCode);
        Assert.Contains("could not accept a connection: OutOfMemoryException: injected at the accept stage", stderr, StringComparison.Ordinal);
        Assert.Contains("closed a connection: OutOfMemoryException while serving", stderr, StringComparison.Ordinal);
    }

    private sealed class FaultyChild : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _stderr = new();

        public FaultyChild(string kind, ITestOutputHelper output)
        {
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "rpyc-worker.dll"));
            start.Environment["DOTNET_STARTUP_HOOKS"] = typeof(FaultyServer).Assembly.Location;
            start.Environment[FaultyServer.Variable] = kind;
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
            if (!line.Wait(TimeSpan.FromSeconds(60)) || line.Result is not { } first || !first.StartsWith("PORT ", StringComparison.Ordinal))
            {
                Dispose();
                throw new InvalidOperationException($"The child server printed no port. {Describe()}");
            }
            output.WriteLine($"child {kind} server (pid {_process.Id}): {first}");
            Port = int.Parse(first[5..], CultureInfo.InvariantCulture);
        }

        public int Port { get; }

        public bool HasExited => _process.HasExited;

        public int ExitCode => _process.ExitCode;

        private string Stderr
        {
            get
            {
                lock (_stderr)
                {
                    return _stderr.ToString();
                }
            }
        }

        public string Describe() => HasExited ? $"the child server exited with {_process.ExitCode}. stderr:\n{Stderr}" : $"alive. stderr:\n{Stderr}";

        // Closes standard input (the child stops its server, which flushes its burst logs) and returns stderr.
        public string Stop()
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(20_000))
            {
                Dispose();
                throw new InvalidOperationException($"The child server did not stop within 20 s. {Describe()}");
            }
            _process.WaitForExit();
            return Stderr;
        }

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    _process.WaitForExit(10_000);
                }
            }
            catch (InvalidOperationException)
            {
            }
            _process.Dispose();
        }
    }
}
