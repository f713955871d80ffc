using System.Globalization;
using System.Text.Json;
using Rpyc.Figures.Peers;
using Rpyc.Figures.Reports;
using Rpyc.Figures.Statistics;

namespace Rpyc.Figures.Scenarios;

/// <summary>
/// The reference: rpyc's own Python client against the same server (tests/python/bench_client.py),
/// summarized there with the same nearest-rank percentiles.
/// </summary>
internal static class PythonClientScenarios
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromMinutes(10);

    /// <summary>Python and rpyc versions, which also proves the interpreter can import rpyc.</summary>
    public static (string Python, string Rpyc) Versions(FiguresOptions options)
    {
        using JsonDocument doc = PythonClient.Run(options.Python, options.RepoRoot, ["--versions"], TimeSpan.FromSeconds(30));
        return (doc.RootElement.GetProperty("python").GetString() ?? "?", doc.RootElement.GetProperty("rpyc").GetString() ?? "?");
    }

    public static IReadOnlyList<ScenarioResult> Run(FiguresOptions options, int port) => Run(options, port, "python", "Python");

    /// <summary>bench_client.py against any server; keys start with <paramref name="keyPrefix"/>, titles name <paramref name="serverLabel"/>.</summary>
    public static IReadOnlyList<ScenarioResult> Run(FiguresOptions options, int port, string keyPrefix, string serverLabel)
    {
        string[] arguments =
        [
            "--port", port.ToString(CultureInfo.InvariantCulture),
            "--calls", options.Calls.ToString(CultureInfo.InvariantCulture),
            "--warmup", options.Warmup.ToString(CultureInfo.InvariantCulture),
            "--echoes", options.Echoes.ToString(CultureInfo.InvariantCulture),
            "--echo-warmup", options.EchoWarmup.ToString(CultureInfo.InvariantCulture),
        ];
        using JsonDocument doc = PythonClient.Run(options.Python, options.RepoRoot, arguments, s_timeout);
        JsonElement root = doc.RootElement;
        return
        [
            Latency(root.GetProperty("cached"), $"{keyPrefix}_ping_cached", $"Python client -> {serverLabel}, m = c.root.ping; m() (CALL)",
                "one CALL round trip per call through a cached bound-method proxy, as ours is one CALLATTR"),
            Latency(root.GetProperty("uncached"), $"{keyPrefix}_ping_uncached", $"Python client -> {serverLabel}, c.root.ping() (context)",
                "GETATTR + CALL round trips, plus an async DEL of the bound-method proxy"),
            Echo(root.GetProperty("echo"), $"{keyPrefix}_echo_1mib", $"Python client -> {serverLabel}, echo(1 MiB) (context)"),
        ];
    }

    // bench_client.py summary: n, failures, min/mean/stddev/p50/p90/p99/max in microseconds.
    internal static LatencyStats ReadStats(JsonElement e) => new(
        e.GetProperty(Fields.N).GetInt32(),
        e.GetProperty(Fields.MinUs).GetDouble(),
        e.GetProperty(Fields.MeanUs).GetDouble(),
        e.GetProperty("stddev_us").GetDouble(),
        e.GetProperty(Fields.P50Us).GetDouble(),
        e.GetProperty(Fields.P90Us).GetDouble(),
        e.GetProperty(Fields.P99Us).GetDouble(),
        e.GetProperty(Fields.MaxUs).GetDouble());

    private static ScenarioResult Latency(JsonElement e, string key, string title, string note) =>
        ScenarioResult.Latency(key, title, ReadStats(e), e.GetProperty(Fields.Failures).GetInt32(), note: note);

    private static ScenarioResult Echo(JsonElement e, string key, string title)
    {
        LatencyStats rtt = ReadStats(e);
        long payload = e.GetProperty("payload_bytes").GetInt64();
        return ScenarioResult.Throughput(key, title, rtt,
            e.GetProperty(Fields.Failures).GetInt32(), payload, payload, payload,
            note: "random bytes; the Python client zlib-compresses frames over 3000 bytes (rpyc default), and so does a Python server (the .NET server does not)");
    }
}
