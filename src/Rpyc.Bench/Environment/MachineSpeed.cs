using System.Runtime.CompilerServices;

namespace Rpyc.Bench;

/// <summary>
/// How fast this machine runs a fixed piece of work right now: the CPU time (the calling thread's
/// own clock, so time the thread spent waiting for a CPU does not count) to heapsort the same 16,384
/// pseudo-random integers, best of five. On a virtual machine the host decides how fast a vCPU runs
/// (its other tenants, their use of a core's sibling thread, the host's clock): in two back-to-back
/// default runs here, rpyc's Python server needed 45.5 µs of CPU per ping in the first and 27.1 in
/// the second for the same work, and every target moved by 25-80 % with it, although other
/// programs in the VM used under 0.07 of a core. The suite runs this probe before every target of
/// every run, so that a report says when the machine itself changed speed.
/// </summary>
public static partial class MachineSpeed
{
    private const int Length = 16_384;
    private const int Repetitions = 5;

    // The same input every time (a fixed xorshift sequence): the work must not change between probes.
    private static readonly int[] s_input = MakeInput();

    /// <summary>What the probe measures, as the report states it.</summary>
    public const string Work = "CPU time of the measuring thread to heapsort the same 16,384 pseudo-random ints, best of 5";

    /// <summary>Runs the probe: the CPU microseconds of the fixed work, or <c>null</c> where there is no thread CPU clock (off Linux).</summary>
    /// <returns>The best of five, in microseconds.</returns>
    public static double? ProbeMicroseconds()
    {
        if (!OperatingSystem.IsLinux() || LinuxClock.CurrentThreadCpuClock() is not (int clock and not -1))
        {
            return null;
        }
        int[] work = new int[Length];
        long best = long.MaxValue;
        // One more than counted: the first may run code the JIT has not optimized yet.
        for (int i = 0; i <= Repetitions; i++)
        {
            s_input.CopyTo(work, 0);
            if (!LinuxClock.TryReadNanos(clock, out long before))
            {
                return null;
            }
            HeapSort(work);
            LinuxClock.TryReadNanos(clock, out long after);
            if (i > 0)
            {
                best = Math.Min(best, after - before);
            }
        }
        return best / 1e3;
    }

    // Compiled optimized at once and never recompiled (AggressiveOptimization), with no calls out:
    // the runtime's Array.Sort went through the JIT's tiers while the suite ran (its instrumented
    // tier made every probe of a 3-run suite's second run 1,523-1,530 µs against 795-825 in the
    // first and third, in two suites of two targets), and the probe must time the machine, not
    // the JIT. A heapsort: the same comparisons and swaps for the same input, every time.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void HeapSort(int[] a)
    {
        int n = a.Length;
        for (int start = (n / 2) - 1, end = n; end > 1;)
        {
            int root;
            if (start >= 0)
            {
                root = start--;
            }
            else
            {
                end--;
                (a[0], a[end]) = (a[end], a[0]);
                root = 0;
            }
            // Sift the root down within a[0..end).
            while (true)
            {
                int child = (2 * root) + 1;
                if (child >= end)
                {
                    break;
                }
                if (child + 1 < end && a[child + 1] > a[child])
                {
                    child++;
                }
                if (a[root] >= a[child])
                {
                    break;
                }
                (a[root], a[child]) = (a[child], a[root]);
                root = child;
            }
        }
    }

    private static int[] MakeInput()
    {
        var values = new int[Length];
        uint x = 2463534242;
        for (int i = 0; i < values.Length; i++)
        {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            values[i] = (int)x;
        }
        return values;
    }
}

/// <summary>One <see cref="MachineSpeed"/> probe of a run: taken just before the target's turn in that run.</summary>
/// <param name="Target">The target measured next.</param>
/// <param name="Run">The run, from 1.</param>
/// <param name="Microseconds">The fixed work's CPU time.</param>
/// <param name="LoopbackMicroseconds">The loopback round trip (<see cref="MachineSpeed.LoopbackRoundTripMicroseconds"/>), or <c>null</c> when not taken.</param>
/// <param name="TransferMicroseconds">The CPU of a loopback send and receive, mean over the CPUs (<see cref="MachineSpeed.TransferMicroseconds"/>), or <c>null</c> when not taken.</param>
/// <param name="TransferByCpuMicroseconds">The same on each CPU, in CPU order (<see cref="MachineSpeed.TransferByCpu"/>), or <c>null</c> when not taken.</param>
public sealed record SpeedProbe(string Target, int Run, double Microseconds, double? LoopbackMicroseconds = null, double? TransferMicroseconds = null, IReadOnlyList<double?>? TransferByCpuMicroseconds = null)
{
    /// <summary>A probe from the suite's three measurements, taken now.</summary>
    /// <param name="target">The target measured next.</param>
    /// <param name="run">The run, from 1.</param>
    /// <returns>The probe, or <c>null</c> where there is no thread CPU clock (off Linux).</returns>
    public static SpeedProbe? Take(string target, int run)
    {
        if (MachineSpeed.ProbeMicroseconds() is not double cpu)
        {
            return null;
        }
        double? loopback = MachineSpeed.LoopbackRoundTripMicroseconds();
        IReadOnlyList<double?>? byCpu = MachineSpeed.TransferByCpu();
        return new SpeedProbe(target, run, cpu, loopback, MachineSpeed.MeanOverCpus(byCpu), byCpu);
    }

    /// <summary>One of the probe's figures, in microseconds.</summary>
    /// <param name="part">Which.</param>
    /// <returns>The figure, or <c>null</c> when that part was not taken.</returns>
    public double? Of(SpeedPart part) => part switch
    {
        SpeedPart.Loopback => LoopbackMicroseconds,
        SpeedPart.Transfer => TransferMicroseconds,
        _ => Microseconds,
    };
}

/// <summary>The parts of a <see cref="SpeedProbe"/>: what a host can slow separately.</summary>
public enum SpeedPart
{
    /// <summary>The heapsort's CPU time (<see cref="MachineSpeed.ProbeMicroseconds"/>): arithmetic and the caches.</summary>
    Cpu,

    /// <summary>The loopback round trip's wall time (<see cref="MachineSpeed.LoopbackRoundTripMicroseconds"/>): waking a thread on another CPU.</summary>
    Loopback,

    /// <summary>The CPU of a loopback send and receive (<see cref="MachineSpeed.TransferMicroseconds"/>): system calls and the kernel's TCP.</summary>
    Transfer,
}
