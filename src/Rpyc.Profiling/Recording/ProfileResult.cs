namespace Rpyc.Telemetry;

/// <summary>What <see cref="RpycProfiler.RunScenario(string, int, Action{object}, RpycTelemetryOptions?, RpycConnectOptions?)"/> returns.</summary>
public sealed class ProfileResult
{
    internal ProfileResult(string report, RpycTelemetry telemetry, TelemetryStatistics statistics, TimeSpan elapsed, Exception? error)
    {
        Report = report;
        Telemetry = telemetry;
        Statistics = statistics;
        Elapsed = elapsed;
        Error = error;
    }

    /// <summary>The full text report, lines separated by <c>\n</c>.</summary>
    public string Report { get; }

    /// <summary>The telemetry, for other reports or the records themselves.</summary>
    public RpycTelemetry Telemetry { get; }

    /// <summary>The counters when the scenario ended.</summary>
    public TelemetryStatistics Statistics { get; }

    /// <summary>How long the scenario ran.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>What the scenario threw, or <c>null</c>.</summary>
    public Exception? Error { get; }

    /// <summary>Whether the scenario completed without throwing.</summary>
    public bool Succeeded => Error is null;

    /// <summary>The <see cref="Report"/>.</summary>
    public override string ToString() => Report;
}
