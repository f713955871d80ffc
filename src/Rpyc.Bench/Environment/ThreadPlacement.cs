using System.Globalization;

namespace Rpyc.Bench;

/// <summary>
/// Where the client's and the server's threads ran during a phase, when the scheduler placed them
/// (<see cref="CpuPlacementMode.None"/>): a background thread reads every thread's CPU
/// (<c>/proc/PID/task/TID/stat</c> field 39, <c>processor</c>, read only for a thread that ran) and
/// its CPU time (<c>schedstat</c>), and credits the CPU time a thread used since the previous sample to the CPU
/// it was last seen on. Threads that did not run are not counted, so idle runtime threads do not
/// blur the picture. Linux only; elsewhere the result is empty.
/// </summary>
/// <example>
/// <code>
/// using var observer = new ThreadPlacement(Environment.ProcessId, server.ProcessId);
/// RunPhase();
/// ObservedPlacement seen = observer.Stop();   // e.g. client: CPU 0 98 %, server: CPU 1 97 %
/// </code>
/// </example>
public sealed class ThreadPlacement : IDisposable
{
    private readonly int _clientPid;
    private readonly int? _serverPid;
    private readonly TimeSpan _interval;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _stop = new();
    private readonly SamplerGate? _gate;
    private readonly Dictionary<int, long> _lastNanoseconds = [];
    private readonly Dictionary<int, double> _client = [];
    private readonly Dictionary<int, double> _server = [];
    private int _samples;
    private int _selfTid;
    private ObservedPlacement? _result;

    /// <summary>Starts observing.</summary>
    /// <param name="clientPid">The client process (its threads only).</param>
    /// <param name="serverPid">The server process (its whole tree), or <c>null</c> when it is not ours to see.</param>
    /// <param name="interval">Time between samples. Default 100 ms: each pass reads two files per thread that ran, a cost taken from the measured CPUs.</param>
    /// <param name="gate">Holds the sampling while a quiet phase is measured; none by default. The CPU time a thread used meanwhile goes to the CPU it is on at the next pass.</param>
    public ThreadPlacement(int clientPid, int? serverPid, TimeSpan? interval = null, SamplerGate? gate = null)
    {
        _gate = gate;
        _clientPid = clientPid;
        _serverPid = serverPid == clientPid ? null : serverPid;
        _interval = interval ?? TimeSpan.FromMilliseconds(100);
        Sample();
        _thread = new Thread(Loop) { IsBackground = true, Name = "thread-placement" };
        _thread.Start();
    }

    /// <summary>Stops observing (idempotent) and returns what was seen.</summary>
    /// <returns>CPU seconds per CPU, client and server.</returns>
    public ObservedPlacement Stop()
    {
        if (_result is not null)
        {
            return _result;
        }
        _stop.Set();
        _thread.Join();
        Sample();
        _result = new ObservedPlacement(new Dictionary<int, double>(_client), new Dictionary<int, double>(_server), _samples);
        return _result;
    }

    private void Loop()
    {
        // This observer's own thread is not the client's work: /proc/thread-self links to PID/task/TID.
        _selfTid = int.TryParse(Path.GetFileName(new DirectoryInfo("/proc/thread-self").LinkTarget ?? ""), NumberStyles.None, CultureInfo.InvariantCulture, out int tid) ? tid : 0;
        while (!_stop.Wait(_interval) && (_gate is null || _gate.WaitWhilePaused(_stop)))
        {
            Sample();
        }
    }

