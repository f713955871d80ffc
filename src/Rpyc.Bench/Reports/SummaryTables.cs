using System.Globalization;
using System.Text;

namespace Rpyc.Bench;

/// <summary>One summary table: a benchmark kind with the targets side by side (columns).</summary>
/// <param name="Title">The table's title.</param>
/// <param name="Columns">The header: the metric column, then one per target.</param>
/// <param name="Rows">Each row: the metric with its unit, then one cell per target.</param>
public sealed record SummaryTable(string Title, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows);

/// <summary>
/// Builds the console summary of a report: one table per benchmark kind, targets side by side,
/// every unit explicit. Pure; cells are formatted with the invariant culture. The CLI renders
/// them with Spectre.Console, <see cref="TextReporter"/> as plain text.
/// </summary>
public static class SummaryTables
{
    private const string Missing = "-";

    /// <summary>Builds the tables.</summary>
    /// <param name="report">The report.</param>
    /// <returns>Status, connection, latency, upload, download, concurrent and resource tables.</returns>
    public static IReadOnlyList<SummaryTable> Build(BenchmarkReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        IReadOnlyList<TargetReport> t = report.Targets;
        var tables = new List<SummaryTable>
        {
            Table("Targets", t,
                Row("status", t, r => r.Status.ToString().ToLowerInvariant()),
                Row("server", t, r => r.Implementation ?? Missing),
                Row("endpoint", t, r => r.Remote ? $"remote {r.Endpoint}" : "loopback"),
                Row("runs", t, r => r.RunCount.ToString(CultureInfo.InvariantCulture)),
                Row("other programs' CPU (cores)", t, r => F(r.NoiseCores, 2)),
                Row("runs begun with a CPU slow", t, r => SlowCpuRunsText(report.Metadata.SpeedProbes, r.Name)),
                Row("duration (s)", t, r => F(r.Seconds, 1))),
            Table("Connection time: new TCP connection to first valid reply", t,
                Row("mean (ms)", t, r => Ms(r.Connection?.ConnectionTime, "mean")),
                Row("p50 (ms)", t, r => Ms(r.Connection?.ConnectionTime, "p50")),
                Row("p95 (ms)", t, r => Ms(r.Connection?.ConnectionTime.P95)),
                Row("p99 (ms)", t, r => Ms(r.Connection?.ConnectionTime, "p99")),
                Row("TCP connect mean (ms)", t, r => Ms(r.Connection?.TcpConnect.Mean)),
                Row("round trips", t, r => F(r.Connection?.RoundTripsPerConnection, 1)),
                Row("ok / failed", t, r => r.Connection is { } c ? $"{c.Successes} / {c.Failures}" : Missing)),
            Table("Latency: one request at a time on a warm connection (ping)", t,
                Row("mean (µs)", t, r => Us(r.Latency?.Latency, "mean")),
                Row("p50 (µs)", t, r => Us(r.Latency?.Latency, "p50")),
                Row("p90 (µs)", t, r => Us(r.Latency?.Latency, "p90")),
                Row("p95 (µs)", t, r => Us(r.Latency?.Latency.P95)),
                Row("p99 (µs)", t, r => Us(r.Latency?.Latency, "p99")),
                Row("p99.9 (µs)", t, r => Us(r.Latency?.Latency.P999)),
                Row("stdev (µs)", t, r => Us(r.Latency?.Latency.StdDev)),
                Row("throughput (req/s)", t, r => r.Latency is { } l ? Rate(l.Successes, l.Failures, F(l.Throughput, 0)) : Missing),
                Row("round trips / request", t, r => F(r.Latency?.RoundTripsPerRequest, 2)),
                Row("client CPU / request (µs)", t, r => Us(r.Latency?.CpuPerRequest?.Client, r.Latency?.CpuPerRequest?.ClientCi95)),
                Row("server CPU / request (µs)", t, r => Us(r.Latency?.CpuPerRequest?.Server, r.Latency?.CpuPerRequest?.ServerCi95)),
                Row("ok / failed", t, r => r.Latency is { } l ? $"{l.Successes} / {l.Failures}" : Missing)),
        };
        if (t.Any(r => r.Latency?.Floor is not null))
        {
            tables.Add(Table("Ping beside the tcp_raw floor, in alternating blocks of the same time slices", t,
                Row("p50, ours (µs)", t, r => Us(r.Latency?.Floor?.Subject, "p50")),
                Row("p50, floor (µs)", t, r => Us(r.Latency?.Floor?.Reference, "p50")),
                Row("ours ÷ floor (x)", t, r => r.Latency?.Floor is { } p ? WithInterval(p.Ratio, p.RatioCi95?.HalfWidth, 2) : Missing),
                Row("requests, each side", t, r => r.Latency?.Floor is { } p ? p.Subject.Count.ToString(CultureInfo.InvariantCulture) : Missing)));
        }
        tables.Add(BandwidthTable("Upload bandwidth per payload size (MiB/s)", t, r => r.Bandwidth?.Upload));
        tables.Add(BandwidthTable("Download bandwidth per payload size (MiB/s)", t, r => r.Bandwidth?.Download));
        int clients = t.Select(r => r.Concurrent?.Clients ?? 0).FirstOrDefault(c => c > 0);
        int perClient = t.Select(r => r.Concurrent?.RequestsPerClient ?? 0).FirstOrDefault(c => c > 0);
        tables.Add(Table($"Concurrent: {clients} clients × {perClient} requests, start barrier", t,
            Row("throughput (req/s)", t, r => r.Concurrent is { } c ? Rate(c.Successes, c.Failures, WithInterval(c.Throughput, c.ThroughputCi95?.HalfWidth, 0)) : Missing),
            Row("latency mean (µs)", t, r => Us(r.Concurrent?.Latency, "mean")),
            Row("latency p50 (µs)", t, r => Us(r.Concurrent?.Latency, "p50")),
            Row("latency p95 (µs)", t, r => Us(r.Concurrent?.Latency.P95)),
            Row("latency p99 (µs)", t, r => Us(r.Concurrent?.Latency, "p99")),
            Row("success rate (%)", t, r => F(r.Concurrent is { } c ? c.SuccessRate * 100 : null, 1)),
            Row("slowest client (req/s)", t, r => r.Concurrent is { Successes: > 0, PerClient.Count: > 0 } c ? F(c.PerClient.Min(x => x.Throughput), 0) : Missing),
            Row("sustained, ours (req/s)", t, r => F(r.Wrk?.RpycbenchRequestsPerSecond, 0)),
            Row("sustained, wrk (req/s)", t, r => F(r.Wrk?.RequestsPerSecond, 0)),
            Row("ours / wrk", t, r => F(r.Wrk?.Ratio, 2))));
        if (t.Any(r => r.Concurrent?.Floor is not null))
        {
            tables.Add(Table($"Concurrent: {clients} clients beside the floor's, alternating slices", t,
                Row("ours (req/s)", t, r => F(r.Concurrent?.Floor?.Subject, 0)),
                Row("floor (req/s)", t, r => F(r.Concurrent?.Floor?.Reference, 0)),
                Row("ours ÷ floor (x)", t, r => r.Concurrent?.Floor is { } p ? WithInterval(p.Ratio, p.RatioCi95?.HalfWidth, 2) : Missing),
                Row("slices, each side", t, r => r.Concurrent?.Floor is { } p ? p.Slices.ToString(CultureInfo.InvariantCulture) : Missing)));
        }
        if (t.Any(r => r.Scenarios is { Count: > 0 }))
        {
            tables.Add(ScenarioTable(report, t));
        }
        if (t.Any(r => r.Distributed is not null))
        {
            tables.Add(Table("Distributed load (Locust master and workers; the clients are Python users)", t,
                Row("operation", t, r => r.Distributed is { } d ? (d.Operation == "echo" ? $"echo {SizeLabel(d.PayloadBytes)}" : d.Operation) : Missing),
                Row("workers / users", t, r => r.Distributed is { } d ? $"{d.Workers} / {d.Users}" : Missing),
                Row("throughput (req/s)", t, r => F(r.Distributed?.Throughput, 0)),
                Row("requests / failed", t, r => r.Distributed is { } d ? $"{d.Requests} / {d.Failures}" : Missing),
                Row("replies validated", t, r => r.Distributed is { } d ? d.Validated.ToString(CultureInfo.InvariantCulture) : Missing),
                Row("latency p50 (µs)", t, r => Us(r.Distributed?.Latency, "p50")),
                Row("latency p99 (µs)", t, r => Us(r.Distributed?.Latency, "p99")),
                Row("slowest worker (req/s)", t, r => F(r.Distributed?.PerWorker.Select(w => w.Throughput).DefaultIfEmpty().Min(), 0))));
        }
        tables.AddRange(BinaryTransferTables.Build(t));
        tables.Add(Table("Resources during the benchmarks", t,
            Row("server CPU (s)", t, r => F(r.ServerResources?.CpuSeconds, 2)),
            Row("server CPU mean (% of a core)", t, r => F(r.ServerResources?.CpuPercentMean, 0)),
            Row("server RSS peak (MiB)", t, r => Mib(r.ServerResources?.RssPeakBytes)),
            Row("server RSS mean (MiB)", t, r => Mib(r.ServerResources?.RssMeanBytes)),
            Row("client CPU mean (% of a core)", t, r => F(r.ClientResources?.CpuPercentMean, 0)),
            Row("client RSS peak (MiB)", t, r => Mib(r.ClientResources?.RssPeakBytes))));
        // A table no target has a figure in (a Locust-only report has no latency table, a run of
        // external endpoints no resources) says nothing: leave it out. The Targets table stays.
        List<SummaryTable> shown = tables.Where((table, i) => i == 0 || table.Rows.Any(row => row.Skip(1).Any(cell => cell != Missing))).ToList();
        if (report.Sweep is { } sweep)
        {
            shown.AddRange(NetworkSweepTables.Build(sweep));
        }
        return shown;
    }

