using System.Diagnostics;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;

namespace Rpyc.Figures;

/// <summary>Where the figures were taken.</summary>
internal sealed record MachineInfo(
    int ProcessorCount,
    string OSDescription,
    string FrameworkDescription,
    string ProcessArchitecture,
    string GcMode,
    bool RpycOptimized,
    string PythonVersion,
    string RpycPythonVersion,
    long StopwatchFrequency,
    DateTimeOffset TakenAt)
{
    public static MachineInfo Collect(string pythonVersion, string rpycPythonVersion) => new(
        Environment.ProcessorCount,
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        RuntimeInformation.ProcessArchitecture.ToString(),
        GCSettings.IsServerGC ? "server" : (GCSettings.LatencyMode == GCLatencyMode.Interactive ? "workstation, concurrent" : $"workstation, {GCSettings.LatencyMode}"),
        IsOptimized(typeof(RpycConnection).Assembly),
        pythonVersion,
        rpycPythonVersion,
        Stopwatch.Frequency,
        DateTimeOffset.UtcNow);

    // A Debug build of the library would make every figure meaningless: say so in the report.
    private static bool IsOptimized(Assembly assembly) =>
        assembly.GetCustomAttribute<DebuggableAttribute>() is not { IsJITOptimizerDisabled: true };
}
