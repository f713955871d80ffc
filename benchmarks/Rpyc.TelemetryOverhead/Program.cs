using System.Diagnostics;
using System.Globalization;
using Rpyc;
using Rpyc.TelemetryOverhead;

// Ping p50 with telemetry off (nothing attached), attached but disabled, and on (recording),
// against a .NET ThreadedServer in-process and the Python demo_server (rpyc 5.3).
//   dotnet run -c Release --project benchmarks/Rpyc.TelemetryOverhead [-- --calls 20000 --warmup 2000 --runs 3 --target all|dotnet|python]
var options = OverheadOptions.Parse(args);
Console.WriteLine($"Telemetry overhead: root.ping() round trips, {options.Calls} calls per run after {options.Warmup} warm-up calls, median of {options.Runs} runs' p50.");
Console.WriteLine($".NET {Environment.Version}, {Environment.ProcessorCount} cores, {RuntimeInformationText()}");
Console.WriteLine();

var results = new List<(string Target, OverheadRunner.Summary Summary)>();
if (options.Target is "all" or "dotnet")
{
    using var server = new ThreadedServer(() => new PingService(), new RpycServerOptions { Port = 0 });
    server.Start();
    results.Add((".NET ThreadedServer", OverheadRunner.Measure(server.Port, RpycConnectOptions.Default, options)));
}
if (options.Target is "all" or "python")
{
    using var python = PythonServer.Start();
    results.Add(($"Python rpyc {python.Version}", OverheadRunner.Measure(python.Port, python.Options, options)));
}

Console.WriteLine();
Console.WriteLine("| Server | Telemetry off p50 | Attached, disabled p50 | Telemetry on p50 | Overhead on (paired, median of runs) | Overhead disabled (paired) | Process CPU per call, on - off |");
Console.WriteLine("| --- | --- | --- | --- | --- | --- | --- |");
foreach ((string target, OverheadRunner.Summary s) in results)
{
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {target} | {s.Off:F2} us | {s.Disabled:F2} us | {s.On:F2} us | {s.OnMinusOff:+0.00;-0.00} us ({100 * s.OnMinusOff / s.Off:+0.0;-0.0} %) | {s.DisabledMinusOff:+0.00;-0.00} us ({100 * s.DisabledMinusOff / s.Off:+0.0;-0.0} %) | {s.CpuOnMinusOff:+0.00;-0.00} us |"));
}
return 0;

static string RuntimeInformationText() => System.Runtime.InteropServices.RuntimeInformation.OSDescription;
