// Automatic benchmarking of an existing program: an RPyC client program (ExistingProgram.cs, which
// holds no benchmark or profiling code) is run unmodified, several times with its wall time, CPU
// and peak memory measured from outside (/proc), then once more with every RPyC connection it opens
// profiled through the environment (RPYC_PROFILE_REPORT and Rpyc.Profiling as a startup hook, what
// `rpycbench profile run -- COMMAND`
// sets): round trips, netrefs, call tree and advice, without a line changed in the program.
//
//   dotnet run --project examples/AutoBench -c Release [-- --runs 5] [--quick]
//
// Any .NET program that uses the Rpyc library can be measured the same way:
//   rpycbench profile run -- dotnet MyApp.dll
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Rpyc.Bench;

if (args.Length == 3 && args[0] == "existing")
{
    return Examples.AutoBench.ExistingProgram.Run(args[1], int.Parse(args[2], CultureInfo.InvariantCulture));
}

bool quick = args.Contains("--quick");
int runs = Array.IndexOf(args, "--runs") is int r and >= 0 && r + 1 < args.Length ? int.Parse(args[r + 1], CultureInfo.InvariantCulture) : quick ? 2 : 5;
if (runs < 1)
{
    Console.Error.WriteLine("--runs must be at least 1.");
    return 2;
}

// The server the program talks to (any RPyC server would do: a Python one too).
using ServerHost server = ServerHost.Start(TargetCatalog.RpycThreaded);
string dll = typeof(Examples.AutoBench.ExistingProgram).Assembly.Location;
string[] command = ["dotnet", "exec", dll, "existing", server.Target.Host, server.Target.Port.ToString(CultureInfo.InvariantCulture)];
Console.WriteLine($"Program: {string.Join(' ', command.Select(a => a == dll ? Path.GetFileName(a) : a))}");
Console.WriteLine($"Server:  rpyc_threaded at {server.Target.Host}:{server.Target.Port}");
Console.WriteLine();

var times = new List<double>();
var cpu = new List<double>();
var rss = new List<long>();
for (int i = 0; i < runs; i++)
{
    (double seconds, ResourceUsage usage, string output) = Run(command, profileReport: null);
    times.Add(seconds);
    cpu.Add(usage.CpuSeconds);
    rss.Add(usage.RssPeakBytes);
    if (i == 0)
    {
        Console.WriteLine("The program's own output (first run):");
        Console.Write(string.Concat(output.Split('\n').Where(l => l.Length > 0).Select(l => $"  | {l}\n")));
        Console.WriteLine();
    }
    Console.WriteLine($"run {i + 1}: {seconds * 1000,8:F1} ms wall, {usage.CpuSeconds * 1000,6:F0} ms CPU, peak RSS {usage.RssPeakBytes / 1048576.0:F1} MiB");
}
string reportPath = Path.Combine(Path.GetTempPath(), $"autobench-{Guid.NewGuid():N}.txt");
try
{
    (double profiledSeconds, _, _) = Run(command, reportPath);
    string report = File.Exists(reportPath) ? File.ReadAllText(reportPath) : "";
    Statistics wall = Statistics.FromSamples(times);
    Console.WriteLine();
    Console.WriteLine("BENCHMARK (unmodified program, measured from outside)");
    Console.WriteLine($"  runs             {runs}");
    Console.WriteLine($"  wall median      {wall.P50 * 1000:F1} ms (min {wall.Min * 1000:F1}, max {wall.Max * 1000:F1})");
    Console.WriteLine($"  CPU mean         {cpu.Average() * 1000:F0} ms");
    Console.WriteLine($"  peak RSS max     {rss.Max() / 1048576.0:F1} MiB");
    Console.WriteLine($"  profiled run     {profiledSeconds * 1000:F1} ms wall");
    Match trips = Regex.Match(report, @"Network Round Trips:\s+(\d+)");
    if (!trips.Success)
    {
        Console.WriteLine("The profiled run wrote no report.");
        return 1;
    }
    Console.WriteLine($"  RPyC round trips {trips.Groups[1].Value} (counted by the profiler)");
    Console.WriteLine();
    Console.WriteLine("PROFILE (the same program, profiled through RPYC_PROFILE_REPORT)");
    Console.Write(report);
    return 0;
}
finally
{
    File.Delete(reportPath);
}

// Runs the program to its end: wall time, its CPU and peak memory, its output. Fails on a non-zero exit.
static (double Seconds, ResourceUsage Usage, string Output) Run(string[] command, string? profileReport)
{
    var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (string arg in command.Skip(1))
    {
        start.ArgumentList.Add(arg);
    }
    start.Environment.Remove("RPYC_PROFILE_REPORT");
    if (profileReport is not null)
    {
        start.Environment["RPYC_PROFILE_REPORT"] = profileReport;
        // Process-wide profiling is opt-in and lives in Rpyc.Profiling, loaded into the program as a
        // .NET startup hook, as `rpycbench profile run` does.
        string hook = Path.Combine(AppContext.BaseDirectory, "Rpyc.Profiling.dll");
        string? hooks = Environment.GetEnvironmentVariable("DOTNET_STARTUP_HOOKS");
        start.Environment["DOTNET_STARTUP_HOOKS"] = string.IsNullOrEmpty(hooks) ? hook : hooks + Path.PathSeparator + hook;
    }
    long begin = Stopwatch.GetTimestamp();
    using Process process = Process.Start(start) ?? throw new InvalidOperationException($"{command[0]} did not start.");
    using var sampler = new ResourceSampler(process.Id, includeDescendants: true, TimeSpan.FromMilliseconds(10));
    Task<string> stderr = process.StandardError.ReadToEndAsync();
    string stdout = process.StandardOutput.ReadToEnd();
    if (!process.WaitForExit(120_000))
    {
        process.Kill(entireProcessTree: true);
        throw new TimeoutException("The program did not finish in 120 s.");
    }
    double seconds = Stopwatch.GetElapsedTime(begin).TotalSeconds;
    ResourceUsage usage = sampler.Stop();
    if (process.ExitCode != 0)
    {
        throw new InvalidOperationException($"The program exited with {process.ExitCode}: {stderr.Result}");
    }
    return (seconds, usage, stdout);
}