    // One row per scenario variant: p50 time per operation and the round trips it made; through a
    // network profile, also the model's prediction.
    private static SummaryTable ScenarioTable(BenchmarkReport report, IReadOnlyList<TargetReport> t)
    {
        bool predicted = t.Any(r => r.Scenarios?.Any(x => x.PredictedSeconds is not null) == true);
        string[] keys = DecisionScenario.All.Select(v => v.Key).Distinct().Where(k => t.Any(r => r.Scenarios?.Any(x => x.Key == k) == true)).ToArray();
        var rows = keys.Select(key => Row(key, t, r =>
        {
            ScenarioResult? x = r.Scenarios?.FirstOrDefault(s => s.Key == key);
            if (x is null)
            {
                return Missing;
            }
            if (x.Successes == 0)
            {
                return x.Failures > 0 ? "failed" : Missing;
            }
            string prediction = x.PredictedSeconds is double p
                ? $" (model {ScenarioTime(p)}{(x.BeyondModel ? $", {F(x.ModelRatio, 1)}x !" : "")})"
                : "";
            return $"{ScenarioTime(x.Latency.P50)} ×{F(x.RoundTripsPerOp, 0)}{prediction}";
        })).ToArray();
        string network = report.Metadata.Network is { Profile.IsLoopback: false } n ? $", network {n.Profile.Spec}" : ", loopback";
        return Table($"Decision scenarios: p50 per operation × round trips{(predicted ? " (model: loopback + round trips × RTT + bytes / rate)" : "")}{network}", t, rows);
    }

