using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Rpyc.Bench;

/// <summary>What <see cref="LocustRun"/> runs: the load and where the master and workers are.</summary>
public sealed record LocustOptions
{
    /// <summary>Workers started here, as local processes. Default 2.</summary>
    public int LocalWorkers { get; init; } = 2;

    /// <summary>Workers the master also waits for, started by the user on other hosts (the command is printed). Default 0.</summary>
    public int ExternalWorkers { get; init; }

    /// <summary>Locust users in all, spread by the master over the workers. Default 8.</summary>
    public int Users { get; init; } = 8;

    /// <summary>Users started per second. Default: all at once (<see cref="Users"/>).</summary>
    public double? SpawnRate { get; init; }

    /// <summary>How long the load lasts, after every user started. Default 10 s.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary><c>ping</c> or <c>echo</c>.</summary>
    public string Operation { get; init; } = "ping";

    /// <summary>Echo's payload bytes. Default 1 KiB.</summary>
    public int PayloadBytes { get; init; } = 1024;

    /// <summary>The address the master binds, for workers elsewhere (a warning is the caller's). Default 127.0.0.1.</summary>
    public string MasterBindHost { get; init; } = "127.0.0.1";

    /// <summary>The master's port; 0 picks a free one.</summary>
    public int MasterPort { get; init; }

    /// <summary>How long the master waits for its workers to connect. Default 30 s.</summary>
    public TimeSpan WorkerWait { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The Python interpreter with Locust and rpyc. Default /usr/bin/python3.</summary>
    public string PythonPath { get; init; } = "/usr/bin/python3";

    /// <summary>Where the locustfile is; <c>null</c>: <c>python/</c> beside the application.</summary>
    public string? ScriptDirectory { get; init; }
}

/// <summary>
/// Drives one target with Locust's master and workers (Locust is the distributed engine; this only
/// starts it, bounds it and reads its result), with <c>python/locust_rpycbench.py</c> as the
/// locustfile. Every process started is stopped, on success, failure, timeout or cancellation.
/// </summary>
/// <param name="options">The load and the topology.</param>
public sealed class LocustRun(LocustOptions options)
{
    /// <summary>The command that installs Locust on Debian.</summary>
    public const string InstallCommand = "sudo apt-get install -y python3-locust";

    /// <summary>Why an IPv6 address cannot be the master's.</summary>
    public const string Ipv4Only = "Locust's master binds IPv4 only (its zmq socket is opened without IPv6): give an IPv4 address, e.g. 127.0.0.1 or 0.0.0.0.";

    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan StreamEndTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The master's port once <see cref="Run"/> has chosen it.</summary>
    public int MasterPort { get; private set; }

