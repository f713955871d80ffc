using System.Globalization;
using System.Text.Json;

namespace Rpyc.Bench;

/// <summary>A file that is not an rpycbench JSON report, or a report of another schema version.</summary>
public sealed class ReportFormatException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the file.</param>
    /// <param name="innerException">The parser's error, if any.</param>
    public ReportFormatException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Reads back what <see cref="JsonReporter"/> writes, so that a stored run can be compared
/// (<see cref="ReportComparison"/>) or rendered again (HTML, Markdown, CSV, plots). Raw samples and
/// per-run target reports are not in the JSON; everything the reporters show is.
/// </summary>
public static class ReportReader
{
    /// <summary>Reads a report file.</summary>
    /// <param name="path">The JSON file.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ReportFormatException">The file is missing, not JSON, not an rpycbench report, or of another schema version.</exception>
    public static BenchmarkReport Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ReportFormatException($"Cannot read '{path}': {ex.Message}", ex);
        }
        return Parse(json, path);
    }

    /// <summary>Parses a report.</summary>
    /// <param name="json">The JSON text.</param>
    /// <param name="source">The file name used in error messages.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ReportFormatException">The text is not JSON, not an rpycbench report, or of another schema version.</exception>
    public static BenchmarkReport Parse(string json, string source = "report")
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException ex)
        {
            throw new ReportFormatException($"'{source}' is not JSON: {ex.Message}", ex);
        }
        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("metadata", out JsonElement meta) || meta.ValueKind != JsonValueKind.Object
                || Str(meta, "tool") != "rpycbench")
            {
                throw new ReportFormatException($"'{source}' is not an rpycbench report (no metadata.tool = \"rpycbench\"; write one with 'rpycbench -o FILE').");
            }
            if (Str(meta, "kind") == "sweep")
            {
                // SweepJsonReporter's file: its metadata passes the check above, and its "points" read as a target without a name.
                throw new ReportFormatException($"'{source}' is a sweep (rpycbench sweep), not a run's report: each point's report is one, under points[].report.");
            }
            int version = meta.TryGetProperty("schema_version", out JsonElement v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) ? n : 0;
            if (version != JsonReporter.SchemaVersion)
            {
                string found = version == 0 ? "no schema_version (written before versioned reports)" : $"schema version {version}";
                throw new ReportFormatException($"'{source}' has {found}; this rpycbench reads schema version {JsonReporter.SchemaVersion} only. Re-run the benchmark with this version to compare.");
            }
            try
            {
                var targets = new List<TargetReport>();
                foreach (JsonProperty p in root.EnumerateObject())
                {
                    // "sweep" (a network sweep's curves) is not read back: the targets are the sweep's first point.
                    if (p.Name != "metadata" && p.Name != "sweep")
                    {
                        targets.Add(Target(p.Value));
                    }
                }
                return new BenchmarkReport { Metadata = Metadata(meta), Targets = targets };
            }
            catch (Exception ex) when (ex is InvalidOperationException or KeyNotFoundException or FormatException or ArgumentException)
            {
                throw new ReportFormatException($"'{source}' is not a well-formed rpycbench report: {ex.Message}", ex);
            }
        }
    }

    private static RunMetadata Metadata(JsonElement m)
    {
        JsonElement machine = m.GetProperty("machine");
        return new RunMetadata
        {
            ToolVersion = Str(m, "tool_version") ?? "",
            StartTime = DateTimeOffset.Parse(Str(m, "start_time") ?? "", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
            Seconds = Num(m, "duration") ?? 0,
            Interrupted = Bool(m, "interrupted"),
            Machine = Str(machine, "hostname") ?? "",
            OperatingSystem = Str(machine, "os") ?? "",
            CpuModel = Str(machine, "cpu_model") ?? "",
            ProcessorCount = (int)(Num(machine, "processor_count") ?? 0),
            MemoryBytes = (long)(Num(machine, "memory_bytes") ?? 0),
            LoadAverage = machine.TryGetProperty("load_average_1min", out JsonElement load) && load.ValueKind == JsonValueKind.Array
                ? load.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number ? e.GetDouble() : double.NaN).ToArray() : [],
            Runtime = Str(m, "runtime") ?? "",
            PeerVersions = m.TryGetProperty("peer_versions", out JsonElement peers) && peers.ValueKind == JsonValueKind.Object
                ? peers.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.ToString(), StringComparer.Ordinal) : new Dictionary<string, string>(),
            Parameters = m.TryGetProperty("parameters", out JsonElement parameters) && parameters.ValueKind == JsonValueKind.Object
                ? parameters.EnumerateObject().ToDictionary(p => p.Name, p => Value(p.Value), StringComparer.Ordinal) : new Dictionary<string, object>(),
            SpeedProbes = Obj(m, "machine_speed") is { ValueKind: JsonValueKind.Object } speed && speed.TryGetProperty("probes", out JsonElement probes) && probes.ValueKind == JsonValueKind.Array
                ? [.. probes.EnumerateArray().Select(p => new SpeedProbe(Str(p, "target") ?? "", (int)(Num(p, "run") ?? 0), (Num(p, "seconds") ?? double.NaN) * 1e6, Num(p, "loopback_seconds") * 1e6, Num(p, "transfer_seconds") * 1e6,
                    p.TryGetProperty("transfer_by_cpu_seconds", out JsonElement byCpu) && byCpu.ValueKind == JsonValueKind.Array
                        ? [.. byCpu.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number ? e.GetDouble() * 1e6 : (double?)null)] : null))]
                : [],
            Network = Network(Obj(m, "network")),
        };
    }

    private static object Value(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number when e.TryGetInt64(out long l) => l is >= int.MinValue and <= int.MaxValue ? (int)l : l,
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.Array => e.EnumerateArray().Select(Value).ToArray(),
        _ => e.ToString(),
    };

    private static TargetReport Target(JsonElement t)
    {
        string name = Str(t, "name") ?? throw new FormatException("a target has no name");
        JsonElement latency = Obj(t, "latency");
        JsonElement connection = Obj(t, "connection_time");
        JsonElement concurrent = Obj(t, "concurrent");
        JsonElement cpu = Obj(t, "cpu_usage");
        JsonElement memory = Obj(t, "memory_usage");
        JsonElement upload = Obj(t, "upload_bandwidth");
        JsonElement download = Obj(t, "download_bandwidth");
        JsonElement wrk = Obj(t, "wrk");
        string status = Str(t, "status") ?? "ok";
        return new TargetReport
        {
            Name = name,
            Protocol = Str(t, "protocol") ?? "",
            ServerMode = Str(t, "server_mode"),
            Implementation = Str(t, "implementation"),
            Endpoint = Str(t, "endpoint"),
            Remote = Bool(t, "remote"),
            RunCount = (int)(Num(t, "runs") ?? 1),
            NoiseCores = Num(t, "noise_cores"),
            Status = Enum.Parse<TargetStatus>(status, ignoreCase: true),
            Error = Str(t, "error"),
            Seconds = Num(t, "duration") ?? 0,
            Connection = connection.ValueKind != JsonValueKind.Object ? null : new ConnectionResult
            {
                Name = "connection",
                ConnectionTime = Stats(connection),
                TcpConnect = Stats(Obj(connection, "tcp_connect")),
                Successes = (long)(Num(connection, "count") ?? 0),
                Failures = (long)(Num(connection, "failures") ?? 0),
                RoundTripsPerConnection = Num(connection, "round_trips_per_connection"),
                Seconds = Num(connection, "measured_seconds") ?? 0,
                FirstError = Str(connection, "first_error"),
                WarmupSeconds = Num(connection, "warmup_seconds"),
                WarmupSettled = Settled(connection),
                WarmupFailures = (long)(Num(connection, "warmup_failures") ?? 0),
            },
            Latency = latency.ValueKind != JsonValueKind.Object ? null : new LatencyResult
            {
                Name = "latency",
                Operation = Str(latency, "operation") ?? "",
                Latency = Stats(latency),
                Successes = (long)(Num(latency, "count") ?? 0),
                Failures = (long)(Num(latency, "failures") ?? 0),
                Seconds = Num(latency, "measured_seconds") ?? 0,
                RoundTripsPerRequest = Num(t, "round_trips_per_request"),
                ConnectionsPerRequest = Num(t, "connections_per_request"),
                CpuPerRequest = CpuPerRequest(Obj(latency, "cpu_per_request")),
                FirstError = Str(latency, "first_error"),
                WarmupSeconds = Num(latency, "warmup_seconds"),
                WarmupSettled = Settled(latency),
                WarmupFailures = (long)(Num(latency, "warmup_failures") ?? 0),
                Floor = FloorPairing(Obj(latency, "floor_pairing")),
            },
            Bandwidth = upload.ValueKind != JsonValueKind.Object && download.ValueKind != JsonValueKind.Object ? null : new BandwidthResult
            {
                Name = "bandwidth",
                Upload = Sizes(upload),
                Download = Sizes(download),
            },
            Concurrent = concurrent.ValueKind != JsonValueKind.Object ? null : Concurrent(concurrent),
            ServerResources = Resources(Obj(cpu, "server"), Obj(memory, "server")),
            ClientResources = Resources(Obj(cpu, "client"), Obj(memory, "client")),
            Wrk = wrk.ValueKind != JsonValueKind.Object ? null : new WrkResult
            {
                RequestsPerSecond = Num(wrk, "requests_per_second") ?? 0,
                Connections = (int)(Num(wrk, "connections") ?? 0),
                Threads = (int)(Num(wrk, "threads") ?? 0),
                Seconds = Num(wrk, "duration") ?? 0,
                Path = Str(wrk, "path") ?? "",
                RpycbenchRequestsPerSecond = Num(wrk, "rpycbench_requests_per_second"),
            },
            Distributed = Distributed(Obj(t, "distributed")),
            Scenarios = Scenarios(Obj(t, "scenarios")),
            BinaryTransfer = BinaryTransfer(Obj(t, "binary_transfer")),
        };
    }

    // --test-binary-transfer, as BinaryTransferJson writes it: per size (bytes, as a key), per mode, per way.
    private static BinaryTransferResult? BinaryTransfer(JsonElement b) => b.ValueKind != JsonValueKind.Object ? null : new BinaryTransferResult(
        (int)(Num(b, "chunk_size") ?? 0),
        (int)(Num(b, "iterations") ?? 0),
        Obj(b, "sizes") is { ValueKind: JsonValueKind.Object } sizes
            ? [.. sizes.EnumerateObject().Select(s => BinarySize(long.Parse(s.Name, NumberStyles.None, CultureInfo.InvariantCulture), s.Value))]
            : []);

    private static BinarySizeResult BinarySize(long size, JsonElement modes) =>
        new(size, [.. modes.EnumerateObject().Select(m => new BinaryModeResult(m.Name, BinaryWay(size, Obj(m.Value, "upload")), BinaryWay(size, Obj(m.Value, "download"))))]);

    private static BinaryWayResult BinaryWay(long size, JsonElement way) => new()
    {
        Status = Enum.Parse<BinaryWayStatus>(Str(way, "status") ?? "failed", ignoreCase: true),
        Reason = Str(way, "reason"),
        Iterations = (int)(Num(way, "iterations") ?? 0),
        Size = size,
        Seconds = Num(way, "seconds") ?? 0,
        MinSeconds = Num(way, "min_seconds") ?? 0,
        Sha256Ok = way.TryGetProperty("sha256_ok", out JsonElement ok) && ok.ValueKind is JsonValueKind.True or JsonValueKind.False ? ok.GetBoolean() : null,
        ClientRssPeak = (long?)Num(way, "client_rss_peak"),
        ServerRssPeak = (long?)Num(way, "server_rss_peak"),
        RssExact = Bool(way, "rss_exact"),
    };

    // The decision scenarios (on by default), keyed by variant; null when the run measured none.
    private static ScenarioResult[]? Scenarios(JsonElement scenarios) =>
        scenarios.ValueKind != JsonValueKind.Object ? null : scenarios.EnumerateObject().Select(p =>
        {
            JsonElement latency = Obj(p.Value, "latency");
            return new ScenarioResult
            {
                Key = p.Name,
                Scenario = Str(p.Value, "scenario") ?? p.Name,
                Style = Str(p.Value, "style") ?? "",
                Successes = (long)(Num(latency, "count") ?? 0),
                Failures = (long)(Num(latency, "failures") ?? 0),
                Seconds = Num(p.Value, "measured_seconds") ?? 0,
                Latency = Stats(latency),
                RoundTripsPerOp = Num(p.Value, "round_trips_per_op"),
                BytesPerOp = Num(p.Value, "bytes_per_op"),
                PredictedSeconds = Num(p.Value, "predicted_seconds"),
                FirstError = Str(p.Value, "first_error"),
            };
        }).ToArray();

    // The network every target ran through: its profile, from the canonical spec (the relays'
    // counters are not read back: no table shows them).
    private static NetworkInfo? Network(JsonElement network)
    {
        if (Str(network, "spec") is not { } spec)
        {
            return null;
        }
        NetworkProfile profile = NetworkProfile.Parse(spec);
        return new NetworkInfo(profile.IsLoopback ? profile : profile with { Name = Str(network, "profile") ?? profile.Name }, new Dictionary<string, RelayStatistics>());
    }

    private static DistributedResult? Distributed(JsonElement d) => d.ValueKind != JsonValueKind.Object ? null : new DistributedResult
    {
        Operation = Str(d, "operation") ?? "ping",
        PayloadBytes = (int)(Num(d, "payload_bytes") ?? 0),
        Users = (int)(Num(d, "users") ?? 0),
        Seconds = Num(d, "duration") ?? 0,
        Requests = (long)(Num(d, "requests") ?? 0),
        Failures = (long)(Num(d, "failures") ?? 0),
        Validated = (long)(Num(d, "validated") ?? 0),
        Latency = Stats(Obj(d, "latency")),
        PerWorker = d.TryGetProperty("per_worker", out JsonElement workers) && workers.ValueKind == JsonValueKind.Array
            ? workers.EnumerateArray().Select(x => new DistributedWorker(Str(x, "id") ?? "", (long)(Num(x, "requests") ?? 0),
                (long)(Num(x, "failures") ?? 0), Num(x, "throughput") ?? 0, Stats(Obj(x, "latency")))).ToArray()
            : [],
        Clients = Str(d, "clients") ?? "Python (Locust users)",
    };

    private static BandwidthSizeResult[] Sizes(JsonElement sizes) =>
        sizes.ValueKind != JsonValueKind.Object ? [] : sizes.EnumerateObject().Select(p => Size(p.Value)).ToArray();

    private static BandwidthSizeResult Size(JsonElement s)
    {
        BandwidthSizeResult[]? runs = s.TryGetProperty("runs", out JsonElement r) && r.ValueKind == JsonValueKind.Array ? r.EnumerateArray().Select(Size).ToArray() : null;
        return new BandwidthSizeResult
        {
            SizeBytes = (int)(Num(s, "size") ?? throw new FormatException("a bandwidth size has no 'size'")),
            Transfers = (long)(Num(s, "transfers") ?? 0),
            Failures = (long)(Num(s, "failures") ?? 0),
            Seconds = Num(s, "seconds") ?? 0,
            BytesPerSecond = Num(s, "bytes_per_second") ?? 0,
            Latency = Stats(Obj(s, "transfer_time")),
            FirstError = Str(s, "first_error"),
            Runs = runs,
            BytesPerSecondCi95 = runs is null ? null : Interval(Obj(s, "ci95"), "bytes_per_second"),
        };
    }

    private static PairedLatencyResult? FloorPairing(JsonElement p)
    {
        if (p.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        PairedLatencyResult[]? runs = p.TryGetProperty("runs", out JsonElement r) && r.ValueKind == JsonValueKind.Array
            ? r.EnumerateArray().Select(FloorPairing).OfType<PairedLatencyResult>().ToArray() : null;
        return new PairedLatencyResult
        {
            Subject = Stats(Obj(p, "subject")),
            Reference = Stats(Obj(p, "floor")),
            Ratio = Num(p, "ratio") ?? double.NaN,
            Blocks = (int)(Num(p, "blocks") ?? 0),
            BlockSize = (int)(Num(p, "block_size") ?? 0),
            Seconds = Num(p, "measured_seconds") ?? 0,
            Failures = (long)(Num(p, "failures") ?? 0),
            FirstError = Str(p, "first_error"),
            Runs = runs,
            RatioCi95 = runs is null ? null : Interval(Obj(p, "ci95"), "ratio"),
        };
    }

    private static PairedThroughputResult? ThroughputPairing(JsonElement p)
    {
        if (p.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        PairedThroughputResult[]? runs = p.TryGetProperty("runs", out JsonElement r) && r.ValueKind == JsonValueKind.Array
            ? r.EnumerateArray().Select(ThroughputPairing).OfType<PairedThroughputResult>().ToArray() : null;
        return new PairedThroughputResult
        {
            Subject = Num(p, "subject") ?? double.NaN,
            Reference = Num(p, "floor") ?? double.NaN,
            Ratio = Num(p, "ratio") ?? double.NaN,
            Clients = (int)(Num(p, "clients") ?? 0),
            Slices = (int)(Num(p, "slices") ?? 0),
            SliceSeconds = Num(p, "slice_seconds") ?? 0,
            Seconds = Num(p, "measured_seconds") ?? 0,
            Failures = (long)(Num(p, "failures") ?? 0),
            FirstError = Str(p, "first_error"),
            Runs = runs,
            RatioCi95 = runs is null ? null : Interval(Obj(p, "ci95"), "ratio"),
        };
    }

    private static ConcurrentResult Concurrent(JsonElement k)
    {
        ConcurrentResult[]? runs = k.TryGetProperty("runs", out JsonElement r) && r.ValueKind == JsonValueKind.Array ? r.EnumerateArray().Select(Concurrent).ToArray() : null;
        return new ConcurrentResult
        {
            Name = "concurrent",
            Clients = (int)(Num(k, "connections") ?? 0),
            RequestsPerClient = (int)(Num(k, "requests_per_client") ?? 0),
            Successes = (long)(Num(k, "successful_requests") ?? 0),
            Failures = (long)(Num(k, "failed_requests") ?? 0),
            Seconds = Num(k, "duration") ?? 0,
            Throughput = Num(k, "throughput") ?? 0,
            Latency = Stats(Obj(k, "latency")),
            PerClient = k.TryGetProperty("per_client", out JsonElement clients) && clients.ValueKind == JsonValueKind.Array
                ? clients.EnumerateArray().Select(c => new ClientResult
                {
                    Client = (int)(Num(c, "client") ?? 0),
                    Successes = (long)(Num(c, "successful_requests") ?? 0),
                    Failures = (long)(Num(c, "failed_requests") ?? 0),
                    Seconds = Num(c, "duration") ?? 0,
                    // Only these figures of a client's latency are in the JSON.
                    Latency = new Statistics((long)(Num(c, "successful_requests") ?? 0), double.NaN, Num(c, "max") ?? double.NaN, Num(c, "mean") ?? double.NaN, double.NaN,
                        new Statistics.Percentiles(Num(c, "p50") ?? double.NaN, double.NaN, double.NaN, Num(c, "p99") ?? double.NaN, double.NaN)),
                }).ToArray() : [],
            FirstError = Str(k, "first_error"),
            Runs = runs,
            ThroughputCi95 = runs is null ? null : Interval(Obj(k, "ci95"), "throughput"),
            Floor = ThroughputPairing(Obj(k, "floor_pairing")),
        };
    }

    private static ResourceUsage? Resources(JsonElement cpu, JsonElement memory) =>
        cpu.ValueKind != JsonValueKind.Object ? null : new ResourceUsage
        {
            ProcessId = (int)(Num(cpu, "pid") ?? 0),
            CpuSeconds = Num(cpu, "cpu_seconds") ?? double.NaN,
            CpuPercentMean = Num(cpu, "mean") ?? double.NaN,
            CpuPercentMax = Num(cpu, "max") ?? double.NaN,
            WallSeconds = Num(cpu, "wall_seconds") ?? double.NaN,
            RssPeakBytes = (long)(Num(memory, "peak") ?? 0),
            RssMeanBytes = Num(memory, "mean") ?? double.NaN,
            Samples = (int)(Num(memory, "samples") ?? 0),
        };

    // A stats object; one with "runs" is rebuilt from its runs, which gives back the same medians and intervals.
    private static Statistics Stats(JsonElement s)
    {
        if (s.ValueKind != JsonValueKind.Object)
        {
            return Statistics.Empty;
        }
        if (s.TryGetProperty("runs", out JsonElement runs) && runs.ValueKind == JsonValueKind.Array)
        {
            return Statistics.AcrossRuns(runs.EnumerateArray().Select(Stats).ToArray());
        }
        double N(string name) => Num(s, name) ?? double.NaN;
        return new Statistics((long)(Num(s, "count") ?? 0), N("min"), N("max"), N("mean"), N("stdev"),
            new Statistics.Percentiles(N("p50"), N("p90"), N("p95"), N("p99"), N("p999")));
    }

    private static CpuPerRequest? CpuPerRequest(JsonElement cpu)
    {
        if (cpu.ValueKind != JsonValueKind.Object || (Num(cpu, "client") is null && Num(cpu, "server") is null))
        {
            return null;
        }
        CpuPerRequest[]? runs = cpu.TryGetProperty("runs", out JsonElement r) && r.ValueKind == JsonValueKind.Array
            ? [.. r.EnumerateArray().Select(CpuPerRequest).OfType<CpuPerRequest>()]
            : null;
        return new CpuPerRequest(Num(cpu, "client"), Num(cpu, "server"))
        {
            Runs = runs,
            ClientCi95 = Interval(Obj(cpu, "ci95"), "client"),
            ServerCi95 = Interval(Obj(cpu, "ci95"), "server"),
        };
    }

    private static Interval? Interval(JsonElement ci, string name) =>
        ci.ValueKind == JsonValueKind.Object && ci.TryGetProperty(name, out JsonElement i) && i.ValueKind == JsonValueKind.Array && i.GetArrayLength() == 2
            ? new Interval(i[0].GetDouble(), i[1].GetDouble()) : null;

    private static JsonElement Obj(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Object ? v : default;

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static double? Num(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    private static bool? Settled(JsonElement phase) =>
        phase.TryGetProperty("warmup_settled", out JsonElement v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : null;

    private static bool Bool(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.True;
}