    // A scenario's time, measured or modelled, by one rule: the model beside a measurement of tens
    // of microseconds (a short RTT) was "0.0 ms" in milliseconds of one decimal.
    private static string ScenarioTime(double seconds) =>
        seconds >= 0.01 ? $"{F(seconds * 1e3, 1)} ms" : $"{F(seconds * 1e6, 0)} µs";

    /// <summary>
    /// What a reader must know to trust the tables: a machine that was busy during a target,
    /// a warmup that did not settle, a figure better than the raw TCP floor beyond noise, remote
    /// targets beside loopback ones.
    /// </summary>
    /// <param name="report">The report.</param>
    /// <returns>One sentence per note.</returns>
    public static IReadOnlyList<string> Notes(BenchmarkReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var notes = new List<string>();
        foreach (TargetReport t in report.Targets)
        {
            if (t.NoiseCores is double noise && noise > MachineNoise.BusyCores)
            {
                notes.Add($"{t.Name}: other programs used {F(noise, 2)} cores while it was measured: its figures carry their noise.");
            }
            if (t.Latency?.ConnectionsPerRequest is double opened && opened >= 0.5)
            {
                notes.Add($"{t.Name}: the server closed the connection after {(opened >= 0.99 ? "every" : "most")} reply (no HTTP keep-alive), so the client opened {F(opened, 2)} new TCP connections per ping: its latency is a connect plus a request, not a warm connection's.");
            }
            if (t.Latency is { WarmupSettled: false })
            {
                notes.Add($"{t.Name}: the JIT was still busy when the latency warmup's bound ran out.");
            }
            foreach (ScenarioResult x in t.Scenarios?.Where(x => x.BeyondModel) ?? [])
            {
                notes.Add($"{t.Name} {x.Key}: measured {F(x.Latency.P50 * 1e3, 2)} ms is {F(x.ModelRatio, 1)}x the model's {F(x.PredictedSeconds * 1e3, 2)} ms (flagged past {F(NetworkModel.DeviationFactor, 0)}x either way): more than round trips and bytes is at play (Nagle and delayed ACKs, a connection per request, a busy machine).");
            }
            string[] beats = FloorComparison.Of(report, t).Where(f => f.BeatsFloor).Select(f => $"{f.Figure} {F(f.Ratio, 2)}x").ToArray();
            if (beats.Length > 0)
            {
                notes.Add($"{t.Name} did better than the tcp_raw floor beyond noise on {string.Join(", ", beats)}: the floor is meant to be the fastest path, so read these as placement or noise, not as faster than TCP.");
            }
        }
        if (SpeedSpread(report.Metadata.SpeedProbes) is double spread && spread > SpeedSpreadNoted)
        {
            IReadOnlyList<double> runs = SpeedByRun(report.Metadata.SpeedProbes);
            notes.Add($"the machine's own speed changed between runs: the same fixed work took {string.Join(", ", runs.Select(r => F(r, 0)))} µs of CPU in runs 1-{runs.Count} (median of each run's probes; metadata.machine_speed), {F((spread - 1) * 100, 0)} % apart: differences between these runs' figures are partly the machine's, not the targets'.");
        }
        if (SpeedSpread(report.Metadata.SpeedProbes, SpeedPart.Loopback) is double loopSpread && loopSpread > SpeedSpreadNoted)
        {
            IReadOnlyList<double> runs = SpeedByRun(report.Metadata.SpeedProbes, SpeedPart.Loopback);
            notes.Add($"the machine's loopback round trip changed between runs: {string.Join(", ", runs.Select(r => F(r, 1)))} µs in runs 1-{runs.Count} between two threads of the client (median of each run's probes; metadata.machine_speed.loopback), {F((loopSpread - 1) * 100, 0)} % apart: differences between these runs' latency figures are partly the machine's (the host's, or other programs': see the noise), not the targets'.");
        }
        if (SpeedSpread(report.Metadata.SpeedProbes, SpeedPart.Transfer) is double transferSpread && transferSpread > SpeedSpreadNoted)
        {
            IReadOnlyList<double> runs = SpeedByRun(report.Metadata.SpeedProbes, SpeedPart.Transfer);
            notes.Add($"the machine's system calls changed cost between runs: sending and receiving a byte over loopback TCP took {string.Join(", ", runs.Select(r => F(r, 2)))} µs of CPU in runs 1-{runs.Count} (median of each run's probes; metadata.machine_speed.transfer), {F((transferSpread - 1) * 100, 0)} % apart: differences between these runs' figures and CPU per request are partly the machine's, not the targets'.");
        }
        IReadOnlyList<double?> byCpu = TransferByCpu(report.Metadata.SpeedProbes);
        if (byCpu.OfType<double>().ToArray() is { Length: > 1 } cpus && cpus.Max() / cpus.Min() > CpusApartNoted)
        {
            notes.Add($"the CPUs ran at different speeds: sending and receiving a byte over loopback TCP took {string.Join(", ", byCpu.Select((v, i) => v is double d ? $"{F(d, 2)} µs of CPU on CPU {i}" : $"nothing measured on CPU {i}"))} (medians of the probes; metadata.machine_speed.transfer.by_cpu_median_seconds), so a figure depends on the CPUs its threads ran on (--pin, metadata.placement); the Targets table names each target's runs that began with a CPU {F((CpusApartNoted - 1) * 100, 0)} % dearer than the cheapest.");
        }
        if (report.Sweep is { } sweep)
        {
            notes.AddRange(NetworkSweepTables.Notes(sweep));
        }
        if (report.Targets.Any(t => t.Remote) && report.Targets.Any(t => !t.Remote))
        {
            notes.Add("remote targets' figures include a network, loopback targets' do not; compare like with like (--tcp-host measures the floor on the remote host).");
        }
        return notes;
    }

