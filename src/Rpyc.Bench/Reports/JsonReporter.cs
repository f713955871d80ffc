using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Rpyc.Bench;

/// <summary>
/// Writes a report as JSON: an object keyed by target (<c>rpyc_threaded</c>, …) plus
/// <c>metadata</c>. Times in seconds, sizes in bytes, rates per second; numbers are culture
/// invariant, and a value that does not exist (statistics of no samples) is <c>null</c>.
/// A pure function of the report.
/// </summary>
public static class JsonReporter
{
    /// <summary>
    /// The version of the JSON layout, written as <c>metadata.schema_version</c>: raised when a field
    /// changes meaning or moves, so that <see cref="ReportReader"/> refuses a report it would misread.
    /// </summary>
    public const int SchemaVersion = 1;

    /// <summary>Renders the report.</summary>
    /// <param name="report">The report.</param>
    /// <returns>Indented JSON.</returns>
    public static string Render(BenchmarkReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            WriteMetadata(w, report.Metadata);
            foreach (TargetReport target in report.Targets)
            {
                w.WritePropertyName(target.Name);
                WriteTarget(w, target, FloorComparison.Of(report, target));
            }
            if (report.Sweep is { } sweep)
            {
                w.WritePropertyName("sweep");
                NetworkSweepJson.Write(w, sweep);
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>Writes the report to a file (UTF-8).</summary>
    /// <param name="report">The report.</param>
    /// <param name="path">The file.</param>
    public static void Write(BenchmarkReport report, string path) => File.WriteAllText(path, Render(report), new UTF8Encoding(false));

    private static void WriteMetadata(Utf8JsonWriter w, RunMetadata m)
    {
        w.WriteStartObject("metadata");
        w.WriteString("tool", "rpycbench");
        w.WriteNumber("schema_version", SchemaVersion);
        w.WriteString("tool_version", m.ToolVersion);
        w.WriteString("start_time", m.StartTime.ToString("O", CultureInfo.InvariantCulture));
        Number(w, "duration", m.Seconds);
        w.WriteBoolean("interrupted", m.Interrupted);
        w.WriteStartObject("machine");
        w.WriteString("hostname", m.Machine);
        w.WriteString("os", m.OperatingSystem);
        w.WriteString("cpu_model", m.CpuModel);
        w.WriteNumber("processor_count", m.ProcessorCount);
        w.WriteNumber("memory_bytes", m.MemoryBytes);
        w.WriteStartArray("load_average_1min");
        foreach (double load in m.LoadAverage)
        {
            NumberValue(w, load);
        }
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteString("runtime", m.Runtime);
        w.WriteStartObject("peer_versions");
        foreach (KeyValuePair<string, string> kv in m.PeerVersions.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            w.WriteString(kv.Key, kv.Value);
        }
        w.WriteEndObject();
        w.WriteStartObject("parameters");
        foreach (KeyValuePair<string, object> kv in m.Parameters)
        {
            w.WritePropertyName(kv.Key);
            Value(w, kv.Value);
        }
        w.WriteEndObject();
        w.WriteStartObject("machine_details");
        foreach (KeyValuePair<string, object> kv in m.Details)
        {
            w.WritePropertyName(kv.Key);
            Value(w, kv.Value);
        }
        w.WriteEndObject();
        if (m.RemoteMachine is { } remote)
        {
            w.WriteStartObject("remote_machine");
            foreach (KeyValuePair<string, object> kv in remote)
            {
                w.WritePropertyName(kv.Key);
                Value(w, kv.Value);
            }
            w.WriteEndObject();
        }
        if (m.Placement is { } placement)
        {
            w.WriteStartObject("placement");
            w.WriteString("mode", placement.Choice.Key);
            w.WriteString("description", placement.Choice.Description);
            Number(w, "client_cpu", placement.Choice.ClientCpu);
            Number(w, "server_cpu", placement.Choice.ServerCpu);
            w.WriteStartObject("observed");
            foreach (KeyValuePair<string, ObservedPlacement> kv in placement.Observed)
            {
                w.WriteStartObject(kv.Key);
                CpuSeconds(w, "client_cpu_seconds", kv.Value.ClientCpuSeconds);
                CpuSeconds(w, "server_cpu_seconds", kv.Value.ServerCpuSeconds);
                Number(w, "shared_cpu_fraction", kv.Value.SharedCpuFraction);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        if (m.Network is { } network)
        {
            w.WriteStartObject("network");
            w.WriteString("profile", network.Profile.IsLoopback ? "loopback" : network.Profile.Name);
            w.WriteString("spec", network.Profile.Spec);
            w.WriteString("method", network.Profile.IsLoopback ? "none (loopback)" : "user-space relay (clock_nanosleep delivery, token-bucket rate), one per target");
            Number(w, "rtt_seconds", network.Profile.RoundTrip.TotalSeconds);
            Number(w, "jitter_seconds", network.Profile.Jitter.TotalSeconds);
            Number(w, "rate_bits_per_second", network.Profile.RateBitsPerSecond);
            w.WriteStartObject("relays");
            foreach (KeyValuePair<string, RelayStatistics> kv in network.Relays)
            {
                w.WriteStartObject(kv.Key);
                w.WriteNumber("connections", kv.Value.Connections);
                w.WriteNumber("bytes_client_to_server", kv.Value.BytesClientToServer);
                w.WriteNumber("bytes_server_to_client", kv.Value.BytesServerToClient);
                Number(w, "cpu_seconds", kv.Value.CpuSeconds);
                Number(w, "lateness_p50", kv.Value.Lateness.P50);
                Number(w, "lateness_p99", kv.Value.Lateness.P99);
                Number(w, "spin_margin_seconds", kv.Value.SpinMargin.TotalSeconds);
                Number(w, "delay_compensation_seconds", kv.Value.DelayCompensation.TotalSeconds);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        if (m.SpeedProbes.Count > 0)
        {
            w.WriteStartObject("machine_speed");
            SpeedPartFields(w, MachineSpeed.Work, m.SpeedProbes, SpeedPart.Cpu);
            w.WriteStartArray("probes");
            foreach (SpeedProbe p in m.SpeedProbes)
            {
                w.WriteStartObject();
                w.WriteString("target", p.Target);
                w.WriteNumber("run", p.Run);
                Number(w, "seconds", p.Microseconds / 1e6);
                if (p.LoopbackMicroseconds is double loop)
                {
                    Number(w, "loopback_seconds", loop / 1e6);
                }
                if (p.TransferMicroseconds is double transfer)
                {
                    Number(w, "transfer_seconds", transfer / 1e6);
                }
                if (p.TransferByCpuMicroseconds is { } byCpu)
                {
                    w.WriteStartArray("transfer_by_cpu_seconds");
                    foreach (double? cpu in byCpu)
                    {
                        NumberValue(w, cpu / 1e6);
                    }
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            w.WriteEndArray();
            SpeedPartJson(w, "loopback", MachineSpeed.LoopbackWork, m.SpeedProbes, SpeedPart.Loopback);
            SpeedPartJson(w, "transfer", MachineSpeed.TransferWork, m.SpeedProbes, SpeedPart.Transfer);
            w.WriteEndObject();
        }
        w.WriteStartObject("units");
        w.WriteString("time", "seconds");
        w.WriteString("size", "bytes");
        w.WriteString("bandwidth", "bytes_per_second");
        w.WriteString("throughput", "requests_per_second");
        w.WriteString("cpu", "percent_of_one_core");
        w.WriteString("success_rate", "fraction");
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void CpuSeconds(Utf8JsonWriter w, string name, IReadOnlyDictionary<int, double> seconds)
    {
        w.WriteStartObject(name);
        foreach (KeyValuePair<int, double> kv in seconds.OrderBy(kv => kv.Key))
        {
            Number(w, $"cpu{kv.Key}", kv.Value);
        }
        w.WriteEndObject();
    }

    internal static void Value(Utf8JsonWriter w, object value)
    {
        switch (value)
        {
            case string s:
                w.WriteStringValue(s);
                break;
            case bool b:
                w.WriteBooleanValue(b);
                break;
            case int i:
                w.WriteNumberValue(i);
                break;
            case long l:
                w.WriteNumberValue(l);
                break;
            case double d:
                NumberValue(w, d);
                break;
            case System.Collections.IEnumerable items:
                w.WriteStartArray();
                foreach (object? item in items)
                {
                    Value(w, item ?? "");
                }
                w.WriteEndArray();
                break;
            default:
                w.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }

    private static void WriteTarget(Utf8JsonWriter w, TargetReport t, IReadOnlyList<FloorRatio> floor)
    {
        w.WriteStartObject();
        w.WriteString("name", t.Name);
        w.WriteString("protocol", t.Protocol);
        w.WriteString("server_mode", t.ServerMode);
        w.WriteString("implementation", t.Implementation);
        w.WriteString("endpoint", t.Endpoint);
        w.WriteString("client", t.Client);
        w.WriteBoolean("remote", t.Remote);
        w.WriteNumber("runs", t.RunCount);
        Number(w, "noise_cores", t.NoiseCores);
        w.WriteString("status", t.Status.ToString().ToLowerInvariant());
        w.WriteString("error", t.Error);
        Number(w, "duration", t.Seconds);
        if (t.Connection is { } c)
        {
            w.WriteStartObject("connection_time");
            Stats(w, c.ConnectionTime, c.Failures);
            w.WritePropertyName("tcp_connect");
            w.WriteStartObject();
            Stats(w, c.TcpConnect, null);
            w.WriteEndObject();
            Number(w, "round_trips_per_connection", c.RoundTripsPerConnection);
            Number(w, "measured_seconds", c.Seconds);
            w.WriteString("first_error", c.FirstError);
            Warmup(w, c.WarmupSeconds, c.WarmupSettled, c.WarmupFailures);
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("connection_time");
        }
        if (t.Latency is { } l)
        {
            w.WriteStartObject("latency");
            w.WriteString("operation", l.Operation);
            Stats(w, l.Latency, l.Failures);
            Number(w, "throughput", l.Throughput);
            Number(w, "measured_seconds", l.Seconds);
            w.WriteString("first_error", l.FirstError);
            Warmup(w, l.WarmupSeconds, l.WarmupSettled, l.WarmupFailures);
            w.WritePropertyName("cpu_per_request");
            CpuPerRequest(w, l.CpuPerRequest);
            if (l.Floor is { } paired)
            {
                w.WritePropertyName("floor_pairing");
                FloorPairing(w, paired);
            }
            w.WriteEndObject();
        }
        else
        {
            w.WriteNull("latency");
        }
        Bandwidth(w, "upload_bandwidth", t.Bandwidth?.Upload);
        Bandwidth(w, "download_bandwidth", t.Bandwidth?.Download);
        if (t.Concurrent is { } k)
        {
            w.WritePropertyName("concurrent");
            Concurrent(w, k);
        }
        else
        {
            w.WriteNull("concurrent");
        }
        w.WriteStartObject("cpu_usage");
        Cpu(w, "server", t.ServerResources);
        Cpu(w, "client", t.ClientResources);
        w.WriteEndObject();
        w.WriteStartObject("memory_usage");
        Memory(w, "server", t.ServerResources);
        Memory(w, "client", t.ClientResources);
        w.WriteEndObject();
        Number(w, "round_trips_per_request", t.Latency?.RoundTripsPerRequest);
        Number(w, "connections_per_request", t.Latency?.ConnectionsPerRequest);
        if (t.Scenarios is { } scenarios)
        {
            w.WriteStartObject("scenarios");
            foreach (ScenarioResult x in scenarios)
            {
                w.WriteStartObject(x.Key);
                w.WriteString("scenario", x.Scenario);
                w.WriteString("style", x.Style);
                Number(w, "round_trips_per_op", x.RoundTripsPerOp);
                Number(w, "bytes_per_op", x.BytesPerOp);
                w.WriteStartObject("latency");
                Stats(w, x.Latency, x.Failures);
                w.WriteEndObject();
                Number(w, "predicted_seconds", x.PredictedSeconds);
                // Measured p50 / predicted; beyond_model when it is past NetworkModel.DeviationFactor either way.
                Number(w, "model_ratio", x.ModelRatio);
                w.WriteBoolean("beyond_model", x.BeyondModel);
                Number(w, "measured_seconds", x.Seconds);
                w.WriteString("first_error", x.FirstError);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        // Target / tcp_raw in the same run; "beats_floor" marks a figure better than the floor beyond noise.
        w.WriteStartObject("vs_floor");
        foreach (FloorRatio ratio in floor)
        {
            w.WriteStartObject(ratio.Figure);
            Number(w, "ratio", ratio.Ratio);
            w.WriteBoolean("beats_floor", ratio.BeatsFloor);
            // "paired": alternating blocks of the same time slices (latency.floor_pairing); "separate": the two targets' own phases.
            w.WriteString("method", ratio.Paired ? "paired" : "separate");
            w.WriteEndObject();
        }
        w.WriteEndObject();
        if (t.Wrk is { } wrk)
        {
            w.WriteStartObject("wrk");
            Number(w, "requests_per_second", wrk.RequestsPerSecond);
            w.WriteNumber("connections", wrk.Connections);
            w.WriteNumber("threads", wrk.Threads);
            Number(w, "duration", wrk.Seconds);
            w.WriteString("path", wrk.Path);
            Number(w, "rpycbench_requests_per_second", wrk.RpycbenchRequestsPerSecond);
            Number(w, "ratio", wrk.Ratio);
            w.WriteEndObject();
        }
        if (t.Distributed is { } d)
        {
            Distributed(w, d);
        }
        BinaryTransferJson.Write(w, t.BinaryTransfer);
        w.WriteEndObject();
    }

    // rpycbench locust: Locust's counts, the merged latency, and each worker's share.
    // Present only when measured, so reports of hand-built results keep their shape.
    private static void Warmup(Utf8JsonWriter w, double? seconds, bool? settled, long failures)
    {
        if (seconds is double warmup)
        {
            Number(w, "warmup_seconds", warmup);
        }
        if (settled is bool quiet)
        {
            w.WriteBoolean("warmup_settled", quiet);
        }
        w.WriteNumber("warmup_failures", failures);
    }

    private static void Distributed(Utf8JsonWriter w, DistributedResult d)
    {
        w.WriteStartObject("distributed");
        w.WriteString("engine", "locust");
        w.WriteString("clients", d.Clients);
        w.WriteString("operation", d.Operation);
        w.WriteNumber("payload_bytes", d.PayloadBytes);
        w.WriteNumber("workers", d.Workers);
        w.WriteNumber("users", d.Users);
        Number(w, "duration", d.Seconds);
        w.WriteNumber("requests", d.Requests);
        w.WriteNumber("failures", d.Failures);
        w.WriteNumber("validated", d.Validated);
        Number(w, "throughput", d.Throughput);
        w.WriteStartObject("latency");
        Stats(w, d.Latency, null);
        w.WriteEndObject();
        w.WriteStartArray("per_worker");
        foreach (DistributedWorker x in d.PerWorker)
        {
            w.WriteStartObject();
            w.WriteString("id", x.Id);
            w.WriteNumber("requests", x.Requests);
            w.WriteNumber("failures", x.Failures);
            Number(w, "throughput", x.Throughput);
            w.WriteStartObject("latency");
            Stats(w, x.Latency, null);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void Concurrent(Utf8JsonWriter w, ConcurrentResult k)
    {
        w.WriteStartObject();
        w.WriteNumber("connections", k.Clients);
        w.WriteNumber("requests_per_client", k.RequestsPerClient);
        w.WriteNumber("total_requests", k.TotalRequests);
        w.WriteNumber("successful_requests", k.Successes);
        w.WriteNumber("failed_requests", k.Failures);
        Number(w, "success_rate", k.SuccessRate);
        Number(w, "duration", k.Seconds);
        Number(w, "throughput", k.Throughput);
        w.WriteStartObject("latency");
        Stats(w, k.Latency, null);
        w.WriteEndObject();
        w.WriteStartArray("per_client");
        foreach (ClientResult client in k.PerClient)
        {
            w.WriteStartObject();
            w.WriteNumber("client", client.Client);
            w.WriteNumber("successful_requests", client.Successes);
            w.WriteNumber("failed_requests", client.Failures);
            Number(w, "duration", client.Seconds);
            Number(w, "throughput", client.Throughput);
            Number(w, "mean", client.Latency.Mean);
            Number(w, "p50", client.Latency.P50);
            Number(w, "p99", client.Latency.P99);
            Number(w, "max", client.Latency.Max);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteString("first_error", k.FirstError);
        if (k.Floor is { } paired)
        {
            w.WritePropertyName("floor_pairing");
            ThroughputPairing(w, paired);
        }
        RunsAndInterval(w, k.Runs, Concurrent, "throughput", k.ThroughputCi95);
        w.WriteEndObject();
    }

    // Seconds of CPU per measured request, each side's own clock (null: not measured there); over
    // runs each side's median, with the runs and each side's interval.
    private static void CpuPerRequest(Utf8JsonWriter w, CpuPerRequest? cpu)
    {
        w.WriteStartObject();
        Number(w, "client", cpu?.Client);
        Number(w, "server", cpu?.Server);
        if (cpu?.Runs is { } runs)
        {
            w.WriteStartArray("runs");
            foreach (CpuPerRequest run in runs)
            {
                CpuPerRequest(w, run);
            }
            w.WriteEndArray();
            w.WriteStartObject("ci95");
            Interval(w, "client", cpu.ClientCi95);
            Interval(w, "server", cpu.ServerCi95);
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    // The concurrent clients measured again beside the floor's in alternating time slices: "subject"
    // and "floor" are the two sides' successful requests per second over their slices, "ratio"
    // subject / floor (over runs, the median of the runs' ratios).
    private static void ThroughputPairing(Utf8JsonWriter w, PairedThroughputResult p)
    {
        w.WriteStartObject();
        Number(w, "ratio", p.Ratio);
        Number(w, "subject", p.Subject);
        Number(w, "floor", p.Reference);
        w.WriteNumber("clients", p.Clients);
        w.WriteNumber("slices", p.Slices);
        Number(w, "slice_seconds", p.SliceSeconds);
        w.WriteNumber("failures", p.Failures);
        Number(w, "measured_seconds", p.Seconds);
        w.WriteString("first_error", p.FirstError);
        RunsAndInterval(w, p.Runs, ThroughputPairing, "ratio", p.RatioCi95);
        w.WriteEndObject();
    }

    // The ping measured again beside the floor's in alternating blocks: "subject" is this target's
    // samples of the blocks, "floor" tcp_raw's, "ratio" subject p50 / floor p50 (over runs, the median of the runs' ratios).
    private static void FloorPairing(Utf8JsonWriter w, PairedLatencyResult p)
    {
        w.WriteStartObject();
        Number(w, "ratio", p.Ratio);
        w.WriteNumber("block_size", p.BlockSize);
        w.WriteNumber("blocks", p.Blocks);
        w.WriteNumber("failures", p.Failures);
        Number(w, "measured_seconds", p.Seconds);
        w.WriteString("first_error", p.FirstError);
        w.WriteStartObject("subject");
        Stats(w, p.Subject, null);
        w.WriteEndObject();
        w.WriteStartObject("floor");
        Stats(w, p.Reference, null);
        w.WriteEndObject();
        RunsAndInterval(w, p.Runs, FloorPairing, "ratio", p.RatioCi95);
        w.WriteEndObject();
    }

    private static void Bandwidth(Utf8JsonWriter w, string name, IReadOnlyList<BandwidthSizeResult>? sizes)
    {
        if (sizes is null)
        {
            w.WriteNull(name);
            return;
        }
        w.WriteStartObject(name);
        foreach (BandwidthSizeResult s in sizes)
        {
            w.WritePropertyName(s.SizeBytes.ToString(CultureInfo.InvariantCulture));
            BandwidthSize(w, s);
        }
        w.WriteEndObject();
    }

    private static void BandwidthSize(Utf8JsonWriter w, BandwidthSizeResult s)
    {
        w.WriteStartObject();
        w.WriteNumber("size", s.SizeBytes);
        w.WriteNumber("transfers", s.Transfers);
        w.WriteNumber("failures", s.Failures);
        w.WriteNumber("bytes", s.Bytes);
        Number(w, "seconds", s.Seconds);
        Number(w, "bytes_per_second", s.BytesPerSecond);
        w.WriteStartObject("transfer_time");
        Stats(w, s.Latency, null);
        w.WriteEndObject();
        w.WriteString("first_error", s.FirstError);
        RunsAndInterval(w, s.Runs, BandwidthSize, "bytes_per_second", s.BytesPerSecondCi95);
        w.WriteEndObject();
    }

    // With runs: "runs" (each run's object, in order) and "ci95" {name: [low, high]} of the headline figure.
    private static void RunsAndInterval<T>(Utf8JsonWriter w, IReadOnlyList<T>? runs, Action<Utf8JsonWriter, T> writeRun, string name, Interval? interval)
    {
        if (runs is null)
        {
            return;
        }
        w.WriteStartArray("runs");
        foreach (T run in runs)
        {
            writeRun(w, run);
        }
        w.WriteEndArray();
        w.WriteStartObject("ci95");
        Interval(w, name, interval);
        w.WriteEndObject();
    }

    private static void Interval(Utf8JsonWriter w, string name, Interval? interval)
    {
        w.WritePropertyName(name);
        if (interval is { } i && double.IsFinite(i.Low) && double.IsFinite(i.High))
        {
            w.WriteStartArray();
            w.WriteNumberValue(i.Low);
            w.WriteNumberValue(i.High);
            w.WriteEndArray();
        }
        else
        {
            w.WriteNullValue();
        }
    }

    private static void Cpu(Utf8JsonWriter w, string name, ResourceUsage? u)
    {
        if (u is null)
        {
            w.WriteNull(name);
            return;
        }
        w.WriteStartObject(name);
        w.WriteNumber("pid", u.ProcessId);
        Number(w, "cpu_seconds", u.CpuSeconds);
        Number(w, "mean", u.CpuPercentMean);
        Number(w, "max", u.CpuPercentMax);
        Number(w, "wall_seconds", u.WallSeconds);
        w.WriteEndObject();
    }

    private static void Memory(Utf8JsonWriter w, string name, ResourceUsage? u)
    {
        if (u is null)
        {
            w.WriteNull(name);
            return;
        }
        w.WriteStartObject(name);
        w.WriteNumber("peak", u.RssPeakBytes);
        Number(w, "mean", u.RssMeanBytes);
        w.WriteNumber("samples", u.Samples);
        w.WriteEndObject();
    }

    // A stats object; one that combines runs also has "runs" (each run's stats) and "ci95".
    internal static void Stats(Utf8JsonWriter w, Statistics s, long? failures)
    {
        w.WriteNumber("count", s.Count);
        if (failures is long f)
        {
            w.WriteNumber("failures", f);
        }
        Number(w, "mean", s.Mean);
        Number(w, "median", s.Median);
        Number(w, "min", s.Min);
        Number(w, "max", s.Max);
        Number(w, "stdev", s.StdDev);
        Number(w, "p50", s.P50);
        Number(w, "p90", s.P90);
        Number(w, "p95", s.P95);
        Number(w, "p99", s.P99);
        Number(w, "p999", s.P999);
        if (s.Runs is { } runs)
        {
            w.WriteStartArray("runs");
            foreach (Statistics run in runs)
            {
                w.WriteStartObject();
                Stats(w, run, null);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("ci95");
            foreach (string figure in Statistics.IntervalFigures)
            {
                Interval(w, figure, s.Ci95 is { } ci && ci.TryGetValue(figure, out Interval i) ? i : null);
            }
            w.WriteEndObject();
        }
    }

    // What a part of metadata.machine_speed measures, the median of its probes, each run's median,
    // and the slowest run's median over the fastest's.
    private static void SpeedPartFields(Utf8JsonWriter w, string work, IReadOnlyList<SpeedProbe> probes, SpeedPart part)
    {
        w.WriteString("work", work);
        Number(w, "median_seconds", ConfidenceInterval.Median(probes.Select(p => p.Of(part)).OfType<double>()) / 1e6);
        w.WriteStartArray("run_median_seconds");
        foreach (double run in SummaryTables.SpeedByRun(probes, part))
        {
            NumberValue(w, run / 1e6);
        }
        w.WriteEndArray();
        Number(w, "spread", SummaryTables.SpeedSpread(probes, part));
    }

    // One part of metadata.machine_speed beside the heapsort's figures, when the probes took it.
    private static void SpeedPartJson(Utf8JsonWriter w, string name, string work, IReadOnlyList<SpeedProbe> probes, SpeedPart part)
    {
        if (SummaryTables.SpeedByRun(probes, part).Count == 0)
        {
            return;
        }
        w.WriteStartObject(name);
        SpeedPartFields(w, work, probes, part);
        if (part == SpeedPart.Transfer && SummaryTables.TransferByCpu(probes) is { Count: > 0 } byCpu)
        {
            w.WriteStartArray("by_cpu_median_seconds");
            foreach (double? cpu in byCpu)
            {
                NumberValue(w, cpu / 1e6);
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    internal static void Number(Utf8JsonWriter w, string name, double? value)
    {
        w.WritePropertyName(name);
        NumberValue(w, value);
    }

    private static void NumberValue(Utf8JsonWriter w, double? value)
    {
        if (value is double d && double.IsFinite(d))
        {
            w.WriteNumberValue(d);
        }
        else
        {
            w.WriteNullValue();
        }
    }
}
