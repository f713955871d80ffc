namespace Rpyc.Bench;

/// <summary>
/// The order of targets in interleaved rounds: every target once per round, the order rotating by
/// one each round, so that no target always runs first (fresh machine) or last (after the others
/// have heated it), and a slow drift of the machine spreads over every target alike.
/// </summary>
public static class InterleavedSchedule
{
    /// <summary>The target indexes of one round.</summary>
    /// <param name="targetCount">How many targets.</param>
    /// <param name="round">The round, from 0.</param>
    /// <returns>A permutation of 0..targetCount-1: round r starts at target r mod n.</returns>
    /// <example><c>Order(3, 1)</c> is <c>[1, 2, 0]</c>.</example>
    public static int[] Order(int targetCount, int round)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(targetCount);
        ArgumentOutOfRangeException.ThrowIfNegative(round);
        return targetCount == 0 ? [] : Enumerable.Range(0, targetCount).Select(i => (i + round) % targetCount).ToArray();
    }
}