    private static SummaryTable BandwidthTable(string title, IReadOnlyList<TargetReport> t, Func<TargetReport, IReadOnlyList<BandwidthSizeResult>?> select)
    {
        int[] sizes = t.SelectMany(r => select(r) ?? []).Select(s => s.SizeBytes).Distinct().Order().ToArray();
        var rows = sizes.Select(size => Row(SizeLabel(size), t, r =>
        {
            BandwidthSizeResult? s = select(r)?.FirstOrDefault(x => x.SizeBytes == size);
            return s is null || s.Transfers == 0 ? (s is { Failures: > 0 } ? "failed" : Missing)
                : WithInterval(s.BytesPerSecond / (1024 * 1024), s.BytesPerSecondCi95?.HalfWidth / (1024 * 1024), s.BytesPerSecond < 10 * 1024 * 1024 ? 2 : 1);
        })).ToArray();
        return Table(title, t, rows);
    }

    /// <summary>
    /// Splits a table whose targets would not fit <paramref name="width"/> columns into several tables,
    /// each with the metric column and as many whole target columns as fit (at least one), so that no
    /// target name or number is cut or wrapped. A text cell too wide for two targets side by side (a
    /// server's description) is word-wrapped onto lines of its own, separated by <c>'\n'</c>.
    /// </summary>
    /// <param name="table">The table.</param>
    /// <param name="width">The width to fit, in characters.</param>
    /// <param name="columnOverhead">Characters each column takes beyond its text (padding and border).</param>
    /// <returns>The table itself when it fits, otherwise its parts in target order.</returns>
    public static IReadOnlyList<SummaryTable> FitWidth(SummaryTable table, int width, int columnOverhead)
    {
        ArgumentNullException.ThrowIfNull(table);
        int first = CellWidth(table, 0) + columnOverhead + 1;
        // The Python peers' server descriptions are 60-odd characters: unwrapped, each took a table
        // of its own, 97 columns wide in a log.
        table = WrapLongCells(table, Math.Max(20, ((width - first) / 2) - columnOverhead));
        int Width(int column) => CellWidth(table, column) + columnOverhead;
        var parts = new List<List<int>>();
        int used = int.MaxValue;
        for (int c = 1; c < table.Columns.Count; c++)
        {
            int w = Width(c);
            if (parts.Count == 0 || used + w > width)
            {
                parts.Add([]);
                used = first;
            }
            parts[^1].Add(c);
            used += w;
        }
        if (parts.Count <= 1)
        {
            return [table];
        }
        return parts.Select((columns, i) => new SummaryTable(
            i == 0 ? table.Title : $"{table.Title} (continued)",
            [table.Columns[0], .. columns.Select(c => table.Columns[c])],
            table.Rows.Select(r => (IReadOnlyList<string>)[r[0], .. columns.Select(c => r[c])]).ToArray())).ToArray();
    }