    /// <summary>Runs the load against a server and returns what the master merged.</summary>
    /// <param name="protocol"><c>rpyc</c> or <c>http</c>.</param>
    /// <param name="host">The server's address as the workers reach it.</param>
    /// <param name="port">The server's port.</param>
    /// <param name="onMasterReady">Called with the exact worker command once the master listens (for workers on other hosts).</param>
    /// <param name="cancellationToken">Stops every process at once.</param>
    /// <returns>The merged result.</returns>
    /// <exception cref="LocustRunException">Locust is missing, did not finish in time, or wrote no result.</exception>
    public DistributedResult Run(string protocol, string host, int port, Action<string>? onMasterReady = null, CancellationToken cancellationToken = default)
    {
        if (protocol is not ("rpyc" or "http"))
        {
            throw new LocustRunException($"Locust users speak rpyc and http; '{protocol}' has none.");
        }
        string locustfile = PythonPeers.Script(options.ScriptDirectory, "locust_rpycbench.py");
        EnsureLocust();
        string bind = MasterBindAddress();
        MasterPort = options.MasterPort > 0 ? options.MasterPort : FreePort(bind);
        string output = Path.Combine(Path.GetTempPath(), $"rpycbench-locust-{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        var environment = new Dictionary<string, string>
        {
            ["RPYCBENCH_PROTOCOL"] = protocol,
            ["RPYCBENCH_HOST"] = host,
            ["RPYCBENCH_PORT"] = port.ToString(CultureInfo.InvariantCulture),
            ["RPYCBENCH_OPERATION"] = options.Operation,
            ["RPYCBENCH_SIZE"] = options.PayloadBytes.ToString(CultureInfo.InvariantCulture),
        };
        int expected = options.LocalWorkers + options.ExternalWorkers;
        var processes = new List<LocustProcess>();
        try
        {
            LocustProcess master = LocustProcess.Start(options.PythonPath, [
                "-m", "locust", "-f", locustfile, "--headless", "--master",
                "--master-bind-host", bind, "--master-bind-port", MasterPort.ToString(CultureInfo.InvariantCulture),
                "--expect-workers", expected.ToString(CultureInfo.InvariantCulture),
                "--expect-workers-max-wait", ((int)Math.Ceiling(options.WorkerWait.TotalSeconds)).ToString(CultureInfo.InvariantCulture),
                "-u", options.Users.ToString(CultureInfo.InvariantCulture),
                "-r", (options.SpawnRate ?? options.Users).ToString(CultureInfo.InvariantCulture),
                "-t", $"{Math.Max(1, (int)Math.Round(options.Duration.TotalSeconds))}s",
                "--stop-timeout", "5", "--only-summary", "--loglevel", "WARNING",
            ], new Dictionary<string, string>(environment) { ["RPYCBENCH_OUTPUT"] = output });
            processes.Add(master);
            onMasterReady?.Invoke(WorkerCommand(environment, locustfile, bind));
            for (int i = 0; i < options.LocalWorkers; i++)
            {
                processes.Add(LocustProcess.Start(options.PythonPath, [
                    "-m", "locust", "-f", locustfile, "--worker", "--master-host", MasterReachableHost(bind),
                    "--master-port", MasterPort.ToString(CultureInfo.InvariantCulture), "--loglevel", "WARNING",
                ], environment));
            }
            // Bounded: waiting for workers, spawning, the run, Locust's stop timeout, and slack.
            TimeSpan bound = options.WorkerWait + options.Duration + TimeSpan.FromSeconds(30);
            if (!master.WaitForExit(bound, cancellationToken))
            {
                throw cancellationToken.IsCancellationRequested
                    ? new OperationCanceledException(cancellationToken)
                    : new LocustRunException($"Locust's master did not finish within {bound.TotalSeconds:0} s; stopped. Its output: {master.Tail}");
            }
            if (!File.Exists(output))
            {
                throw new LocustRunException($"Locust's master exited ({master.ExitCode}) without a result. Its output: {master.Tail}");
            }
            // Local workers leave on the master's quit; give them a moment, then stop them anyway.
            foreach (LocustProcess worker in processes.Skip(1))
            {
                worker.WaitForExit(TimeSpan.FromSeconds(5), cancellationToken);
            }
            return Parse(File.ReadAllText(output), options.Users);
        }
        finally
        {
            foreach (LocustProcess p in processes)
            {
                p.Dispose();
            }
            File.Delete(output);
        }
    }

    /// <summary>Reads the master's JSON into a result.</summary>
    /// <param name="json">What <c>locust_rpycbench.py</c> wrote.</param>
    /// <param name="users">The users requested (when the file does not say).</param>
    /// <returns>The result.</returns>
    public static DistributedResult Parse(string json, int users)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        JsonElement root = doc.RootElement;
        JsonElement locust = root.GetProperty("locust");
        JsonElement merged = root.GetProperty("merged");
        double seconds = root.GetProperty("seconds").GetDouble();
        var workers = new List<DistributedWorker>();
        foreach (JsonProperty w in root.GetProperty("workers").EnumerateObject())
        {
            long requests = w.Value.GetProperty("count").GetInt64() + w.Value.GetProperty("failures").GetInt64();
            workers.Add(new DistributedWorker(w.Name, requests, w.Value.GetProperty("failures").GetInt64(),
                seconds > 0 ? requests / seconds : 0, Stats(w.Value)));
        }
        return new DistributedResult
        {
            Operation = root.GetProperty("operation").GetString() ?? "ping",
            PayloadBytes = root.GetProperty("size").GetInt32(),
            Users = root.TryGetProperty("users", out JsonElement u) && u.ValueKind == JsonValueKind.Number ? u.GetInt32() : users,
            Seconds = seconds,
            Requests = locust.GetProperty("requests").GetInt64(),
            Failures = locust.GetProperty("failures").GetInt64(),
            Validated = merged.GetProperty("validated").GetInt64(),
            Latency = Stats(merged),
            PerWorker = workers,
        };
    }

