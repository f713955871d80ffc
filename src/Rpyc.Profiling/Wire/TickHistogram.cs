using System.Numerics;

namespace Rpyc.Profiling.Wire;

/// <summary>
/// Durations in Stopwatch ticks, however many, in a fixed table: the count, sum and max are exact;
/// a value at a rank is the middle of the bucket holding it, within 1/64 (1.6 %) of the value itself
/// (exact below 64 ticks). A relay left running counts every round trip without keeping any.
/// </summary>
/// <remarks>
/// Written here rather than taken from HdrHistogram (which Rpyc.Bench uses): Rpyc.Profiling is a
/// library applications reference, with no dependency but Rpyc, and one median per relay does not
/// justify handing them a package; these ~60 lines are the part of it this needs.
/// </remarks>
internal sealed class TickHistogram
{
    // 32 buckets per power of two: a bucket from 32·2^s is 2^s wide, its middle within 2^(s-1) of any value in it.
    private const int SubBucketBits = 5;
    private const int SubBuckets = 1 << SubBucketBits;

    /// <summary>The largest error of <see cref="ValueAtRank"/>, relative to the value it stands for.</summary>
    public const double Resolution = 1.0 / (2 * SubBuckets);

    // Index of long.MaxValue (shift 57, mantissa 63) + 1: 1,888 counters, 15 KB.
    private readonly long[] _counts = new long[BucketOf(long.MaxValue) + 1];

    public long Count { get; private set; }

    public long Sum { get; private set; }

    public long Max { get; private set; }

    public void Add(long ticks)
    {
        ticks = Math.Max(0, ticks);
        _counts[BucketOf(ticks)]++;
        Count++;
        Sum += ticks;
        Max = Math.Max(Max, ticks);
    }

    /// <summary>The value at a zero-based rank in ascending order (<c>(Count - 1) / 2</c>: the lower median), or 0 when empty.</summary>
    public long ValueAtRank(long rank)
    {
        if (Count == 0)
        {
            return 0;
        }
        rank = Math.Clamp(rank, 0, Count - 1);
        long seen = 0;
        for (int bucket = 0; bucket < _counts.Length; bucket++)
        {
            seen += _counts[bucket];
            if (seen > rank)
            {
                (long low, long width) = Bounds(bucket);
                // Never past the exact max: the top bucket holds it, maybe well below its middle.
                return Math.Min(low + (width / 2), Max);
            }
        }
        return Max;
    }

    // Values below 64 have a bucket each; from 64 up, the top 6 bits (leading 1 and 5 more) pick it.
    internal static int BucketOf(long ticks)
    {
        int shift = Math.Max(0, 63 - BitOperations.LeadingZeroCount((ulong)ticks) - SubBucketBits);
        return (shift * SubBuckets) + (int)(ticks >> shift);
    }

    internal static (long Low, long Width) Bounds(int bucket)
    {
        int shift = Math.Max(0, (bucket / SubBuckets) - 1);
        long mantissa = bucket - (shift * SubBuckets);
        return (mantissa << shift, 1L << shift);
    }
}
