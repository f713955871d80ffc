using System.Diagnostics;
using System.Globalization;

namespace Rpyc.TelemetryOverhead;

internal sealed record OverheadOptions(int Calls, int Warmup, int Runs, string Target)
{
    public static OverheadOptions Parse(string[] args)
    {
        int calls = 20_000, warmup = 2_000, runs = 3;
        string target = "all";
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--calls": calls = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--warmup": warmup = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--runs": runs = int.Parse(args[i + 1], CultureInfo.InvariantCulture); break;
                case "--target": target = args[i + 1]; break;
                default: throw new ArgumentException($"Unknown option {args[i]}.");
            }
        }
        return new OverheadOptions(calls, warmup, runs, target);
    }
}

internal enum Mode
{
    Off,
    Disabled,
    On,
}

internal static class OverheadRunner
{
    /// <summary>Medians over the runs of each mode's p50, and of the per-run (paired) differences to off.</summary>
    public sealed record Summary(double Off, double Disabled, double On, double DisabledMinusOff, double OnMinusOff, double CpuOnMinusOff);

    // Within a run the modes take turns in blocks of calls on one connection (the telemetry is
    // attached and detached between blocks), so drift and the machine's other load hit them alike.
    public static Summary Measure(int port, RpycConnectOptions connectOptions, OverheadOptions options)
    {
        var p50s = new Dictionary<Mode, List<double>> { [Mode.Off] = [], [Mode.Disabled] = [], [Mode.On] = [] };
        var cpuPerCall = new List<double>();
        for (int run = 0; run < options.Runs; run++)
        {
            Dictionary<Mode, double> p50 = RunOnce(port, connectOptions, options, out long recorded, out Dictionary<Mode, double> cpu);
            cpuPerCall.Add(cpu[Mode.On] - cpu[Mode.Off]);
            foreach ((Mode mode, double value) in p50)
            {
                p50s[mode].Add(value);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  port {port} run {run + 1}: p50 off {p50[Mode.Off],6:F2} us, disabled {p50[Mode.Disabled],6:F2} us, on {p50[Mode.On],6:F2} us; process CPU per call off {cpu[Mode.Off],6:F2} us, on {cpu[Mode.On],6:F2} us (records {recorded}, load {LoadAverage()})"));
        }
        List<double> off = p50s[Mode.Off];
        return new Summary(
            Median(off), Median(p50s[Mode.Disabled]), Median(p50s[Mode.On]),
            Median([.. p50s[Mode.Disabled].Select((v, i) => v - off[i])]),
            Median([.. p50s[Mode.On].Select((v, i) => v - off[i])]),
            Median(cpuPerCall));
    }

    private const int BlockSize = 500;

    private static Dictionary<Mode, double> RunOnce(int port, RpycConnectOptions connectOptions, OverheadOptions options, out long recorded, out Dictionary<Mode, double> cpuPerCall)
    {
        using Process self = Process.GetCurrentProcess();
        var cpu = new Dictionary<Mode, TimeSpan> { [Mode.Off] = TimeSpan.Zero, [Mode.Disabled] = TimeSpan.Zero, [Mode.On] = TimeSpan.Zero };
        using RpycConnection connection = RpycConnection.Connect("127.0.0.1", port, connectOptions);
        var disabled = new RpycTelemetry(new RpycTelemetryOptions { Enabled = false });
        var on = new RpycTelemetry(new RpycTelemetryOptions { MaxRecords = options.Calls + options.Warmup + 16 });
        Netref root = connection.RootNetref;
        on.Attach(connection);
        for (int i = 0; i < options.Warmup; i++)
        {
            root.CallMethod("ping");
        }
        disabled.Attach(connection);
        for (int i = 0; i < options.Warmup; i++)
        {
            root.CallMethod("ping");
        }
        disabled.Detach(connection);
        for (int i = 0; i < options.Warmup; i++)
        {
            root.CallMethod("ping");
        }
        on.Reset();
        var samples = new Dictionary<Mode, long[]>();
        foreach (Mode mode in Enum.GetValues<Mode>())
        {
            samples[mode] = new long[options.Calls];
        }
        Mode[] modes = Enum.GetValues<Mode>();
        for (int done = 0, blockIndex = 0; done < options.Calls; done += BlockSize, blockIndex++)
        {
            int count = Math.Min(BlockSize, options.Calls - done);
            // Rotate which mode goes first so that none always follows another (GC of the records, say).
            for (int k = 0; k < modes.Length; k++)
            {
                Mode mode = modes[(blockIndex + k) % modes.Length];
                on.Detach(connection);
                disabled.Detach(connection);
                switch (mode)
                {
                    case Mode.Disabled:
                        disabled.Attach(connection);
                        break;
                    case Mode.On:
                        on.Attach(connection);
                        break;
                }
                long[] block = samples[mode];
                self.Refresh();
                TimeSpan cpuBefore = self.TotalProcessorTime;
                for (int i = done; i < done + count; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    root.CallMethod("ping");
                    block[i] = Stopwatch.GetTimestamp() - start;
                }
                self.Refresh();
                cpu[mode] += self.TotalProcessorTime - cpuBefore;
            }
        }
        on.Detach(connection);
        recorded = on.GetStatistics().RoundTrips;
        cpuPerCall = cpu.ToDictionary(kv => kv.Key, kv => kv.Value.TotalMicroseconds / options.Calls);
        var result = new Dictionary<Mode, double>();
        foreach ((Mode mode, long[] values) in samples)
        {
            Array.Sort(values);
            result[mode] = values[values.Length / 2] * 1_000_000.0 / Stopwatch.Frequency;
        }
        return result;
    }

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Split(' ')[0];
        }
        catch (IOException)
        {
            return "?";
        }
    }

    private static double Median(List<double> values)
    {
        List<double> sorted = [.. values.Order()];
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}

/// <summary>The .NET peer: the same <c>ping</c> as demo_server.py.</summary>
public sealed class PingService : RpycService
{
    [Exposed] public string Ping() => "pong";
}