    /// <summary>Each run's median <see cref="MachineSpeed"/> probe, in microseconds, in run order.</summary>
    /// <param name="probes">The probes of a report.</param>
    /// <param name="part">Which figure of the probes.</param>
    /// <returns>One median per run that has that figure.</returns>
    public static IReadOnlyList<double> SpeedByRun(IReadOnlyList<SpeedProbe> probes, SpeedPart part = SpeedPart.Cpu)
    {
        ArgumentNullException.ThrowIfNull(probes);
        return [.. probes.Where(p => p.Of(part) is not null).GroupBy(p => p.Run).OrderBy(g => g.Key).Select(g => ConfidenceInterval.Median(g.Select(p => p.Of(part)!.Value)))];
    }

    /// <summary>
    /// How much slower the machine was in its slowest run than in its fastest: the ratio of the runs'
    /// median probes (<see cref="SpeedByRun"/>), or <c>null</c> with fewer than two runs. Medians,
    /// because one probe can land in a moment when the host took the vCPU away (a VM counts that as
    /// the thread's CPU time): one of fifteen probes here read 2,101 µs among 723-890.
    /// </summary>
    /// <param name="probes">The probes of a report.</param>
    /// <param name="part">Which figure of the probes.</param>
    /// <returns>The ratio, 1 or more.</returns>
    public static double? SpeedSpread(IReadOnlyList<SpeedProbe> probes, SpeedPart part = SpeedPart.Cpu)
    {
        IReadOnlyList<double> runs = SpeedByRun(probes, part);
        return runs.Count < 2 || runs.Min() is not (> 0 and var fastest) ? null : runs.Max() / fastest;
    }

