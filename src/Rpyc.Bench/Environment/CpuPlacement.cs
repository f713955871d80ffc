using System.Globalization;

namespace Rpyc.Bench;

/// <summary>How the suite places the client's and the servers' threads on CPUs.</summary>
public enum CpuPlacementMode
{
    /// <summary>The scheduler places every thread (the default); <see cref="ThreadPlacement"/> records where they ran.</summary>
    None,

    /// <summary>Every thread of the client and of the server process tree on one CPU.</summary>
    SameCpu,

    /// <summary>Every thread of the client on one CPU, of the server process tree on another.</summary>
    SplitCpus,
}

/// <summary>A CPU placement could not be made: not Linux, too few CPUs, or the kernel refused the mask.</summary>
public sealed class CpuPlacementException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CpuPlacementException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What could not be done, and why.</param>
    public CpuPlacementException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What could not be done.</param>
    /// <param name="innerException">The cause.</param>
    public CpuPlacementException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Where the client's threads and the server process tree's threads run: pinned with
/// <c>sched_setaffinity</c> on every thread (<c>/proc/PID/task/TID</c>). A server is best started
/// already pinned (<see cref="ServerHostOptions.ServerCpu"/>: the child inherits the mask of the
/// thread that starts it, so none of its threads ever runs elsewhere); a running process is pinned
/// thread by thread with <see cref="PinProcess"/>, and a thread it starts meanwhile inherits the
/// mask of its creator. Why it matters: on a VM whose idle vCPUs halt, a round trip between threads on
/// two vCPUs pays an IPI to wake the other one (about 55–80 µs on the reference VM) and one within a
/// vCPU does not (about 13–16 µs); left to the scheduler, the mode changes per run and per process.
/// </summary>
/// <param name="Mode">The mode.</param>
/// <param name="ClientCpu">The client's CPU, or <c>null</c> for <see cref="CpuPlacementMode.None"/>.</param>
/// <param name="ServerCpu">The servers' CPU, or <c>null</c> for <see cref="CpuPlacementMode.None"/>.</param>
/// <example>
/// <code>
/// CpuPlacement placement = CpuPlacement.Resolve(CpuPlacementMode.SplitCpus);
/// using var server = ServerHost.Start("rpyc_threaded", options: new ServerHostOptions().WithServerCpu(placement.ServerCpu));
/// using PinnedThreads client = placement.PinClient();
/// </code>
/// </example>
public sealed record CpuPlacement(CpuPlacementMode Mode, int? ClientCpu, int? ServerCpu)
{
    /// <summary>No pinning.</summary>
    public static CpuPlacement None { get; } = new(CpuPlacementMode.None, null, null);

    /// <summary>The mode's name in options and reports: <c>none</c>, <c>same-cpu</c> or <c>split-cpus</c>.</summary>
    public string Key => ModeKey(Mode);

    /// <summary>What the placement does, for reports.</summary>
    public string Description => Mode switch
    {
        CpuPlacementMode.SameCpu => $"every thread of the client and of the server process tree on CPU {ClientCpu}",
        CpuPlacementMode.SplitCpus => $"every thread of the client on CPU {ClientCpu}, of the server process tree on CPU {ServerCpu}",
        _ => "left to the scheduler",
    };

    /// <summary>The name of a mode: <c>none</c>, <c>same-cpu</c> or <c>split-cpus</c>.</summary>
    /// <param name="mode">The mode.</param>
    /// <returns>Its name.</returns>
    public static string ModeKey(CpuPlacementMode mode) => mode switch
    {
        CpuPlacementMode.SameCpu => "same-cpu",
        CpuPlacementMode.SplitCpus => "split-cpus",
        _ => "none",
    };

    /// <summary>Parses <c>none</c>, <c>same-cpu</c> or <c>split-cpus</c> (case-insensitive; <c>_</c> for <c>-</c> accepted).</summary>
    /// <param name="text">The name.</param>
    /// <returns>The mode.</returns>
    /// <exception cref="ArgumentException">Not a mode's name.</exception>
    public static CpuPlacementMode ParseMode(string text) =>
        TryParseMode(text, out CpuPlacementMode mode, out string? error) ? mode : throw new ArgumentException(error, nameof(text));

