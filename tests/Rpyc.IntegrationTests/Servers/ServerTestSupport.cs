using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>Which .NET server a test runs against.</summary>
public enum ServerKind
{
    Threaded,
    Forking,
}

/// <summary>Starting the .NET servers under test on 127.0.0.1 and a free port.</summary>
internal static class TestServers
{
    public static RpycServer Start<TService>(ServerKind kind, RpycServerOptions? options = null, int prestartedWorkers = 2)
        where TService : RpycService, new()
    {
        options ??= new RpycServerOptions { Host = "127.0.0.1", Port = 0 };
        RpycServer server = kind switch
        {
            ServerKind.Threaded => new ThreadedServer(() => new TService(), options),
            ServerKind.Forking => ForkingServer.Create<TService>(options, new ForkingServerOptions
            {
                WorkerPath = WorkerLocator.Path,
                PrestartedWorkers = prestartedWorkers,
            }),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        return Started(server);
    }

    /// <summary>Starts <paramref name="server"/>, disposing of it (and its workers) if the start fails.</summary>
    public static T Started<T>(T server)
        where T : RpycServer
    {
        try
        {
            server.Start();
        }
        catch
        {
            server.Dispose();
            throw;
        }
        return server;
    }

    /// <summary>A well-behaved .NET client of <paramref name="server"/>.</summary>
    public static RpycConnection Connect(RpycServer server, RpycConnectOptions? options = null) =>
        RpycConnection.Connect("127.0.0.1", server.Port, options ?? new RpycConnectOptions { SyncRequestTimeout = TimeSpan.FromSeconds(30) });
}

/// <summary>
/// Finds <c>rpyc-worker.dll</c>: beside the test assembly when the project references Rpyc.Worker,
/// else in the repository's build output (src/Rpyc.Worker/bin/&lt;config&gt;/net10.0). In the second
/// case the worker is copied to a private folder together with the Rpyc.dll the tests were built
/// against, so a worker built from an older Rpyc never serves the tests.
/// </summary>
internal static class WorkerLocator
{
    private const string WorkerFile = "rpyc-worker.dll";

    private static readonly Lazy<string> s_path = new(Locate, LazyThreadSafetyMode.ExecutionAndPublication);

    public static string Path => s_path.Value;

    private static string Locate()
    {
        string beside = System.IO.Path.Combine(AppContext.BaseDirectory, WorkerFile);
        if (File.Exists(beside))
        {
            return beside;
        }
        string repo = RepoPaths.Root;
        string configuration = AppContext.BaseDirectory.Contains($"{System.IO.Path.DirectorySeparatorChar}Release{System.IO.Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        string[] candidates =
        [
            System.IO.Path.Combine(repo, "src", "Rpyc.Worker", "bin", configuration, "net10.0", WorkerFile),
            System.IO.Path.Combine(repo, "src", "Rpyc.Worker", "bin", configuration == "Debug" ? "Release" : "Debug", "net10.0", WorkerFile),
        ];
        string built = candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException(
                $"{WorkerFile} is neither beside the test assembly ({AppContext.BaseDirectory}) nor in the repository build output " +
                $"({string.Join(", ", candidates)}). Reference src/Rpyc.Worker/Rpyc.Worker.csproj from the test project, or run `dotnet build src/Rpyc.Worker`.");
        string folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"rpyc-test-worker-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        File.Copy(built, System.IO.Path.Combine(folder, WorkerFile), overwrite: true);
        File.Copy(System.IO.Path.ChangeExtension(built, ".runtimeconfig.json"), System.IO.Path.Combine(folder, "rpyc-worker.runtimeconfig.json"), overwrite: true);
        // No deps.json: the host probes the worker's folder, where the tests' own Rpyc.dll is.
        foreach (string file in new[] { "Rpyc.dll", "Rpyc.pdb" })
        {
            string source = System.IO.Path.Combine(AppContext.BaseDirectory, file);
            if (File.Exists(source))
            {
                File.Copy(source, System.IO.Path.Combine(folder, file), overwrite: true);
            }
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        };
        return System.IO.Path.Combine(folder, WorkerFile);
    }
}

/// <summary>Files of the repository, found by walking up from the test output folder.</summary>
internal static class RepoPaths
{
    private static readonly Lazy<string> s_root = new(() =>
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "Rpyc.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException($"No Rpyc.slnx above {AppContext.BaseDirectory}.");
    });

