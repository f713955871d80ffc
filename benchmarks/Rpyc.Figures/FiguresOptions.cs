using System.Globalization;
using Rpyc.Figures.Scenarios;

namespace Rpyc.Figures;

/// <summary>What the command does.</summary>
internal enum FiguresMode
{
    /// <summary>The client figures: this library's client against the Python server (the default).</summary>
    Client,

    /// <summary>The server figures: the .NET servers in their own process, beside raw TCP and Python's servers.</summary>
    Servers,

    /// <summary>Where the server figures' time goes: the same figures with the server in this process and in another.</summary>
    Breakdown,

    /// <summary>Hidden: host the benchmark service on a .NET ThreadedServer until stdin closes.</summary>
    ServeThreaded,

    /// <summary>Hidden: host the benchmark service on a .NET ForkingServer until stdin closes.</summary>
    ServeForking,
}

/// <summary>Command-line settings of the figures command.</summary>
internal sealed record FiguresOptions
{
    public const string Usage = """
        usage: dotnet run -c Release --project benchmarks/Rpyc.Figures -- [options]
          --servers          the server figures (.NET ThreadedServer/ForkingServer in a separate process,
                             beside raw TCP and Python's servers) instead of the client figures; the ping
                             figure also with both processes pinned to one CPU (same_cpu) and to two (split_cpus)
          --breakdown        where the server figures' time goes: ping, throughput and 1 MiB against a
                             ThreadedServer in this process and in another, beside raw TCP in both
          --runs N           independent runs, each against fresh servers (default 3)
          --calls N          measured round trips per latency scenario (default 20000)
          --warmup N         at least N warmup calls before each latency scenario (default 1000); every warmup
                             (latency, transfer, throughput) then goes on until the JIT has been quiet for 0.5 s
          --warmup-min S     every warmup lasts at least S seconds (default 1)
          --warmup-max S     ...and at most S seconds, once its count is made, even if the JIT never goes quiet
                             (default 20; the log and the scenario's note say so when it happens)
          --echoes N         measured 1 MiB transfers (default 20, after 3 warmups)
          --out FILE         also write the report as JSON
          --python PATH      interpreter with rpyc installed (default /usr/bin/python3)
          --repo DIR         repository root (default: found upward from the current directory)
        with --servers (and --breakdown):
          --connections N    connections (one thread each) of the throughput figure (default 10)
          --duration S       measured seconds of the throughput figure (default 3)
          --transfers N      measured 1 MiB uploads and downloads, .NET and raw TCP (default 200, after 20 warmup);
                             --echoes stays the count of the Python client's 1 MiB echoes
          --connects N       measured connections per connect-plus-first-call figure (default 50)
          --connect-gap MS   pause between those connections, not counted (default 100)
          --back-to-back N   connections of the back-to-back (no pause) forking figures (default 20)
          --spin-us N        the extra ping row with RpycConnectOptions.ReceiveSpin on both sides, in
                             microseconds (default 50; 0 leaves the row out)
          --wait-idle S      before each run, wait up to S seconds for other programs to leave the CPUs
                             idle (default 300; before each further server: up to 60 s; 0: never wait)
        """;

    public FiguresMode Mode { get; init; } = FiguresMode.Client;

    public int Runs { get; init; } = 3;

    public int Calls { get; init; } = 20_000;

    public int Warmup { get; init; } = 1_000;

    /// <summary>Least duration of every warmup, whatever its count: tiered compilation waits for 100 ms quiet periods.</summary>
    public double WarmupMinSeconds { get; init; } = 1;

    /// <summary>How long the JIT must stay quiet before a warmup ends.</summary>
    public double WarmupSettleSeconds { get; init; } = 0.5;

    /// <summary>Bound on waiting for a quiet JIT (the warmup count is always made).</summary>
    public double WarmupMaxSeconds { get; init; } = 20;

    public WarmupSettings WarmupSettings => new(
        TimeSpan.FromSeconds(WarmupMinSeconds), TimeSpan.FromSeconds(WarmupSettleSeconds), TimeSpan.FromSeconds(WarmupMaxSeconds));

    public int Echoes { get; init; } = 20;

    public int EchoWarmup { get; init; } = 3;

    public int BrineSmallIterations { get; init; } = 100_000;

    public int BrineLargeIterations { get; init; } = 200;

    public int Transfers { get; init; } = 200;

    public int TransferWarmup { get; init; } = 20;

    public int Connections { get; init; } = 10;

    public double DurationSeconds { get; init; } = 3;

    /// <summary>Calls each throughput connection makes before the start barrier.</summary>
    public int ThroughputWarmup { get; init; } = 500;

    public int Connects { get; init; } = 50;

    /// <summary>ReceiveSpin, in microseconds, of the spinning ping row (--servers) and of a hidden serve mode's server; 0: none.</summary>
    public int SpinMicros { get; init; } = 50;

    public int ConnectWarmup { get; init; } = 3;

    public int ConnectGapMs { get; init; } = 100;

    public int BackToBack { get; init; } = 20;

    public int WaitIdleSeconds { get; init; } = 300;

    public string? OutPath { get; init; }

    public string Python { get; init; } = "/usr/bin/python3";

