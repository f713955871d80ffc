using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Rpyc.Bench;

/// <summary>
/// An RPyC server measured by rpyc's own Python client (Debian's <c>python3-rpyc</c>, run by
/// <c>/usr/bin/python3</c>): each <see cref="Connect"/> starts a long-lived <c>python/rpyc_client.py</c>
/// that holds one connection and takes commands over stdin/stdout. Use it through
/// <see cref="ISelfTimingClient"/> for figures: see there why.
/// </summary>
/// <param name="name">The report key, e.g. <c>pyclient_rpyc_threaded</c>.</param>
/// <param name="host">Server host.</param>
/// <param name="port">Server port.</param>
/// <param name="pythonPath">The interpreter. Default Debian's <c>/usr/bin/python3</c>.</param>
/// <param name="scriptDirectory">Where <c>rpyc_client.py</c> is, or <c>null</c> for <c>python/</c> beside the application.</param>
public sealed class PythonClientBenchTarget(string name, string host, int port, string pythonPath = "/usr/bin/python3", string? scriptDirectory = null)
    : BenchTarget(name, "rpyc", host, port)
{
    // One interpreter probe per interpreter path, however many rounds ask.
    private static readonly ConcurrentDictionary<string, string> s_descriptions = new(StringComparer.Ordinal);

    /// <summary>
    /// rpyc's Python client, with the rpyc and python versions the interpreter reports and how it is
    /// driven, e.g. "rpyc 6.0.1 Python client (python 3.11.2, /usr/bin/python3): one connection in a
    /// process of its own, driven over stdin/stdout, timing its own calls".
    /// </summary>
    public override string ClientDescription => s_descriptions.GetOrAdd(pythonPath, Describe);

    private static string Describe(string pythonPath)
    {
        IReadOnlyDictionary<string, string> versions = PythonPeers.Versions(pythonPath);
        string rpyc = versions.TryGetValue("rpyc", out string? r) ? $"rpyc {r}" : "rpyc (version unknown)";
        string python = versions.TryGetValue("python", out string? p) ? $"python {p}, {pythonPath}" : pythonPath;
        return $"{rpyc} Python client ({python}): one connection in a process of its own, driven over stdin/stdout, timing its own calls";
    }

    /// <summary>Starts the Python client and waits until it has connected (nothing sent yet).</summary>
    /// <returns>A <see cref="PythonBenchClient"/>.</returns>
    /// <exception cref="PythonPeerMissingException">python3 or rpyc is missing.</exception>
    /// <exception cref="IOException">The client did not start or could not connect.</exception>
    public override BenchClient Connect() => new PythonBenchClient(pythonPath, PythonPeers.Script(scriptDirectory, "rpyc_client.py"), Host, Port);
}

/// <summary>
/// rpyc's Python client in a process of its own (see <see cref="PythonClientBenchTarget"/>). Per-call
/// operations send one command and wait for its checked answer; <see cref="ISelfTimingClient"/> runs
/// and times whole batches there. Disposing closes the connection and stops the process.
/// </summary>
public sealed class PythonBenchClient : BenchClient, ISelfTimingClient
{
    private static readonly ConcurrentDictionary<Process, bool> s_live = new();
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    // The stdout replies are read whole: they are the protocol (a batch's timings are one JSON line).
    private readonly ErrorLines _stderr;
    private readonly Dictionary<string, long> _roundTrips = [];
    private long _roundTripCount;

