using System.Diagnostics;

namespace Rpyc.Bench;

/// <summary>
/// The monotonic clock of every measurement: raw <see cref="Stopwatch.GetTimestamp"/> ticks,
/// converted to seconds only when statistics are computed.
/// </summary>
public static class Clock
{
    private static readonly double s_secondsPerTick = 1.0 / Stopwatch.Frequency;

    /// <summary>The current timestamp in <see cref="Stopwatch"/> ticks.</summary>
    public static long Now => Stopwatch.GetTimestamp();

    /// <summary>Converts a tick count to seconds.</summary>
    /// <param name="ticks">A duration in <see cref="Stopwatch"/> ticks.</param>
    /// <returns>The duration in seconds.</returns>
    public static double ToSeconds(long ticks) => ticks * s_secondsPerTick;

    /// <summary>Converts seconds to <see cref="Stopwatch"/> ticks.</summary>
    /// <param name="seconds">A duration in seconds.</param>
    /// <returns>The duration in ticks.</returns>
    public static long FromSeconds(double seconds) => (long)(seconds * Stopwatch.Frequency);

    /// <summary>Seconds elapsed since <paramref name="startTicks"/>.</summary>
    /// <param name="startTicks">A timestamp from <see cref="Now"/>.</param>
    /// <returns>The elapsed seconds.</returns>
    public static double SecondsSince(long startTicks) => ToSeconds(Now - startTicks);
}
