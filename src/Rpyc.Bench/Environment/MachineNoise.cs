using System.Globalization;

namespace Rpyc.Bench;

/// <summary>
/// The CPU other programs used during an interval: the machine's busy CPU time (<c>/proc/stat</c>:
/// all but idle and iowait) minus ours, the client process's threads and each server process tree
/// given (its processes, their descendants and the children they reaped), in cores (CPU seconds per
/// second). On a 2-core machine a build or another benchmark beside the run skews every figure:
/// <see cref="MachineNoiseResult.Busy"/> says when to warn. Linux only; elsewhere the result is NaN.
/// </summary>
/// <example>
/// <code>
/// var noise = MachineNoise.Start(server.ProcessId);
/// RunPhase();
/// MachineNoiseResult r = noise.Stop();
/// if (r.Busy) Console.WriteLine($"other programs used {r.OtherCores:0.00} cores meanwhile");
/// </code>
/// </example>
public sealed class MachineNoise
{
    /// <summary>Above this many cores of other programs' CPU, an interval is <see cref="MachineNoiseResult.Busy"/>. 0.1.</summary>
    public const double BusyCores = 0.1;

    // USER_HZ, the unit of /proc/stat and /proc/PID/stat: 100 on every Linux ABI .NET runs on.
    private const double TicksPerSecond = 100;

    private readonly int _clientPid;
    // The server trees and the client's helper processes' trees: each counts whole.
    private readonly int[] _serverPids;
    private readonly long _startTicks;
    private readonly double _machineStart;
    private readonly double _oursStart;

    private MachineNoise(int clientPid, int[] serverPids)
    {
        _clientPid = clientPid;
        _serverPids = serverPids;
        _machineStart = MachineBusySeconds();
        _oursStart = OurSeconds();
        _startTicks = Clock.Now;
    }

    /// <summary>Starts an interval with this process as the client.</summary>
    /// <param name="serverPids">The server processes whose trees are ours too (none for a server in this process or elsewhere).</param>
    /// <returns>The interval; <see cref="Stop"/> ends it.</returns>
    public static MachineNoise Start(params int[] serverPids) => Start(Environment.ProcessId, serverPids);

    /// <summary>Starts an interval.</summary>
    /// <param name="clientPid">The client process (its own threads count as ours; its other children do not).</param>
    /// <param name="serverPids">The server processes whose trees are ours too.</param>
    /// <returns>The interval; <see cref="Stop"/> ends it.</returns>
    public static MachineNoise Start(int clientPid, IEnumerable<int> serverPids) => Start(clientPid, serverPids, []);

    /// <summary>Starts an interval in which the client also works through processes of its own.</summary>
    /// <param name="clientPid">The client process (its own threads count as ours).</param>
    /// <param name="serverPids">The server processes whose trees are ours too.</param>
    /// <param name="clientHelperPids">
    /// Processes that are the client as much as <paramref name="clientPid"/> is (rpyc's Python client
    /// of a <c>pyclient_*</c> target): their trees are ours, not other programs'.
    /// </param>
    /// <returns>The interval; <see cref="Stop"/> ends it.</returns>
    public static MachineNoise Start(int clientPid, IEnumerable<int> serverPids, IEnumerable<int> clientHelperPids)
    {
        ArgumentNullException.ThrowIfNull(serverPids);
        ArgumentNullException.ThrowIfNull(clientHelperPids);
        return new MachineNoise(clientPid, serverPids.Concat(clientHelperPids).Where(p => p != clientPid).Distinct().ToArray());
    }

    /// <summary>Ends the interval (it may be called again: each call measures from the start).</summary>
    /// <returns>Other programs' CPU, ours and the machine's, in cores.</returns>
    public MachineNoiseResult Stop()
    {
        double machine = MachineBusySeconds();
        double ours = OurSeconds();
        double seconds = Clock.SecondsSince(_startTicks);
        if (double.IsNaN(machine) || double.IsNaN(_machineStart) || seconds <= 0)
        {
            return new MachineNoiseResult(double.NaN, double.NaN, double.NaN, seconds);
        }
        double machineCores = (machine - _machineStart) / seconds;
        double ourCores = Math.Max(0, ours - _oursStart) / seconds;
        return new MachineNoiseResult(Math.Max(0, machineCores - ourCores), ourCores, machineCores, seconds);
    }

    // Busy CPU seconds of the whole machine since boot; NaN when unknown.
    internal static double MachineBusySeconds()
    {
        try
        {
            string line = File.ReadLines("/proc/stat").First();
            long[] cpu = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
            // user nice system idle iowait irq softirq steal (guest time is already in user):
            // busy = all but idle and iowait.
            long busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu.Length > 7 ? cpu[7] : 0);
            return busy / TicksPerSecond;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or InvalidOperationException)
        {
            return double.NaN;
        }
    }

    // CPU seconds of the client's own threads and of each server or helper tree (with the children they reaped).
    private double OurSeconds()
    {
        double seconds = ProcStat.TryRead(_clientPid, out ProcStat client) ? client.UserSeconds + client.SystemSeconds : 0;
        foreach (int pid in _serverPids)
        {
            if (ProcStat.TryRead(pid, out ProcStat root))
            {
                seconds += root.UserSeconds + root.SystemSeconds + root.ChildrenUserSeconds + root.ChildrenSystemSeconds;
                foreach (ProcStat child in ProcStat.Descendants(pid))
                {
                    seconds += child.UserSeconds + child.SystemSeconds + child.ChildrenUserSeconds + child.ChildrenSystemSeconds;
                }
            }
        }
        return seconds;
    }
}

/// <summary>The CPU used during an interval, in cores (CPU seconds per second of the interval).</summary>
/// <param name="OtherCores">Other programs: the machine's busy CPU minus ours. NaN when unknown.</param>
/// <param name="OurCores">The client process, its helper process trees and the server process trees.</param>
/// <param name="MachineCores">The whole machine.</param>
/// <param name="Seconds">The interval's length.</param>
public sealed record MachineNoiseResult(double OtherCores, double OurCores, double MachineCores, double Seconds)
{
    /// <summary>Whether other programs used more than <see cref="MachineNoise.BusyCores"/>: the figures of the interval deserve a warning.</summary>
    public bool Busy => OtherCores > MachineNoise.BusyCores;
}