    private void Sample()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        _samples++;
        Credit(_clientPid, _client);
        if (_serverPid is int server)
        {
            Credit(server, _server);
            foreach (ProcStat child in ProcStat.Descendants(server))
            {
                Credit(child.Pid, _server);
            }
        }
    }

    private void Credit(int pid, Dictionary<int, double> seconds)
    {
        string task = $"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/task/";
        foreach (int tid in CpuAffinity.Threads(pid))
        {
            if (tid == _selfTid)
            {
                continue;
            }
            string dir = task + tid.ToString(CultureInfo.InvariantCulture) + "/";
            if (!TryReadRunTime(dir, out long nanoseconds))
            {
                continue;
            }
            // Thread ids are unique machine-wide while the thread lives.
            long before = _lastNanoseconds.GetValueOrDefault(tid, nanoseconds);
            _lastNanoseconds[tid] = nanoseconds;
            // Only a thread that ran since the last look has its CPU read: most runtime threads sleep,
            // and stat is the dearer file.
            if (nanoseconds > before && TryReadCpu(dir, out int cpu))
            {
                seconds[cpu] = seconds.GetValueOrDefault(cpu) + (nanoseconds - before) / 1e9;
            }
        }
    }

    // The thread's time on a CPU so far (schedstat's first field), in nanoseconds.
    internal static bool TryReadRunTime(string taskDir, out long nanoseconds) =>
        ProcFs.TryReadSchedstat(taskDir + "schedstat", out nanoseconds, out _);

    // The CPU the thread last ran on: stat field 39 (processor).
    internal static bool TryReadCpu(string taskDir, out int cpu)
    {
        const int ProcessorField = 39 - 3;
        cpu = -1;
        Span<byte> text = stackalloc byte[1024];
        Span<long> fields = stackalloc long[ProcessorField + 1];
        int length = ProcFs.Read(taskDir + "stat", text);
        if (length <= 0 || ProcFs.StatFields(text[..length], fields) <= ProcessorField)
        {
            // The thread exited while we looked.
            return false;
        }
        cpu = (int)fields[ProcessorField];
        return true;
    }

    /// <summary>Stops the sampling thread.</summary>
    public void Dispose()
    {
        Stop();
        _stop.Dispose();
    }
}

/// <summary>Where the threads ran: CPU seconds credited to each CPU, for the client and the server process tree.</summary>
/// <param name="ClientCpuSeconds">CPU → seconds the client's threads ran there.</param>
/// <param name="ServerCpuSeconds">CPU → seconds the server tree's threads ran there (empty when not observed).</param>
/// <param name="Samples">Samples taken.</param>
public sealed record ObservedPlacement(IReadOnlyDictionary<int, double> ClientCpuSeconds, IReadOnlyDictionary<int, double> ServerCpuSeconds, int Samples)
{
    /// <summary>
    /// How much the two sides' CPUs overlap: the sum over CPUs of the smaller of the client's and the
    /// server's share of their CPU time there. 1 when both ran on the same CPUs in the same
    /// proportions (e.g. the scheduler kept them on one CPU), 0 when they never shared a CPU;
    /// <c>null</c> when either side was not seen running.
    /// </summary>
    public double? SharedCpuFraction
    {
        get
        {
            double client = ClientCpuSeconds.Values.Sum();
            double server = ServerCpuSeconds.Values.Sum();
            if (client <= 0 || server <= 0)
            {
                return null;
            }
            return ClientCpuSeconds.Sum(kv => Math.Min(kv.Value / client, ServerCpuSeconds.GetValueOrDefault(kv.Key) / server));
        }
    }

    /// <summary>A one-line summary, e.g. <c>client: cpu0 98%, cpu1 2%; server: cpu1 100%</c>.</summary>
    /// <returns>The summary.</returns>
    public override string ToString() =>
        $"client: {Describe(ClientCpuSeconds)}; server: {Describe(ServerCpuSeconds)}";

    private static string Describe(IReadOnlyDictionary<int, double> seconds)
    {
        double total = seconds.Values.Sum();
        return total <= 0 ? "not seen" : string.Join(", ", seconds.OrderBy(kv => kv.Key)
            .Select(kv => string.Create(CultureInfo.InvariantCulture, $"cpu{kv.Key} {100 * kv.Value / total:0}%")));
    }
}
