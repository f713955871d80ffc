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
    DateTimeOffset TakenAt,
    double LoadAverageAtStart)
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
        DateTimeOffset.UtcNow,
        LoadAverage());

    /// <summary>
    /// The 1-minute load average (/proc/loadavg), NaN where there is none. Other work on the machine skews every
    /// figure; a value near or above the CPU count before the command starts means the figures are not trustworthy.
    /// </summary>
    public static double LoadAverage()
    {
        try
        {
            string text = File.ReadAllText("/proc/loadavg");
            int end = text.IndexOf(' ', StringComparison.Ordinal);
            return double.TryParse(end > 0 ? text[..end] : text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double load) ? load : double.NaN;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return double.NaN;
        }
    }

    // A Debug build of the library would make every figure meaningless: say so in the report.
    private static bool IsOptimized(Assembly assembly) =>
        assembly.GetCustomAttribute<DebuggableAttribute>() is not { IsJITOptimizerDisabled: true };
}