    // Beyond this, the summary says the machine changed speed: the probe itself varies by a few percent.
    private const double SpeedSpreadNoted = 1.15;

    // Beyond this, the summary says the CPUs differed (the vCPUs of the reference VM: up to 1.45).
    private const double CpusApartNoted = 1.25;

    /// <summary>The median over a report's probes of each CPU's loopback transfer cost (<see cref="MachineSpeed.TransferByCpu"/>), in CPU order.</summary>
    /// <param name="probes">The probes of a report.</param>
    /// <returns>One median per CPU (<c>null</c> where no probe measured it); empty without per-CPU figures.</returns>
    public static IReadOnlyList<double?> TransferByCpu(IReadOnlyList<SpeedProbe> probes)
    {
        ArgumentNullException.ThrowIfNull(probes);
        int cpus = probes.Max(p => p.TransferByCpuMicroseconds?.Count) ?? 0;
        return [.. Enumerable.Range(0, cpus).Select(c => probes.Select(p => p.TransferByCpuMicroseconds is { } b && c < b.Count ? b[c] : null).OfType<double>().ToArray() is { Length: > 0 } v
            ? ConfidenceInterval.Median(v) : (double?)null)];
    }

    /// <summary>
    /// The runs of <paramref name="target"/> whose probe, taken just before the run measured it, found
    /// a CPU slow: sending and receiving a byte cost it more than <see cref="CpusApartNoted"/> times
    /// the cheapest any CPU showed in the report. The reference VM's vCPUs ran at one of two speeds
    /// (4.6-5.2 or 6.1-7.4 µs, switching within seconds), and a run begun on the slower one made
    /// most of the run-to-run differences of the targets it measured (py_rpyc_threaded's 10 KiB
    /// upload: 160 and 149 MiB/s in two such runs, 208 in its third, 202-212 in the next suite's
    /// three runs at full speed).
    /// </summary>
    /// <param name="probes">The probes of a report.</param>
    /// <param name="target">The target's name.</param>
    /// <returns>
    /// The runs, from 1, in order (empty when none was); <c>null</c> when the report has no per-CPU
    /// figure for the target (an older report, off Linux), which says nothing either way.
    /// </returns>
    public static IReadOnlyList<int>? SlowCpuRuns(IReadOnlyList<SpeedProbe> probes, string target)
    {
        ArgumentNullException.ThrowIfNull(probes);
        if (!probes.Any(p => p.Target == target && p.TransferByCpuMicroseconds is { Count: > 0 }))
        {
            return null;
        }
        double[] all = [.. probes.SelectMany(p => p.TransferByCpuMicroseconds ?? []).OfType<double>().Where(v => v > 0)];
        if (all.Length == 0)
        {
            return [];
        }
        double slow = all.Min() * CpusApartNoted;
        return [.. probes.Where(p => p.Target == target && p.TransferByCpuMicroseconds is { } b && b.OfType<double>().Any(v => v > slow))
            .Select(p => p.Run).Distinct().Order()];
    }