    /// <summary>As <see cref="ParseMode"/>, without throwing: for a command line's message.</summary>
    /// <param name="text">The name.</param>
    /// <param name="mode">The mode, when known.</param>
    /// <param name="error">Why not, otherwise: one sentence, for a person.</param>
    /// <returns>Whether it is a mode's name.</returns>
    public static bool TryParseMode(string text, out CpuPlacementMode mode, [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        CpuPlacementMode? parsed = text.Trim().Replace('_', '-').ToLowerInvariant() switch
        {
            "none" => CpuPlacementMode.None,
            "same-cpu" => CpuPlacementMode.SameCpu,
            "split-cpus" => CpuPlacementMode.SplitCpus,
            _ => null,
        };
        mode = parsed ?? CpuPlacementMode.None;
        error = parsed is null ? $"Unknown CPU placement '{text}': use none, same-cpu or split-cpus." : null;
        return parsed is not null;
    }

    /// <summary>
    /// The placement of a mode on this machine, on the first CPUs this process may use: same-cpu on
    /// the first, split-cpus the client on the first and the server on the second.
    /// </summary>
    /// <param name="mode">The mode.</param>
    /// <returns>The placement.</returns>
    /// <exception cref="CpuPlacementException">Pinning needs Linux, or split-cpus needs two CPUs and this process may use one.</exception>
    public static CpuPlacement Resolve(CpuPlacementMode mode)
    {
        if (mode == CpuPlacementMode.None)
        {
            return None;
        }
        if (!OperatingSystem.IsLinux())
        {
            throw new CpuPlacementException($"CPU placement {ModeKey(mode)} needs Linux (sched_setaffinity); use none.");
        }
        int[] cpus = AvailableCpus();
        if (cpus.Length == 0)
        {
            throw new CpuPlacementException($"CPU placement {ModeKey(mode)}: sched_getaffinity failed for this process; use none.");
        }
        if (mode == CpuPlacementMode.SplitCpus && cpus.Length < 2)
        {
            throw new CpuPlacementException(
                $"CPU placement split-cpus needs two CPUs, and this process may use only CPU {cpus[0]} (of {Environment.ProcessorCount} online); use same-cpu or none.");
        }
        return mode == CpuPlacementMode.SameCpu
            ? new CpuPlacement(mode, cpus[0], cpus[0])
            : new CpuPlacement(mode, cpus[0], cpus[1]);
    }

    /// <summary>The CPUs this process may run on (its main thread's mask), lowest first; empty when unknown.</summary>
    /// <returns>The CPU numbers.</returns>
    public static int[] AvailableCpus() =>
        OperatingSystem.IsLinux() && CpuAffinity.TryGet(Environment.ProcessId) is ulong[] mask ? CpuAffinity.Cpus(mask) : [];

    /// <summary>Pins every thread of this process to <see cref="ClientCpu"/> until disposed (nothing for <see cref="CpuPlacementMode.None"/>).</summary>
    /// <returns>The pin; dispose it to restore the masks.</returns>
    /// <exception cref="CpuPlacementException">A mask could not be set.</exception>
    public PinnedThreads PinClient() => ClientCpu is int cpu ? PinProcess(Environment.ProcessId, cpu, includeDescendants: false) : PinnedThreads.Empty();

    /// <summary>Pins every thread of a running server process tree to <see cref="ServerCpu"/> (nothing for <see cref="CpuPlacementMode.None"/>).</summary>
    /// <param name="pid">The server's process.</param>
    /// <returns>The pin; dispose it to restore the masks.</returns>
    /// <exception cref="CpuPlacementException">A mask could not be set.</exception>
    public PinnedThreads PinServer(int pid) => ServerCpu is int cpu ? PinProcess(pid, cpu, includeDescendants: true) : PinnedThreads.Empty();

    /// <summary>Pins every thread of a process (and, when asked, of its descendants) to one CPU until disposed.</summary>
    /// <param name="pid">The process.</param>
    /// <param name="cpu">The CPU.</param>
    /// <param name="includeDescendants">Also pin its child processes' threads (a forking server's workers).</param>
    /// <returns>The pin; dispose it to restore every thread's mask.</returns>
    /// <exception cref="CpuPlacementException">Not Linux, or a mask could not be read or set (whatever was pinned is restored first).</exception>
    public static PinnedThreads PinProcess(int pid, int cpu, bool includeDescendants) => PinnedThreads.Pin(pid, cpu, includeDescendants);

    /// <summary>
    /// Runs <paramref name="start"/> (e.g. <see cref="System.Diagnostics.Process.Start(System.Diagnostics.ProcessStartInfo)"/>)
    /// with the calling thread pinned to <paramref name="cpu"/>, then restores its mask: a process
    /// started there inherits the mask before it runs a single instruction, so every thread it ever
    /// starts stays on that CPU.
    /// </summary>
    /// <typeparam name="T">What <paramref name="start"/> returns.</typeparam>
    /// <param name="cpu">The CPU.</param>
    /// <param name="start">Starts the process.</param>
    /// <returns>What <paramref name="start"/> returned.</returns>
    /// <exception cref="CpuPlacementException">Not Linux, or the calling thread's mask could not be set.</exception>
    public static T StartPinned<T>(int cpu, Func<T> start)
    {
        ArgumentNullException.ThrowIfNull(start);
        if (!OperatingSystem.IsLinux())
        {
            throw new CpuPlacementException("Starting a process on a chosen CPU needs Linux (sched_setaffinity).");
        }
        // tid 0: the calling thread.
        ulong[] original = CpuAffinity.TryGet(0) ?? throw new CpuPlacementException("sched_getaffinity failed for the calling thread.");
        int error = CpuAffinity.Set(0, CpuAffinity.Only(cpu));
        if (error != 0)
        {
            throw new CpuPlacementException($"sched_setaffinity(calling thread, CPU {cpu}) failed with errno {error}.");
        }
        try
        {
            return start();
        }
        finally
        {
            CpuAffinity.Set(0, original);
        }
    }

    /// <summary>The CPUs each thread of a process may run on, by thread id (threads that exit while read are left out).</summary>
    /// <param name="pid">The process.</param>
    /// <returns>Thread id → allowed CPUs.</returns>
    public static IReadOnlyDictionary<int, int[]> ThreadAffinities(int pid)
    {
        var result = new Dictionary<int, int[]>();
        foreach (int tid in CpuAffinity.Threads(pid))
        {
            if (CpuAffinity.TryGet(tid) is ulong[] mask)
            {
                result[tid] = CpuAffinity.Cpus(mask);
            }
        }
        return result;
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Key}: {Description}");
}
