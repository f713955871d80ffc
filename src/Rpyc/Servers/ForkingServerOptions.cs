namespace Rpyc;

/// <summary>Settings of the worker processes of a <see cref="ForkingServer"/>.</summary>
public sealed class ForkingServerOptions
{
    private readonly int? _maxPrestartedWorkers;

    /// <summary>
    /// The fewest workers kept started and warm, waiting for a connection: the pool's size when
    /// clients arrive slower than workers start. Default 2.
    /// </summary>
    public int PrestartedWorkers { get; init; } = 2;

    /// <summary>
    /// The most idle workers the pool grows to while clients keep finding none ready (each costs
    /// about 40 MB of memory while it waits on the JIT <c>rpyc-worker.dll</c>, about 8 MB as a NativeAOT
    /// worker: <see cref="WorkerPath"/>). Default 8, or <see cref="PrestartedWorkers"/> when that is larger.
    /// </summary>
    public int MaxPrestartedWorkers
    {
        get => _maxPrestartedWorkers ?? Math.Max(8, PrestartedWorkers);
        init => _maxPrestartedWorkers = value;
    }

    /// <summary>
    /// The most worker processes alive at once, serving or idle (each serving one costs about 40 MB
    /// or more). A client whose first bytes arrive while this many are serving is closed, and the
    /// refusals are logged once per burst. Default 64.
    /// </summary>
    public int MaxWorkers { get; init; } = 64;

    /// <summary>
    /// After this long without a client finding no ready worker, the pool's target halves (not
    /// below <see cref="PrestartedWorkers"/>) and the surplus idle workers exit. Default 30 s.
    /// </summary>
    public TimeSpan PoolShrinkAfter { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an accepted client may wait for a worker when none is ready. Default 30 s.</summary>
    public TimeSpan WorkerStartTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long after a worker takes a connection the pool is topped up again. Default 20 ms.</summary>
    public TimeSpan ReplacementDelay { get; init; } = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// The worker program; by default <c>rpyc-worker.dll</c>, found beside the application or the
    /// Rpyc assembly, which loads the service's assembly and runs on the <c>dotnet</c> host (a
    /// runtime start and a JIT warmup per worker: about 0.2 s of CPU and 40 MB each). A path that does
    /// not end in <c>.dll</c> is run as a program of its own: a worker that calls
    /// <see cref="Servers.ForkingWorker.Run{TService}(string[])"/>, published with NativeAOT (a few
    /// milliseconds of CPU and under 10 MB each), or the application itself when its entry point
    /// recognises the worker's command line (<see cref="Servers.ForkingWorker.IsWorkerCommandLine(string[])"/>).
    /// </summary>
    public string? WorkerPath { get; init; }

    internal void Validate(string paramName)
    {
        if (PrestartedWorkers < 0)
        {
            throw new ArgumentException($"PrestartedWorkers must be 0 or more, not {PrestartedWorkers}.", paramName);
        }
        if (MaxPrestartedWorkers < PrestartedWorkers)
        {
            throw new ArgumentException(
                $"MaxPrestartedWorkers ({MaxPrestartedWorkers}) must be at least PrestartedWorkers ({PrestartedWorkers}).", paramName);
        }
        if (MaxWorkers < Math.Max(1, PrestartedWorkers))
        {
            throw new ArgumentException($"MaxWorkers ({MaxWorkers}) must be at least 1 and at least PrestartedWorkers ({PrestartedWorkers}).", paramName);
        }
        if (PoolShrinkAfter <= TimeSpan.Zero)
        {
            throw new ArgumentException($"PoolShrinkAfter must be positive, not {PoolShrinkAfter}.", paramName);
        }
    }
}