    // The histogram's figures are in microseconds; Statistics are in seconds.
    private static Statistics Stats(JsonElement h)
    {
        long count = h.GetProperty("count").GetInt64();
        if (count == 0)
        {
            return Statistics.Empty;
        }
        double S(string name) => h.GetProperty(name).ValueKind == JsonValueKind.Number ? h.GetProperty(name).GetDouble() / 1e6 : double.NaN;
        return new Statistics(count, S("min_us"), S("max_us"), S("mean_us"), S("stdev_us"),
            new Statistics.Percentiles(S("p50_us"), S("p90_us"), S("p95_us"), S("p99_us"), S("p999_us")));
    }

    // Workers here reach a master bound to every address on loopback.
    private static string MasterReachableHost(string bind) => bind is "0.0.0.0" or "*" or "::" ? "127.0.0.1" : bind;

    // The master binds with zmq, which takes an address or '*' but no host name ('localhost' is "No
    // such device"): a name is resolved as the servers resolve --host (RpycServer.ResolveBindAddress).
    private string MasterBindAddress()
    {
        if (options.MasterBindHost == "*")
        {
            return "*";
        }
        IPAddress address;
        try
        {
            address = RpycServer.ResolveBindAddress(options.MasterBindHost);
        }
        catch (SocketException ex)
        {
            throw new LocustRunException($"The master cannot bind '{options.MasterBindHost}': {ex.Message}", ex);
        }
        return address.AddressFamily == AddressFamily.InterNetwork ? address.ToString()
            : throw new LocustRunException($"The master cannot bind '{options.MasterBindHost}' ({address}): {Ipv4Only}");
    }

    // A worker on another host reaches the master at the address it binds; bound to every address,
    // at one of this host's the user knows, and so the server too: the loopback address the workers
    // here are given would be the other host's own.
    private string WorkerCommand(IReadOnlyDictionary<string, string> environment, string locustfile, string bind)
    {
        const string ThisHost = "<this host's address>";
        string master = MasterReachableHost(bind) == bind ? bind : ThisHost;
        string Value(string key, string value) =>
            key == "RPYCBENCH_HOST" && master == ThisHost && (value == "localhost" || (IPAddress.TryParse(value, out IPAddress? a) && IPAddress.IsLoopback(a))) ? ThisHost : value;
        return string.Join(' ', environment.Select(kv => $"{kv.Key}={Value(kv.Key, kv.Value)}"))
            + $" python3 -m locust -f {Path.GetFileName(locustfile)} --worker --master-host {master} --master-port {MasterPort}"
            + $"   (with {Path.GetFileName(locustfile)} and bench_payload.py from {Path.GetDirectoryName(locustfile)})";
    }

    private void EnsureLocust()
    {
        using var check = Process.Start(new ProcessStartInfo(options.PythonPath, ["-c", "import locust, rpyc"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        }) ?? throw new LocustRunException($"{options.PythonPath} could not be started.");
        // Both pipes drained in the background while the exit is awaited, so that the time limit
        // holds (stderr read to its end first waited as long as the pipe stayed open, for ever behind
        // a process the interpreter left running, and stdout never read could fill and block the
        // child), and each kept bounded: only the last line of stderr is used.
        ErrorLines stdout = ErrorLines.AttachOutput(check);
        ErrorLines stderr = ErrorLines.Attach(check);
        string reason;
        if (!check.WaitForExit(CheckTimeout))
        {
            check.Kill(entireProcessTree: true);
            reason = $"no answer within {CheckTimeout.TotalSeconds:0} s";
        }
        else
        {
            ErrorLines.WaitForExit(StreamEndTimeout, stdout, stderr);
            if (check.ExitCode == 0)
            {
                return;
            }
            string[] lines = stderr.Join("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            reason = lines.Length > 0 ? lines[^1] : $"exit code {check.ExitCode}";
        }
        throw new LocustRunException($"Locust is not importable by {options.PythonPath} ({reason}). Install it with: {InstallCommand}");
    }

    private static int FreePort(string host)
    {
        using var listener = new TcpListener(host is "0.0.0.0" or "*" ? IPAddress.Any : IPAddress.Parse(host), 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Locust did not run to its end.</summary>
public sealed class LocustRunException : Exception
{
    /// <summary>Creates it.</summary>
    public LocustRunException()
    {
    }

    /// <summary>Creates it.</summary>
    /// <param name="message">What went wrong.</param>
    public LocustRunException(string message)
        : base(message)
    {
    }

    /// <summary>Creates it.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public LocustRunException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