    public static string Root => s_root.Value;

    /// <summary>A file copied to the output folder (<paramref name="folder"/>/<paramref name="name"/>), else the repository's tests/<paramref name="folder"/> copy.</summary>
    public static string TestFile(string folder, string name)
    {
        string copied = System.IO.Path.Combine(AppContext.BaseDirectory, folder, name);
        if (File.Exists(copied))
        {
            return copied;
        }
        string source = System.IO.Path.Combine(Root, "tests", folder, name);
        return File.Exists(source) ? source : throw new FileNotFoundException($"Neither {copied} nor {source} exists.", source);
    }
}

/// <summary>
/// Captures <see cref="RpycLog"/> lines. The sink is process-wide, so one dispatcher fans lines out
/// to every live capture; a test asserts on lines naming its own peer endpoint.
/// </summary>
internal sealed class LogCapture : IDisposable
{
    private static readonly object s_gate = new();
    private static readonly List<LogCapture> s_active = [];
    private static readonly Action<string> s_dispatch = Dispatch;

    private readonly ConcurrentQueue<string> _lines = new();
    private readonly ITestOutputHelper? _output;
    private readonly SemaphoreSlim _added = new(0);

    public LogCapture(ITestOutputHelper? output = null)
    {
        _output = output;
        lock (s_gate)
        {
            if (!ReferenceEquals(RpycLog.Sink, s_dispatch))
            {
                s_previous = RpycLog.Sink;
                RpycLog.Sink = s_dispatch;
            }
            s_active.Add(this);
        }
    }

    // The sink before the first capture, put back when the last capture ends.
    private static Action<string>? s_previous;

    public IReadOnlyCollection<string> Lines => _lines.ToArray();

    private static void Dispatch(string line)
    {
        LogCapture[] targets;
        lock (s_gate)
        {
            targets = [.. s_active];
        }
        foreach (LogCapture capture in targets)
        {
            capture._lines.Enqueue(line);
            capture._added.Release();
            try
            {
                capture._output?.WriteLine($"[RpycLog] {line}");
            }
            catch (InvalidOperationException)
            {
                // The test already finished (late worker output).
            }
        }
    }

    /// <summary>Waits until a captured line satisfies <paramref name="match"/>.</summary>
    public async Task<string> WaitForAsync(Func<string, bool> match, TimeSpan timeout, string what)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            string? hit = _lines.FirstOrDefault(match);
            if (hit is not null)
            {
                return hit;
            }
            long left = deadline - Environment.TickCount64;
            if (left <= 0 || !await _added.WaitAsync(TimeSpan.FromMilliseconds(left)))
            {
                hit = _lines.FirstOrDefault(match);
                return hit ?? throw new Xunit.Sdk.XunitException(
                    $"No RpycLog line {what} within {timeout.TotalSeconds:0.#} s. Captured:\n{string.Join('\n', _lines)}");
            }
        }
    }

    public void Dispose()
    {
        lock (s_gate)
        {
            s_active.Remove(this);
            if (s_active.Count == 0 && ReferenceEquals(RpycLog.Sink, s_dispatch))
            {
                RpycLog.Sink = s_previous;
            }
        }
    }
}

/// <summary>Bounded polling for conditions that have no event to await.</summary>
internal static class Eventually
{
    public static async Task<bool> TrueAsync(Func<bool> condition, TimeSpan timeout, int pollMilliseconds = 20)
    {
        long deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                return condition();
            }
            await Task.Delay(pollMilliseconds);
        }
        return true;
    }
}

