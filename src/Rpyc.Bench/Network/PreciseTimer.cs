using System.Diagnostics;

namespace Rpyc.Bench;

/// <summary>
/// The relay's clock and sleeps. On Linux: <c>CLOCK_MONOTONIC</c> in nanoseconds, absolute sleeps by
/// <c>clock_nanosleep(TIMER_ABSTIME)</c> with the calling thread's timer slack cut to 1 us (the default
/// 50 us slack alone would eat the accuracy budget of a 0.2 ms link), and a spin over the last
/// <see cref="SpinMargin"/> to absorb the scheduler's wake-up latency. Elsewhere: Stopwatch ticks, a
/// coarse <see cref="Thread.Sleep(int)"/> and the same spin.
/// </summary>
/// <remarks>
/// The wake-up latency depends on the host's load: measured on a 2-core host at load 40, a 10 us spin
/// left the p50 delivery 20-60 us late, 50 us left it 0.1-40 us late, 200 us made it 0.1-1 us late.
/// So by default the margin adapts: each sleep's oversleep feeds a streaming estimate of its 95th
/// percentile (frugal quantile: up 19 steps on a miss, down 1 on a hit), and the margin follows it
/// within [10 us, 300 us]: a quiet host spins little, a busy one spins what it needs.
/// </remarks>
internal sealed class PreciseTimer
{
    // A sleep is cut into slices so that a closing relay never waits on a far deadline.
    private const long MaxSliceNanos = 50_000_000;

    private static readonly long s_minSpin = ToTicks(10_000);
    private static readonly long s_maxSpin = ToTicks(300_000);
    private static readonly long s_step = ToTicks(100);

    private readonly bool _adaptive;
    // Read and written by every writer thread without a lock: a lost update only delays adaptation.
    private long _spinTicks;

    /// <param name="spinMargin">A fixed spin before each deadline, or <c>null</c> to adapt it to the oversleep.</param>
    public PreciseTimer(TimeSpan? spinMargin)
    {
        _adaptive = spinMargin is null;
        _spinTicks = spinMargin is TimeSpan fixedMargin
            ? (long)(fixedMargin.Ticks * (double)TicksPerSecond / TimeSpan.TicksPerSecond)
            : ToTicks(50_000);
    }

    /// <summary>Ticks per second of <see cref="Now"/>.</summary>
    public static long TicksPerSecond { get; } = OperatingSystem.IsLinux() ? 1_000_000_000 : Stopwatch.Frequency;

    /// <summary>The spin before each deadline, as it stands (it moves when adaptive).</summary>
    public TimeSpan SpinMargin => TimeSpan.FromTicks((long)(Volatile.Read(ref _spinTicks) * (double)TimeSpan.TicksPerSecond / TicksPerSecond));

    /// <summary>The current time in <see cref="TicksPerSecond"/> ticks.</summary>
    public static long Now
    {
        get
        {
            return OperatingSystem.IsLinux() ? LinuxClock.ReadNanos(LinuxClock.Monotonic) : Stopwatch.GetTimestamp();
        }
    }

    /// <summary>Converts relay ticks to <see cref="Clock"/> (Stopwatch) ticks.</summary>
    public static long ToStopwatchTicks(long ticks) =>
        TicksPerSecond == Stopwatch.Frequency ? ticks : (long)(ticks * (double)Stopwatch.Frequency / TicksPerSecond);

    /// <summary>Sets the calling thread's timer slack to 1 us; call once on each relay thread.</summary>
    public static void TightenTimerSlack()
    {
        if (OperatingSystem.IsLinux())
        {
            // Best effort: a kernel that refuses leaves the default slack, which only costs accuracy.
            _ = LinuxClock.SetTimerSlack(1000);
        }
    }

    /// <summary>
    /// Waits until <see cref="Now"/> reaches <paramref name="deadline"/>, or <paramref name="cancelled"/>
    /// returns true (checked between slices of at most 50 ms).
    /// </summary>
    /// <returns>Whether the deadline was reached (false: cancelled).</returns>
    public bool WaitUntil(long deadline, Func<bool> cancelled)
    {
        long now = Now;
        long spin = Volatile.Read(ref _spinTicks);
        while (deadline - now > spin)
        {
            if (cancelled())
            {
                return false;
            }
            long wake = Math.Min(deadline - spin, now + ToTicks(MaxSliceNanos));
            Sleep(wake, now);
            now = Now;
            if (_adaptive)
            {
                long oversleep = now - wake;
                spin = Math.Clamp(oversleep > spin ? spin + 19 * s_step : spin - s_step, s_minSpin, s_maxSpin);
                Volatile.Write(ref _spinTicks, spin);
            }
        }
        while (now < deadline)
        {
            Thread.SpinWait(1);
            now = Now;
        }
        return true;
    }

    // Not through TicksPerSecond: the spin bounds above are initialized before it.
    private static long ToTicks(long nanos) =>
        OperatingSystem.IsLinux() ? nanos : (long)(nanos * (double)Stopwatch.Frequency / 1e9);

    private static void Sleep(long wake, long now)
    {
        if (OperatingSystem.IsLinux())
        {
            // Absolute: an interrupted or late sleep never drifts the deadline.
            LinuxClock.SleepUntil(wake);
            return;
        }
        int ms = (int)((wake - now) * 1000 / TicksPerSecond);
        Thread.Sleep(Math.Max(ms - 1, 0));
    }
}
