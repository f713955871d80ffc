using System.Globalization;

namespace Rpyc.Figures;

/// <summary>Command-line settings of the figures command.</summary>
internal sealed record FiguresOptions
{
    public const string Usage = """
        usage: dotnet run -c Release --project benchmarks/Rpyc.Figures -- [options]
          --runs N           independent runs, each against a fresh Python server (default 3)
          --calls N          measured round trips per latency scenario (default 20000)
          --warmup N         warmup calls before each latency scenario (default 1000)
          --echoes N         measured 1 MiB echoes (default 20, after 3 warmups)
          --out FILE         also write the report as JSON
          --python PATH      interpreter with rpyc installed (default /usr/bin/python3)
          --repo DIR         repository root (default: found upward from the current directory)
        """;

    public int Runs { get; init; } = 3;

    public int Calls { get; init; } = 20_000;

    public int Warmup { get; init; } = 1_000;

    public int Echoes { get; init; } = 20;

    public int EchoWarmup { get; init; } = 3;

    public int BrineSmallIterations { get; init; } = 100_000;

    public int BrineLargeIterations { get; init; } = 200;

    public string? OutPath { get; init; }

    public string Python { get; init; } = "/usr/bin/python3";

    public string RepoRoot { get; init; } = "";

    public bool ShowHelp { get; init; }

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
                case "--runs":
                    options = options with { Runs = PositiveInt(args, ref i) };
                    break;
                case "--calls":
                    options = options with { Calls = PositiveInt(args, ref i) };
                    break;
                case "--warmup":
                    options = options with { Warmup = PositiveInt(args, ref i, allowZero: true) };
                    break;
                case "--echoes":
                    options = options with { Echoes = PositiveInt(args, ref i) };
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
