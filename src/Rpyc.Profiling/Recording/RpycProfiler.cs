using System.Diagnostics;
using System.Globalization;
using Rpyc.Telemetry;

namespace Rpyc;

/// <summary>
/// Entry points of the profiler (the original rpycbench <c>create_profiled_connection</c> and
/// <c>profile_rpyc_calls</c>): a connection with telemetry attached from its first request, a
/// profiling scope that prints the summary when disposed, and a scripted scenario run that returns
/// the full report (what <c>rpycbench profile</c> prints).
/// </summary>
/// <example>
/// <code>
/// using var conn = RpycConnection.Connect("127.0.0.1", 18861);
/// using (var profiled = RpycProfiler.Profile(conn, slowCallThreshold: TimeSpan.FromMilliseconds(10)))
/// {
///     profiled.Root.ping();
///     foreach (object? item in profiled.Root.get_list()) { }
/// }   // prints the summary to Console.Out
/// </code>
/// </example>
public static class RpycProfiler
{
    /// <summary>Connects with an <see cref="RpycTelemetry"/> attached before the first request (so <c>getroot</c> is recorded too).</summary>
    /// <param name="host">Host name or address.</param>
    /// <param name="port">TCP port.</param>
    /// <param name="telemetry">The telemetry to record into.</param>
    /// <param name="options">Connection options, or <c>null</c> for the defaults.</param>
    /// <param name="service">The local service the peer may call back, or <c>null</c>.</param>
    /// <returns>The open connection; the telemetry stays attached until detached or the connection closes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="telemetry"/> is <c>null</c>.</exception>
    /// <exception cref="RpycConnectionException">The TCP connection could not be made.</exception>
    public static RpycConnection CreateProfiledConnection(string host, int port, RpycTelemetry telemetry, RpycConnectOptions? options = null, RpycService? service = null)
    {
        ArgumentNullException.ThrowIfNull(telemetry);
        RpycConnection connection = RpycConnection.Connect(host, port, options, service);
        telemetry.Attach(connection);
        return connection;
    }

    /// <summary>
    /// Profiles an open connection until the returned scope is disposed, with a new telemetry;
    /// disposing prints the summary and gives the connection back to the telemetry it had before.
    /// </summary>
    /// <param name="connection">The connection to profile.</param>
    /// <param name="slowCallThreshold">Slow-call threshold, or <c>null</c> for 100 ms.</param>
    /// <param name="deepStackThreshold">Deep-stack threshold, or <c>null</c> for 5.</param>
    /// <param name="output">Where the summary goes, or <c>null</c> for <see cref="Console.Out"/>.</param>
    /// <param name="printSummary">Whether disposing prints the summary.</param>
    /// <returns>The scope, with the telemetry and the connection's root.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="connection"/> is <c>null</c>.</exception>
    public static ProfilingScope Profile(RpycConnection connection, TimeSpan? slowCallThreshold = null, int? deepStackThreshold = null, TextWriter? output = null, bool printSummary = true)
    {
        var options = new RpycTelemetryOptions
        {
            SlowCallThreshold = slowCallThreshold ?? RpycTelemetryOptions.Default.SlowCallThreshold,
            DeepStackThreshold = deepStackThreshold ?? RpycTelemetryOptions.Default.DeepStackThreshold,
        };
        return Profile(connection, new RpycTelemetry(options), output, printSummary);
    }

    /// <summary>Profiles an open connection into a given telemetry until the returned scope is disposed.</summary>
    /// <param name="connection">The connection to profile.</param>
    /// <param name="telemetry">The telemetry to record into.</param>
    /// <param name="output">Where the summary goes, or <c>null</c> for <see cref="Console.Out"/>.</param>
    /// <param name="printSummary">Whether disposing prints the summary.</param>
    /// <returns>The scope.</returns>
    /// <exception cref="ArgumentNullException">An argument is <c>null</c>.</exception>
    public static ProfilingScope Profile(RpycConnection connection, RpycTelemetry telemetry, TextWriter? output = null, bool printSummary = true)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(telemetry);
        return new ProfilingScope(connection, telemetry, printSummary ? output ?? Console.Out : null);
    }

    /// <summary>
    /// Connects to any RPyC server, runs <paramref name="scenario"/> against its root with telemetry
    /// attached, and returns the full report (summary, call tree, timeline, netrefs, slow calls,
    /// sections, advice). A failing scenario still gets its report, with the failure in
    /// <see cref="ProfileResult.Error"/> and at the end of the text. This is what the
    /// <c>rpycbench profile</c> verb calls.
    /// </summary>
    /// <param name="host">Host name or address.</param>
    /// <param name="port">TCP port.</param>
    /// <param name="scenario">The code to profile, given the server's root (<c>dynamic</c>).</param>
    /// <param name="telemetryOptions">Telemetry settings, or <c>null</c> for the defaults.</param>
    /// <param name="connectOptions">Connection options (use <c>ProtocolVersion = V6</c> for rpyc 6 servers), or <c>null</c>.</param>
    /// <returns>The report and the telemetry behind it.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="scenario"/> is <c>null</c>.</exception>
    /// <exception cref="RpycConnectionException">The TCP connection could not be made.</exception>
    public static ProfileResult RunScenario(string host, int port, Action<dynamic> scenario, RpycTelemetryOptions? telemetryOptions = null, RpycConnectOptions? connectOptions = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var telemetry = new RpycTelemetry(telemetryOptions);
        using RpycConnection connection = CreateProfiledConnection(host, port, telemetry, connectOptions);
        return RunScenario(connection, telemetry, scenario, Rpyc.Transport.HostPort.Format(host, port));
    }

    /// <summary>Runs <paramref name="scenario"/> on an open connection with <paramref name="telemetry"/> attached, and reports (see the other overload).</summary>
    /// <param name="connection">The connection; the telemetry stays attached afterwards.</param>
    /// <param name="telemetry">The telemetry to record into.</param>
    /// <param name="scenario">The code to profile, given the peer's root.</param>
    /// <returns>The report and the telemetry behind it.</returns>
    /// <exception cref="ArgumentNullException">An argument is <c>null</c>.</exception>
    public static ProfileResult RunScenario(RpycConnection connection, RpycTelemetry telemetry, Action<dynamic> scenario)
    {
        ArgumentNullException.ThrowIfNull(connection);
        return RunScenario(connection, telemetry, scenario, connection.PeerName);
    }

    private static ProfileResult RunScenario(RpycConnection connection, RpycTelemetry telemetry, Action<dynamic> scenario, string target)
    {
        ArgumentNullException.ThrowIfNull(telemetry);
        ArgumentNullException.ThrowIfNull(scenario);
        if (!telemetry.IsAttached(connection))
        {
            telemetry.Attach(connection);
        }
        Exception? error = null;
        long start = Stopwatch.GetTimestamp();
        try
        {
            scenario(connection.Root);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            error = ex;
        }
        TimeSpan elapsed = Stopwatch.GetElapsedTime(start);
        TelemetryStatistics stats = telemetry.GetStatistics();
        string header = string.Create(CultureInfo.InvariantCulture,
            $"Profiled scenario against {target}: {TelemetryFormat.Duration(elapsed)}, {stats.RoundTrips} round trips, {stats.OneWayMessages} one-way messages, {stats.IncomingRequests} incoming requests\n");
        string report = header + telemetry.FormatFullReport(includeTimeline: true);
        if (error is not null)
        {
            report += $"SCENARIO FAILED: {error.GetType().Name}: {error.Message}\n";
        }
        return new ProfileResult(report, telemetry, stats, elapsed, error);
    }
}