    // "none", or the runs; "-" when the report has no per-CPU probes (older reports, off Linux).
    private static string SlowCpuRunsText(IReadOnlyList<SpeedProbe> probes, string target) => SlowCpuRuns(probes, target) switch
    {
        null => Missing,
        { Count: > 0 } runs => string.Join(", ", runs),
        _ => "none",
    };

    /// <summary>The widest line of a column, header included (a wrapped cell's lines are separated by <c>'\n'</c>).</summary>
    /// <param name="table">The table.</param>
    /// <param name="column">The column's index.</param>
    /// <returns>The width in characters.</returns>
    public static int CellWidth(SummaryTable table, int column)
    {
        ArgumentNullException.ThrowIfNull(table);
        return table.Rows.Select(r => r[column]).Append(table.Columns[column]).SelectMany(c => c.Split('\n')).Max(l => l.Length);
    }

    private static SummaryTable WrapLongCells(SummaryTable table, int maxWidth) =>
        table.Rows.Any(r => r.Skip(1).Any(c => c.Length > maxWidth))
            ? table with { Rows = table.Rows.Select(r => (IReadOnlyList<string>)r.Select((c, i) => i > 0 && c.Length > maxWidth ? WordWrap(c, maxWidth) : c).ToArray()).ToArray() }
            : table;

    // Greedy, at spaces; a word longer than the width keeps a line of its own, whole.
    private static string WordWrap(string text, int width)
    {
        var lines = new List<string>();
        var line = new StringBuilder();
        foreach (string word in text.Split(' '))
        {
            if (line.Length > 0 && line.Length + 1 + word.Length > width)
            {
                lines.Add(line.ToString());
                line.Clear();
            }
            line.Append(line.Length > 0 ? " " : "").Append(word);
        }
        lines.Add(line.ToString());
        return string.Join('\n', lines);
    }

    /// <summary>A size as <c>1 KiB</c>, <c>10 KiB</c>, <c>1 MiB</c>, or bytes.</summary>
    /// <param name="bytes">The size.</param>
    /// <returns>The label.</returns>
    public static string SizeLabel(long bytes) => bytes switch
    {
        >= 1024 * 1024 when bytes % (1024 * 1024) == 0 => $"{bytes / (1024 * 1024)} MiB",
        >= 1024 when bytes % 1024 == 0 => $"{bytes / 1024} KiB",
        _ => $"{bytes} B",
    };

    private static SummaryTable Table(string title, IReadOnlyList<TargetReport> targets, params IReadOnlyList<string>[] rows) =>
        new(title, ["metric", .. targets.Select(r => r.Name)], rows);

