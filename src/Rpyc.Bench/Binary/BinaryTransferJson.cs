using System.Globalization;
using System.Text.Json;

namespace Rpyc.Bench;

// A target's "binary_transfer" in the JSON report: chunk_size, iterations, and per size (bytes, as
// a key), per mode, per way: status, reason, iterations, seconds (mean per transfer), min_seconds,
// bytes_per_second, sha256_ok, client_rss_peak, server_rss_peak (bytes), rss_exact.
internal static class BinaryTransferJson
{
    public static void Write(Utf8JsonWriter w, BinaryTransferResult? result)
    {
        if (result is null)
        {
            return;
        }
        w.WriteStartObject("binary_transfer");
        w.WriteNumber("chunk_size", result.ChunkSize);
        w.WriteNumber("iterations", result.Iterations);
        w.WriteStartObject("sizes");
        foreach (BinarySizeResult size in result.Sizes)
        {
            w.WriteStartObject(size.Size.ToString(CultureInfo.InvariantCulture));
            foreach (BinaryModeResult mode in size.Modes)
            {
                w.WriteStartObject(mode.Mode);
                Way(w, "upload", mode.Upload);
                Way(w, "download", mode.Download);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static void Way(Utf8JsonWriter w, string name, BinaryWayResult way)
    {
        w.WriteStartObject(name);
        w.WriteString("status", way.Status.ToString().ToLowerInvariant());
        w.WriteString("reason", way.Reason);
        w.WriteNumber("iterations", way.Iterations);
        JsonReporter.Number(w, "seconds", way.Iterations > 0 ? way.Seconds : null);
        JsonReporter.Number(w, "min_seconds", way.Iterations > 0 ? way.MinSeconds : null);
        JsonReporter.Number(w, "bytes_per_second", way.Iterations > 0 ? way.BytesPerSecond : null);
        if (way.Sha256Ok is bool ok)
        {
            w.WriteBoolean("sha256_ok", ok);
        }
        else
        {
            w.WriteNull("sha256_ok");
        }
        JsonReporter.Number(w, "client_rss_peak", way.ClientRssPeak);
        JsonReporter.Number(w, "server_rss_peak", way.ServerRssPeak);
        w.WriteBoolean("rss_exact", way.RssExact);
        w.WriteEndObject();
    }
}