    public string RepoRoot { get; init; } = "";

    public bool ShowHelp { get; init; }

    public bool IsServeMode => Mode is FiguresMode.ServeThreaded or FiguresMode.ServeForking;

    /// <exception cref="ArgumentException">An unknown option or a bad value.</exception>
    public static FiguresOptions Parse(IReadOnlyList<string> args)
    {
        var options = new FiguresOptions();
        string? repo = null;
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i];
            switch (name)
            {
                case "-h" or "--help":
                    return options with { ShowHelp = true };
                case "--servers":
                    options = options with { Mode = FiguresMode.Servers };
                    break;
                case "--breakdown":
                    options = options with { Mode = FiguresMode.Breakdown };
                    break;
                case "--serve-threaded":
                    options = options with { Mode = FiguresMode.ServeThreaded };
                    break;
                case "--serve-forking":
                    options = options with { Mode = FiguresMode.ServeForking };
                    break;
                case "--runs":
                    options = options with { Runs = PositiveInt(args, ref i) };
                    break;
                case "--calls":
                    options = options with { Calls = PositiveInt(args, ref i) };
                    break;
                case "--warmup":
                    options = options with { Warmup = PositiveInt(args, ref i, allowZero: true) };
                    break;
                case "--warmup-min":
                    options = options with { WarmupMinSeconds = PositiveDouble(args, ref i, allowZero: true) };
                    break;
                case "--warmup-max":
                    options = options with { WarmupMaxSeconds = PositiveDouble(args, ref i, allowZero: true) };
                    break;
                case "--echoes":
                    options = options with { Echoes = PositiveInt(args, ref i) };
                    break;
                case "--transfers":
                    options = options with { Transfers = PositiveInt(args, ref i) };
                    break;
                case "--connections":
                    options = options with { Connections = PositiveInt(args, ref i) };
                    break;
                case "--duration":
                    options = options with { DurationSeconds = PositiveDouble(args, ref i) };
                    break;
                case "--connects":
                    options = options with { Connects = PositiveInt(args, ref i) };
                    break;
                case "--connect-gap":
                    options = options with { ConnectGapMs = PositiveInt(args, ref i, allowZero: true) };
                    break;
                case "--back-to-back":
                    options = options with { BackToBack = PositiveInt(args, ref i) };
                    break;
                case "--spin-us":
                    options = options with { SpinMicros = PositiveInt(args, ref i, allowZero: true) };
                    if (options.SpinMicros > RpycConnectOptions.MaxReceiveSpin.TotalMicroseconds)
                    {
                        throw new ArgumentException($"--spin-us must be at most {RpycConnectOptions.MaxReceiveSpin.TotalMicroseconds:0}.");
                    }
                    break;
                case "--wait-idle":
                    options = options with { WaitIdleSeconds = PositiveInt(args, ref i, allowZero: true) };
                    break;
                case "--out":
                    options = options with { OutPath = Value(args, ref i) };
                    break;
                case "--python":
                    options = options with { Python = Value(args, ref i) };
                    break;
                case "--repo":
                    repo = Value(args, ref i);
                    break;
                default:
                    throw new ArgumentException($"Unknown option '{name}'.");
            }
        }
        if (options.WarmupMaxSeconds < options.WarmupMinSeconds)
        {
            throw new ArgumentException($"--warmup-max ({options.WarmupMaxSeconds.ToString(CultureInfo.InvariantCulture)} s) is below --warmup-min ({options.WarmupMinSeconds.ToString(CultureInfo.InvariantCulture)} s).");
        }
        if (options.IsServeMode)
        {
            // The hosting child needs neither Python nor the repository.
            return options;
        }
        repo ??= FindRepoRoot(Directory.GetCurrentDirectory()) ?? FindRepoRoot(AppContext.BaseDirectory)
            ?? throw new ArgumentException("Cannot find the repository root (a directory with Rpyc.slnx); pass --repo.");
        return options with { RepoRoot = Path.GetFullPath(repo) };
    }

    private static string Value(IReadOnlyList<string> args, ref int i)
    {
        if (i + 1 >= args.Count)
        {
            throw new ArgumentException($"Option '{args[i]}' needs a value.");
        }
        return args[++i];
    }

    private static int PositiveInt(IReadOnlyList<string> args, ref int i, bool allowZero = false)
    {
        string name = args[i];
        string text = Value(args, ref i);
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int value) || (value == 0 && !allowZero))
        {
            throw new ArgumentException($"Option '{name}' needs a {(allowZero ? "non-negative" : "positive")} integer, got '{text}'.");
        }
        return value;
    }

    private static double PositiveDouble(IReadOnlyList<string> args, ref int i, bool allowZero = false)
    {
        string name = args[i];
        string text = Value(args, ref i);
        if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value) || !(value > 0 || (allowZero && value == 0)) || double.IsInfinity(value))
        {
            throw new ArgumentException($"Option '{name}' needs a {(allowZero ? "non-negative" : "positive")} number, got '{text}'.");
        }
        return value;
    }

    private static string? FindRepoRoot(string start)
    {
        for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Rpyc.slnx")))
            {
                return dir.FullName;
            }
        }
        return null;
    }
}