    static PythonBenchClient()
    {
        // A client left running when this process exits must not outlive it.
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (Process process in s_live.Keys)
            {
                Kill(process);
            }
        };
    }

    internal PythonBenchClient(string pythonPath, string script, string host, int port)
    {
        PythonPeers.EnsureAvailable(pythonPath, needFlask: false);
        var start = new ProcessStartInfo(pythonPath)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string arg in new[] { "-u", script, "--host", host, "--port", port.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(arg);
        }
        _process = Process.Start(start) ?? throw new IOException($"Could not start {pythonPath}.");
        s_live[_process] = true;
        _stderr = ErrorLines.Attach(_process);
        Task<string?> ready = _process.StandardOutput.ReadLineAsync();
        if (!ready.Wait(s_startTimeout) || ready.Result != "READY")
        {
            string got = ready.IsCompletedSuccessfully ? Quoted(ready.Result) : "nothing";
            if (ready.IsCompletedSuccessfully && ready.Result is null)
            {
                // Stdout ended: the client is going, and the last lines of its stderr, which say why,
                // may still be in the pipe.
                _stderr.WaitForExit(TimeSpan.FromSeconds(5));
            }
            Stop();
            throw new IOException($"The Python client did not connect to {RemoteEndpoint.HostPort(host, port)} (said {got}).{StderrSuffix()}");
        }
        ProcessId = _process.Id;
    }

    /// <summary>The Python client's process id.</summary>
    public int ProcessId { get; }

    /// <summary>Round trips of the per-call operations so far (each operation's count measured once, untimed, by <see cref="RoundTripsPerCall"/>).</summary>
    public override long RoundTrips => _roundTripCount;

    /// <inheritdoc />
    public override void Ping() => Call("ping");

    /// <summary><c>c.root.ping()</c>: a GETATTR and a CALL (and an async DEL of the bound-method proxy), as rpyc users often write it.</summary>
    public void PingUncached() => Call("ping_uncached");

    /// <inheritdoc />
    /// <exception cref="NotSupportedException"><paramref name="data"/> is not <see cref="Payload"/> bytes (the Python side builds its own copy).</exception>
    public override void Echo(byte[] data) => Call($"echo:{PayloadLength(data)}");

    /// <inheritdoc />
    /// <exception cref="NotSupportedException"><paramref name="data"/> is not <see cref="Payload"/> bytes.</exception>
    public override void Upload(byte[] data) => Call($"upload:{PayloadLength(data)}");

    /// <inheritdoc />
    public override void Download(int length) => Call($"download:{length.ToString(CultureInfo.InvariantCulture)}");

    /// <inheritdoc />
    public override void Compute(int n) => Call($"compute:{n.ToString(CultureInfo.InvariantCulture)}");

    /// <inheritdoc />
    public override void Sleep(double seconds) => Call($"sleep:{seconds.ToString("R", CultureInfo.InvariantCulture)}");

    /// <inheritdoc />
    public long RunUntimed(string operation, int count)
    {
        string reply = Command($"run {Checked(operation)} {count.ToString(CultureInfo.InvariantCulture)}");
        string[] words = reply.Split(' ', 3);
        if (words is not ["OK", _, ..] || !long.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out long failures))
        {
            throw new InvalidReplyException($"The Python client answered {Quoted(reply)} to run {operation}.");
        }
        _roundTripCount += (count - failures) * RoundTripsPerCall(operation);
        return failures;
    }

    /// <inheritdoc />
    public SelfTimedBatch RunTimed(string operation, int count, TimeSpan maxDuration)
    {
        double seconds = maxDuration == Timeout.InfiniteTimeSpan ? 1e9 : maxDuration.TotalSeconds;
        SelfTimedBatch batch = ReadBatch(Command(FormattableString.Invariant($"time {Checked(operation)} {count} {seconds:R}")));
        _roundTripCount += batch.Ticks.Count * RoundTripsPerCall(operation);
        return batch;
    }

    /// <inheritdoc />
    public SelfTimedBatch TimeConnections(int count, TimeSpan gap) =>
        ReadBatch(Command(FormattableString.Invariant($"connect {count} {gap.TotalMilliseconds:R}")));

    /// <inheritdoc />
    public long RoundTripsPerCall(string operation)
    {
        if (!_roundTrips.TryGetValue(operation, out long n))
        {
            string reply = Command($"roundtrips {Checked(operation)}");
            string[] words = reply.Split(' ');
            if (words is not ["OK", _, _] || !long.TryParse(words[1], NumberStyles.None, CultureInfo.InvariantCulture, out n)
                || !long.TryParse(words[2], NumberStyles.None, CultureInfo.InvariantCulture, out long setup))
            {
                throw new InvalidReplyException($"The Python client answered {Quoted(reply)} to roundtrips {operation}.");
            }
            _roundTrips[operation] = n;
            // The counting call, and what its first use fetched (the root's GETROOT, a bound method's GETATTR).
            _roundTripCount += n + setup;
        }
        return n;
    }

    private void Call(string operation)
    {
        RoundTripsPerCall(operation);
        string reply = Command($"call {operation}");
        if (reply != "OK")
        {
            Invalid($"{operation} through the Python client: {Shortened(reply.StartsWith("FAIL ", StringComparison.Ordinal) ? reply[5..] : reply)}");
        }
        _roundTripCount += _roundTrips[operation];
    }

    private string Command(string line)
    {
        if (_process.HasExited)
        {
            throw new IOException($"The Python client exited with code {_process.ExitCode}.{StderrSuffix()}");
        }
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
        return _process.StandardOutput.ReadLine()
            ?? throw new IOException($"The Python client closed its output after '{line}'.{StderrSuffix()}");
    }

    private static SelfTimedBatch ReadBatch(string json)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(json);
            JsonElement root = doc.RootElement;
            double ticksPerNanosecond = Stopwatch.Frequency / 1e9;
            long[] ticks = root.GetProperty("ns").EnumerateArray().Select(e => (long)Math.Round(e.GetInt64() * ticksPerNanosecond)).ToArray();
            string? error = root.TryGetProperty("error", out JsonElement e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
            double seconds = root.TryGetProperty("seconds", out JsonElement s) ? s.GetDouble() : ticks.Sum(Clock.ToSeconds);
            return new SelfTimedBatch(ticks, root.GetProperty("failures").GetInt64(), error, seconds);
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new InvalidReplyException($"The Python client answered {Quoted(json)}, not a batch.");
        }
    }

    // Operations are one word on the command line.
    private static string Checked(string operation) =>
        string.IsNullOrEmpty(operation) || operation.Any(char.IsWhiteSpace)
            ? throw new ArgumentException($"Bad operation '{operation}'.", nameof(operation))
            : operation;

    private static string PayloadLength(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return Payload.Matches(data)
            ? data.Length.ToString(CultureInfo.InvariantCulture)
            : throw new NotSupportedException("The Python client sends and expects Payload bytes only (it builds its own copy of payload(n)).");
    }

    // A reply in a message: its start, as a reply is one line of any length.
    private static string Quoted(string? reply) => reply is null ? "end of output" : $"'{Shortened(reply)}'";

    private static string Shortened(string reply) => reply.Length > 200 ? $"{reply[..200]}… ({reply.Length - 200} more characters)" : reply;

    private string StderrSuffix()
    {
        string tail = _stderr.Join(Environment.NewLine);
        return tail.Length == 0 ? "" : $" Python stderr:{Environment.NewLine}{tail}";
    }

    private void Stop()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.WriteLine("quit");
                _process.StandardInput.Close();
                if (!_process.WaitForExit(5000))
                {
                    Kill(_process);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            Kill(_process);
        }
        s_live.TryRemove(_process, out _);
        _process.Dispose();
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            process.WaitForExit(5000);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Stop();
        }
    }
}