/// <summary>Operating-system checks on processes.</summary>
internal static class Processes
{
    /// <summary>Whether <paramref name="pid"/> is a live rpyc worker (a reused pid running anything else does not count).</summary>
    public static bool IsLiveWorker(int pid)
    {
        string proc = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}";
        try
        {
            if (!Directory.Exists(proc))
            {
                return false;
            }
            string status = File.ReadAllText(System.IO.Path.Combine(proc, "status"));
            if (status.Contains("State:\tZ", StringComparison.Ordinal))
            {
                return false;
            }
            return File.ReadAllText(System.IO.Path.Combine(proc, "cmdline")).Contains("rpyc-worker", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>The <c>--control</c> socket path on a worker's command line: it names the ForkingServer that started it.</summary>
    public static string? ControlPathOf(int pid)
    {
        string[] args = CommandLine(pid);
        int index = Array.IndexOf(args, "--control");
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }

    /// <summary>Live rpyc worker processes started by the server whose control socket is <paramref name="controlPath"/>.</summary>
    public static IReadOnlyList<int> LiveWorkersOf(string controlPath)
    {
        var result = new List<int>();
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(System.IO.Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)
                && IsLiveWorker(pid) && CommandLine(pid).Contains(controlPath))
            {
                result.Add(pid);
            }
        }
        return result;
    }

    private static string[] CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (IOException)
        {
            return [];
        }
        catch (UnauthorizedAccessException)
        {
            return [];
        }
    }
}

/// <summary>Runs a Python client script (tests/python/client_*.py) with Debian's interpreter and rpyc.</summary>
internal static class PythonClient
{
    public const string Interpreter = "/usr/bin/python3";

    public sealed record Result(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
    {
        /// <summary>The JSON document the script printed last on stdout.</summary>
        public System.Text.Json.JsonElement Json
        {
            get
            {
                string? last = Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
                Assert.False(string.IsNullOrEmpty(last), $"The script printed nothing on stdout. stderr:\n{Stderr}");
                return System.Text.Json.JsonDocument.Parse(last!).RootElement.Clone();
            }
        }
    }

    public static async Task<Result> RunAsync(string script, int port, ITestOutputHelper output, TimeSpan? timeout = null, params string[] extra)
    {
        if (!File.Exists(Interpreter))
        {
            throw new InvalidOperationException($"{Interpreter} is missing: install Debian's rpyc with `apt-get install -y python3-rpyc`.");
        }
        string path = RepoPaths.TestFile("python", script);
        var start = new ProcessStartInfo(Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = System.IO.Path.GetDirectoryName(path)!,
        };
        start.ArgumentList.Add("-u");
        start.ArgumentList.Add(path);
        start.ArgumentList.Add(port.ToString(CultureInfo.InvariantCulture));
        foreach (string argument in extra)
        {
            start.ArgumentList.Add(argument);
        }
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Interpreter}.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        TimeSpan limit = timeout ?? TimeSpan.FromSeconds(60);
        try
        {
            using var cts = new CancellationTokenSource(limit);
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"{script} did not finish within {limit.TotalSeconds:0} s.\nstdout:\n{await stdout}\nstderr:\n{await stderr}");
        }
        finally
        {
            // Never leave an interpreter behind, whatever happened above.
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        var result = new Result(process.ExitCode, await stdout, await stderr, watch.Elapsed);
        output.WriteLine($"{script} (port {port}) exited with {result.ExitCode} after {result.Elapsed.TotalMilliseconds:0} ms");
        output.WriteLine($"stdout:\n{result.Stdout}");
        if (result.Stderr.Length > 0)
        {
            output.WriteLine($"stderr:\n{result.Stderr}");
        }
        if (result.ExitCode != 0 && result.Stderr.Contains("No module named 'rpyc'", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{Interpreter} cannot import rpyc: install it with `apt-get install -y python3-rpyc`.");
        }
        return result;
    }
}
