using System.Globalization;

namespace Rpyc.Telemetry;

// Number formats of the original rpycbench visualizer, always in the invariant culture.
internal static class TelemetryFormat
{
    public static string Duration(TimeSpan duration)
    {
        double seconds = duration.TotalSeconds;
        if (seconds < 0.001)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{seconds * 1_000_000:F0}µs");
        }
        return seconds < 1
            ? string.Create(CultureInfo.InvariantCulture, $"{seconds * 1000:F2}ms")
            : string.Create(CultureInfo.InvariantCulture, $"{seconds:F2}s");
    }

    public static string Milliseconds(TimeSpan duration) =>
        string.Create(CultureInfo.InvariantCulture, $"{duration.TotalMilliseconds:F2}ms");

    // Python's str(float) for thresholds: 0.1 -> "0.1s", 0.05 -> "0.05s", 0.0005 -> "0.0005s"
    // (seven decimals: a TimeSpan's tick, so a threshold under a millisecond is not rounded away).
    public static string Seconds(TimeSpan duration) =>
        string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds:0.0######}s");

    public static string Bytes(long bytes) => bytes switch
    {
        < 10 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 10 * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024.0):F1} MiB"),
    };

    public static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);
}
