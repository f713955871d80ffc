namespace Rpyc.Telemetry;

/// <summary>
/// A connection being profiled (<see cref="RpycProfiler.Profile(RpycConnection, TimeSpan?, int?, TextWriter?, bool)"/>):
/// disposing it stops recording, prints the summary and gives the connection back to the telemetry
/// it had before. The connection itself stays open.
/// </summary>
public sealed class ProfilingScope : IDisposable
{
    private readonly ConnectionObserver? _previous;
    private readonly TextWriter? _output;
    private int _disposed;

    internal ProfilingScope(RpycConnection connection, RpycTelemetry telemetry, TextWriter? output)
    {
        Connection = connection;
        Telemetry = telemetry;
        _output = output;
        // The instrumentation stands in only while nobody is attached: it is not given back.
        _previous = connection.Observer is InstrumentationObserver ? null : connection.Observer;
        telemetry.Attach(connection);
    }

    /// <summary>The profiled connection.</summary>
    public RpycConnection Connection { get; }

    /// <summary>What is being recorded.</summary>
    public RpycTelemetry Telemetry { get; }

    /// <summary>The peer's root object (<see cref="RpycConnection.Root"/>).</summary>
    public dynamic Root => Connection.Root;

    /// <summary>The peer's root object without <c>dynamic</c>.</summary>
    public Netref RootNetref => Connection.RootNetref;

    /// <summary>Opens a section of the profiled code (<see cref="RpycTelemetry.Section"/>).</summary>
    /// <param name="name">The section name.</param>
    /// <returns>The open section.</returns>
    public TelemetrySection Section(string name) => Telemetry.Section(name);

    /// <summary>Stops recording, restores the previous telemetry and prints the summary.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        Telemetry.Detach(Connection);
        // Detached, the connection reports the instrumentation while someone listens: that is no telemetry.
        if (_previous is not null && Connection.Observer is null or InstrumentationObserver)
        {
            Connection.Observer = _previous;
        }
        _output?.Write(Telemetry.FormatSummary());
    }
}
