using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;

namespace Rpyc.Bench;

/// <summary>
/// One description of the machine a run was taken on, for report metadata: what can change a
/// figure (CPU, cores this process may use, memory, runtime, GC, the CPU idle and frequency
/// governors, the load) in one place. Values that cannot be read are <c>null</c> (or NaN).
/// </summary>
/// <param name="Hostname">The machine's name.</param>
/// <param name="OperatingSystem">The OS description, e.g. <c>Debian GNU/Linux 12 (bookworm)</c> or the runtime's.</param>
/// <param name="Kernel">The kernel release (<c>/proc/sys/kernel/osrelease</c>).</param>
/// <param name="Architecture">The process architecture, e.g. <c>X64</c>.</param>
/// <param name="CpuModel">The CPU model name (<c>/proc/cpuinfo</c>).</param>
/// <param name="ProcessorCount">Logical CPUs the runtime sees (<see cref="Environment.ProcessorCount"/>).</param>
/// <param name="AvailableCpus">The CPUs this process may run on (its affinity mask).</param>
/// <param name="Hypervisor">Whether the CPU reports a hypervisor (a VM), or <c>null</c> when unknown.</param>
/// <param name="MemoryBytes">Physical memory (<c>MemTotal</c>), 0 when unknown.</param>
/// <param name="Runtime">The .NET runtime, e.g. <c>.NET 10.0.1</c>.</param>
/// <param name="GcMode">Server or workstation GC, and its latency mode.</param>
/// <param name="Optimized">Whether the RPyC library was built optimized (a Debug build makes every figure meaningless).</param>
/// <param name="StopwatchFrequency">Ticks per second of the measuring clock.</param>
/// <param name="CpuIdleDriver">The cpuidle driver, e.g. <c>haltpoll</c> or <c>intel_idle</c>.</param>
/// <param name="CpuIdleGovernor">The cpuidle governor, e.g. <c>haltpoll</c>, <c>menu</c>, <c>teo</c>.</param>
/// <param name="HaltPollNs">The guest halt-poll time in ns (<c>/sys/module/haltpoll/parameters/guest_halt_poll_ns</c>), when the haltpoll driver is loaded.</param>
/// <param name="CpuFrequencyGovernor">The frequency governor of CPU 0, e.g. <c>performance</c> or <c>schedutil</c>.</param>
/// <param name="LoadAverage">The 1, 5 and 15 minute load averages (<c>/proc/loadavg</c>), empty when unknown.</param>
public sealed record MachineInfo(
    string Hostname,
    string OperatingSystem,
    string? Kernel,
    string Architecture,
    string CpuModel,
    int ProcessorCount,
    IReadOnlyList<int> AvailableCpus,
    bool? Hypervisor,
    long MemoryBytes,
    string Runtime,
    string GcMode,
    bool Optimized,
    long StopwatchFrequency,
    string? CpuIdleDriver,
    string? CpuIdleGovernor,
    long? HaltPollNs,
    string? CpuFrequencyGovernor,
    IReadOnlyList<double> LoadAverage)
{
    /// <summary>Describes this machine now.</summary>
    /// <returns>The description.</returns>
    public static MachineInfo Collect() => new(
        Environment.MachineName,
        OsName() ?? RuntimeInformation.OSDescription,
        ReadLine("/proc/sys/kernel/osrelease"),
        RuntimeInformation.ProcessArchitecture.ToString(),
        ProcField("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
        Environment.ProcessorCount,
        CpuPlacement.AvailableCpus(),
        ProcField("/proc/cpuinfo", "flags") is string flags ? flags.Split(' ').Contains("hypervisor") : null,
        ParseKiB(ProcField("/proc/meminfo", "MemTotal")),
        RuntimeInformation.FrameworkDescription,
        GCSettings.IsServerGC ? $"server, {GCSettings.LatencyMode}" : $"workstation, {GCSettings.LatencyMode}",
        typeof(RpycConnection).Assembly.GetCustomAttribute<DebuggableAttribute>() is not { IsJITOptimizerDisabled: true },
        Stopwatch.Frequency,
        ReadLine("/sys/devices/system/cpu/cpuidle/current_driver"),
        ReadLine("/sys/devices/system/cpu/cpuidle/current_governor") ?? ReadLine("/sys/devices/system/cpu/cpuidle/current_governor_ro"),
        long.TryParse(ReadLine("/sys/module/haltpoll/parameters/guest_halt_poll_ns"), NumberStyles.None, CultureInfo.InvariantCulture, out long ns) ? ns : null,
        ReadLine("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        ReadLoadAverage());

    /// <summary>The 1, 5 and 15 minute load averages now (<c>/proc/loadavg</c>); empty when unknown.</summary>
    /// <returns>The three averages.</returns>
    public static IReadOnlyList<double> ReadLoadAverage()
    {
        string? line = ReadLine("/proc/loadavg");
        if (line is null)
        {
            return [];
        }
        string[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var loads = new List<double>();
        for (int i = 0; i < 3 && i < f.Length; i++)
        {
            if (double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double load))
            {
                loads.Add(load);
            }
        }
        return loads;
    }

    /// <summary>The description as name → value, for a report's metadata (invariant culture, no nulls).</summary>
    /// <returns>The values.</returns>
    public IReadOnlyDictionary<string, object> ToDictionary()
    {
        var values = new Dictionary<string, object>
        {
            ["hostname"] = Hostname,
            ["os"] = OperatingSystem,
            ["architecture"] = Architecture,
            ["cpu_model"] = CpuModel,
            ["processor_count"] = ProcessorCount,
            ["available_cpus"] = AvailableCpus.ToArray(),
            ["memory_bytes"] = MemoryBytes,
            ["runtime"] = Runtime,
            ["gc"] = GcMode,
            ["optimized"] = Optimized,
            ["stopwatch_frequency"] = StopwatchFrequency,
            ["load_average"] = LoadAverage.ToArray(),
        };
        void Add(string key, object? value)
        {
            if (value is not null)
            {
                values[key] = value;
            }
        }
        Add("kernel", Kernel);
        Add("hypervisor", Hypervisor);
        Add("cpuidle_driver", CpuIdleDriver);
        Add("cpuidle_governor", CpuIdleGovernor);
        Add("haltpoll_ns", HaltPollNs);
        Add("cpufreq_governor", CpuFrequencyGovernor);
        return values;
    }

    private static string? OsName()
    {
        try
        {
            foreach (string line in File.ReadLines("/etc/os-release"))
            {
                if (line.StartsWith("PRETTY_NAME=", StringComparison.Ordinal))
                {
                    return line["PRETTY_NAME=".Length..].Trim('"');
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    private static string? ReadLine(string path)
    {
        try
        {
            string text = File.ReadAllText(path).Trim();
            return text.Length == 0 ? null : text;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? ProcField(string path, string key)
    {
        try
        {
            foreach (string line in File.ReadLines(path))
            {
                int colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line[..colon].Trim() == key)
                {
                    return line[(colon + 1)..].Trim();
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }

    private static long ParseKiB(string? value)
    {
        string digits = new((value ?? "").TakeWhile(char.IsDigit).ToArray());
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long kib) ? kib * 1024 : 0;
    }
}