    private static string[] Row(string label, IReadOnlyList<TargetReport> targets, Func<TargetReport, string> cell) =>
        [label, .. targets.Select(cell)];

    private static string F(double? value, int decimals) =>
        value is double d && double.IsFinite(d) ? d.ToString("N" + decimals.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture) : Missing;

    private static string Ms(double? seconds) => F(seconds * 1e3, 3);

    private static string Us(double? seconds) => F(seconds * 1e6, 1);

    // A figure over runs without statistics of its own: "median ± half-width of the 95 % interval".
    private static string Us(double? seconds, Interval? ci95) => seconds is double s ? WithInterval(s * 1e6, ci95?.HalfWidth * 1e6, 1) : Missing;

    // A figure of statistics that may combine runs: "median ± half-width of the 95 % interval".
    private static string Ms(Statistics? stats, string figure) => stats is null ? Missing : WithInterval(stats.Figure(figure) * 1e3, HalfWidth(stats, figure) * 1e3, 3);

    private static string Us(Statistics? stats, string figure) => stats is null ? Missing : WithInterval(stats.Figure(figure) * 1e6, HalfWidth(stats, figure) * 1e6, 1);

    private static double? HalfWidth(Statistics stats, string figure) =>
        stats.Ci95 is { } ci && ci.TryGetValue(figure, out Interval interval) ? interval.HalfWidth : null;

    private static string WithInterval(double value, double? halfWidth, int decimals) =>
        halfWidth is double h && double.IsFinite(h) && double.IsFinite(value) ? $"{F(value, decimals)} ± {F(h, decimals)}" : F(value, decimals);

    private static string Mib(double? bytes) => F(bytes / (1024 * 1024), 1);

    // A phase in which every request failed has no rate (RunCombiner keeps such runs out of the
    // median too): "failed", as a bandwidth size's cell, not a measured-looking 0 req/s.
    private static string Rate(long successes, long failures, string measured) =>
        successes > 0 ? measured : failures > 0 ? "failed" : Missing;
}

/// <summary>Renders the summary tables as plain text (fixed-width columns, at most 80 wide), a pure function of the report.</summary>
public static class TextReporter
{
    /// <summary>The widest line, in characters: targets that do not fit go to a continued table.</summary>
    public const int Width = 80;

    /// <summary>Renders the report.</summary>
    /// <param name="report">The report.</param>
    /// <returns>The tables, separated by blank lines.</returns>
    public static string Render(BenchmarkReport report)
    {
        var text = new StringBuilder();
        foreach (SummaryTable table in SummaryTables.Build(report).SelectMany(t => SummaryTables.FitWidth(t, Width, 2)))
        {
            text.Append(table.Title).Append('\n');
            int[] widths = table.Columns.Select((_, i) => SummaryTables.CellWidth(table, i)).ToArray();
            AppendRow(text, table.Columns, widths);
            text.Append(string.Join("  ", widths.Select(w => new string('-', w)))).Append('\n');
            foreach (IReadOnlyList<string> row in table.Rows)
            {
                AppendRow(text, row, widths);
            }
            text.Append('\n');
        }
        return text.ToString();
    }

    // A wrapped cell takes as many lines as it has; the row's other cells are on its first.
    private static void AppendRow(StringBuilder text, IReadOnlyList<string> cells, int[] widths)
    {
        string[][] lines = cells.Select(c => c.Split('\n')).ToArray();
        for (int l = 0; l < lines.Max(c => c.Length); l++)
        {
            var line = new StringBuilder();
            for (int i = 0; i < cells.Count; i++)
            {
                string part = l < lines[i].Length ? lines[i][l] : "";
                line.Append(i > 0 ? "  " : "").Append(i == 0 ? part.PadRight(widths[i]) : part.PadLeft(widths[i]));
            }
            text.Append(line.ToString().TrimEnd()).Append('\n');
        }
    }
}
