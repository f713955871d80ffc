using System.Globalization;
using System.Reflection;

namespace Rpyc.Bench;

/// <summary>One swept parameter: its report key and the values the grid takes.</summary>
/// <param name="Name">The key, e.g. <c>num_concurrent_clients</c> or <c>payload_size</c>.</param>
/// <param name="Values">The values, in order.</param>
public sealed record SweepAxis(string Name, IReadOnlyList<int> Values)
{
    /// <summary>The concurrent benchmark's clients (<see cref="SuiteOptions.NumConcurrentClients"/>).</summary>
    public const string Clients = "num_concurrent_clients";

    /// <summary>The bandwidth benchmark's one payload size per point (<see cref="SuiteOptions.PayloadSizes"/>), in bytes.</summary>
    public const string PayloadSize = "payload_size";

    // The suite options of one value of this axis.
    internal SuiteOptions Apply(SuiteOptions options, int value) => Name switch
    {
        Clients => options with { NumConcurrentClients = value },
        PayloadSize => options with { PayloadSizes = [value] },
        _ => throw new ArgumentException($"Unknown sweep parameter '{Name}'; known: {Clients}, {PayloadSize}."),
    };
}

/// <summary>One point of a sweep: its parameter values and the full report of the suite run there.</summary>
/// <param name="Parameters">Swept parameter → value at this point.</param>
/// <param name="Report">The suite's report at this point (as the run command writes it).</param>
public sealed record SweepPoint(IReadOnlyDictionary<string, int> Parameters, BenchmarkReport Report);

/// <summary>What a sweep ran and where.</summary>
/// <param name="Description">The user's description of the sweep, or <c>null</c>.</param>
/// <param name="Grid">The swept parameters, in nesting order (the last varies fastest).</param>
/// <param name="ToolVersion">rpycbench's version.</param>
/// <param name="StartTime">When the sweep started.</param>
/// <param name="Seconds">Its wall time.</param>
/// <param name="Interrupted">Whether it stopped before the last point.</param>
/// <param name="Machine">This machine (<see cref="MachineInfo.ToDictionary"/>).</param>
/// <param name="RemoteMachine">The remote machine of a <c>--remote-host</c> sweep, or <c>null</c>.</param>
public sealed record SweepMetadata(
    string? Description,
    IReadOnlyList<SweepAxis> Grid,
    string ToolVersion,
    DateTimeOffset StartTime,
    double Seconds,
    bool Interrupted,
    IReadOnlyDictionary<string, object> Machine,
    IReadOnlyDictionary<string, object>? RemoteMachine);

/// <summary>A sweep's result: its metadata and every point's report, in grid order.</summary>
/// <param name="Metadata">What ran.</param>
/// <param name="Points">The points measured.</param>
public sealed record SweepReport(SweepMetadata Metadata, IReadOnlyList<SweepPoint> Points);

/// <summary>A progress step of a sweep.</summary>
/// <param name="Point">The point's index, from 0.</param>
/// <param name="Points">How many points the grid has.</param>
/// <param name="Parameters">The point's parameters.</param>
/// <param name="Suite">The suite's step within the point.</param>
public sealed record SweepProgress(int Point, int Points, IReadOnlyDictionary<string, int> Parameters, SuiteProgress Suite);

/// <summary>
/// Runs the suite at every point of a grid of parameters (clients × payload sizes): each point is a
/// full <see cref="BenchmarkSuite.RunAll"/> with those values, the rest of the options the same.
/// Servers started by the suite are started per point; endpoints elsewhere (a
/// <see cref="RemoteDeployment"/>) are kept across points. Distinct from <c>--network-sweep</c>,
/// which varies the network within one run.
/// </summary>
/// <example>
/// <code>
/// SweepReport sweep = ParameterSweep.Run(new SuiteOptions { Targets = ["rpyc_threaded", "tcp_raw"] },
///     [new SweepAxis(SweepAxis.Clients, [1, 8, 32])], "clients on my laptop");
/// File.WriteAllText("sweep.json", SweepJsonReporter.Render(sweep));
/// </code>
/// </example>
public static class ParameterSweep
{
    /// <summary>The grid's points in order: every combination of the axes' values, the last axis varying fastest.</summary>
    /// <param name="grid">The axes.</param>
    /// <returns>Each point's parameter values.</returns>
    public static IReadOnlyList<IReadOnlyDictionary<string, int>> Points(IReadOnlyList<SweepAxis> grid)
    {
        ArgumentNullException.ThrowIfNull(grid);
        IEnumerable<Dictionary<string, int>> points = [[]];
        foreach (SweepAxis axis in grid)
        {
            points = points.SelectMany(p => axis.Values.Select(v => new Dictionary<string, int>(p) { [axis.Name] = v })).ToArray();
        }
        return points.ToArray();
    }

