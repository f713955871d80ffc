namespace Rpyc.Telemetry;

/// <summary>
/// Profiling of a whole, unmodified program: when the environment variable
/// <see cref="ReportPathVariable"/> names a file (as <c>rpycbench profile -- COMMAND</c> sets it),
/// every connection the process opens is attached to one telemetry, and the full report is written
/// to that file when the process exits.
/// </summary>
internal static class ProcessProfiling
{
    public const string ReportPathVariable = "RPYC_PROFILE_REPORT";

    private static readonly Lazy<RpycTelemetry?> s_telemetry = new(Create);

    // Called by every connection's constructor: one cached read when profiling is off.
    public static void OnConnectionCreated(RpycConnection connection) => s_telemetry.Value?.Attach(connection);

    private static RpycTelemetry? Create()
    {
        string? path = Environment.GetEnvironmentVariable(ReportPathVariable);
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }
        // Only this process writes the report: child processes it starts must not overwrite it.
        Environment.SetEnvironmentVariable(ReportPathVariable, null);
        var telemetry = new RpycTelemetry();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                File.WriteAllText(path, telemetry.FormatFullReport(includeTimeline: true));
            }
            catch (IOException ex)
            {
                RpycLog.Warn($"could not write the profile report to {path}: {ex.Message}");
            }
        };
        return telemetry;
    }
}
