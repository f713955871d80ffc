namespace Rpyc.Telemetry;

/// <summary>
/// Profiling of a whole, unmodified program, opt-in: when the environment variable
/// <see cref="ReportPathVariable"/> names a file and this assembly is loaded as a startup hook
/// (<c>DOTNET_STARTUP_HOOKS=/path/to/Rpyc.Profiling.dll</c>, as <c>rpycbench profile run</c> sets
/// both), every connection the process opens is attached to one telemetry, and the full report is
/// written to that file when the process exits. The protocol library itself reads no environment.
/// </summary>
internal static class ProcessProfiling
{
    public const string ReportPathVariable = "RPYC_PROFILE_REPORT";

    // Optional: the slow-call threshold in milliseconds (rpycbench profile run --slow-ms).
    public const string SlowMsVariable = "RPYC_PROFILE_SLOW_MS";

    // Optional: "1" keeps each call's whole stack (rpycbench profile run --stacks).
    public const string StacksVariable = "RPYC_PROFILE_STACKS";

    private static RpycTelemetry? s_telemetry;

    /// <summary>Turns process-wide profiling on when <see cref="ReportPathVariable"/> is set (once).</summary>
    public static void EnableFromEnvironment()
    {
        if (Volatile.Read(ref s_telemetry) is not null || Create() is not { } telemetry)
        {
            return;
        }
        if (Interlocked.CompareExchange(ref s_telemetry, telemetry, null) is null)
        {
            ConnectionHooks.Created = telemetry.Attach;
        }
    }

    private static RpycTelemetry? Create()
    {
        string? path = Environment.GetEnvironmentVariable(ReportPathVariable);
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }
        // Only this process writes the report: child processes it starts must not overwrite it.
        Environment.SetEnvironmentVariable(ReportPathVariable, null);
        string? slowMs = Environment.GetEnvironmentVariable(SlowMsVariable);
        // A whole-program profile says where each call was made; RPYC_PROFILE_STACKS=1 keeps the stacks too.
        bool stacks = Environment.GetEnvironmentVariable(StacksVariable) == "1";
        var options = new RpycTelemetryOptions { CaptureCallSites = true, CaptureStacks = stacks };
        if (double.TryParse(slowMs, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double ms) && ms >= 0 && ms < TimeSpan.MaxValue.TotalMilliseconds)
        {
            options = new RpycTelemetryOptions { SlowCallThreshold = TimeSpan.FromMilliseconds(ms), CaptureCallSites = true, CaptureStacks = stacks };
        }
        else if (!string.IsNullOrWhiteSpace(slowMs))
        {
            // A number out of range too: thrown from the startup hook, it would stop the program before its Main.
            RpycLog.Warn($"{SlowMsVariable}={slowMs} is not a number of milliseconds (0 or more): slow calls use the default 100 ms.");
        }
        var telemetry = new RpycTelemetry(options);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                File.WriteAllText(path, telemetry.FormatFullReport(includeTimeline: true));
            }
            // Thrown from ProcessExit, any of these would end a program that finished its work with a crash (exit 134).
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                RpycLog.Warn($"could not write the profile report to {path}: {ex.Message}");
            }
        };
        return telemetry;
    }
}