    /// <summary>Runs the sweep.</summary>
    /// <param name="options">The options every point starts from.</param>
    /// <param name="grid">The swept parameters; an empty grid is one point.</param>
    /// <param name="description">A description of the sweep, or <c>null</c>.</param>
    /// <param name="progress">Receives each step, or <c>null</c>.</param>
    /// <param name="cancellationToken">Stops the sweep: the report then holds the points measured (the last one partial), marked interrupted.</param>
    /// <returns>The sweep's report.</returns>
    /// <exception cref="ArgumentException">An axis with no value, an unknown or repeated parameter.</exception>
    public static SweepReport Run(SuiteOptions options, IReadOnlyList<SweepAxis> grid, string? description = null,
        IProgress<SweepProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(grid);
        if (grid.FirstOrDefault(a => a.Values.Count == 0) is { } empty)
        {
            throw new ArgumentException($"Sweep parameter '{empty.Name}' has no value.", nameof(grid));
        }
        if (grid.GroupBy(a => a.Name).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new ArgumentException($"Sweep parameter '{twice.Key}' is given twice.", nameof(grid));
        }
        foreach (SweepAxis axis in grid)
        {
            axis.Apply(options, axis.Values[0]);
        }
        DateTimeOffset startTime = DateTimeOffset.Now;
        long start = Clock.Now;
        IReadOnlyList<IReadOnlyDictionary<string, int>> points = Points(grid);
        var results = new List<SweepPoint>(points.Count);
        for (int i = 0; i < points.Count && !cancellationToken.IsCancellationRequested; i++)
        {
            IReadOnlyDictionary<string, int> parameters = points[i];
            SuiteOptions point = grid.Aggregate(options, (o, axis) => axis.Apply(o, parameters[axis.Name]));
            int index = i;
            IProgress<SuiteProgress>? suiteProgress = progress is null ? null : new Relay(p => progress.Report(new SweepProgress(index, points.Count, parameters, p)));
            results.Add(new SweepPoint(parameters, BenchmarkSuite.RunAll(point, suiteProgress, cancellationToken)));
        }
        var metadata = new SweepMetadata(
            description,
            grid,
            typeof(ParameterSweep).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0",
            startTime,
            Clock.SecondsSince(start),
            cancellationToken.IsCancellationRequested,
            MachineInfo.Collect().ToDictionary(),
            options.RemoteMachine);
        return new SweepReport(metadata, results);
    }

    /// <summary>A point's parameters as text, e.g. <c>num_concurrent_clients=8, payload_size=1 KiB</c>.</summary>
    /// <param name="parameters">The parameters.</param>
    /// <returns>The text.</returns>
    public static string Describe(IReadOnlyDictionary<string, int> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        return string.Join(", ", parameters.Select(kv => $"{kv.Key}={FormatValue(kv.Key, kv.Value)}"));
    }

    /// <summary>A parameter's value as text: sizes with their unit.</summary>
    /// <param name="name">The parameter.</param>
    /// <param name="value">Its value.</param>
    /// <returns>The text.</returns>
    public static string FormatValue(string name, int value) =>
        name == SweepAxis.PayloadSize ? SummaryTables.SizeLabel(value) : value.ToString(CultureInfo.InvariantCulture);

    // Reports on the calling thread, in order.
    private sealed class Relay(Action<SuiteProgress> report) : IProgress<SuiteProgress>
    {
        public void Report(SuiteProgress value) => report(value);
    }
}
