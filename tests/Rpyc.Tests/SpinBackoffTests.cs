using Rpyc.Transport;

namespace Rpyc.Tests;

// When a receive spins before it blocks: the schedule itself, without sockets or clocks (the
// transports' use of it is covered by ReceiveSpinTests and the suite's ReplySpinTests).
public class SpinBackoffTests
{
    // The waits (0-based) that spin when every spin finds nothing.
    private static List<int> SpinningWaits(ref SpinBackoff backoff, int waits)
    {
        var spun = new List<int>();
        for (int i = 0; i < waits; i++)
        {
            if (backoff.ShouldSpin())
            {
                spun.Add(i);
                backoff.FoundNothing();
            }
        }
        return spun;
    }

    [Fact]
    public void EmptySpinsInARow_BackOffLonger_UpToFifteenWaits()
    {
        var backoff = default(SpinBackoff);
        // Back-offs of 0, 1, 3, 7, then 15 waits: an idle peer costs one spin per 16 waits.
        Assert.Equal([0, 1, 3, 7, 15, 31, 47, 63], SpinningWaits(ref backoff, 64));
    }

    [Fact]
    public void SpinThatFindsData_EndsTheBackOffRun()
    {
        var backoff = default(SpinBackoff);
        Assert.Equal([0, 1, 3, 7], SpinningWaits(ref backoff, 8));
        // Seven waits back off after the fourth empty spin (wait 7); the spin at wait 15 finds data.
        for (int i = 0; i < 7; i++)
        {
            Assert.False(backoff.ShouldSpin());
        }
        Assert.True(backoff.ShouldSpin());
        backoff.Found();
        // A late reply after that is one empty spin, not the fifth in a row: the next wait spins.
        Assert.True(backoff.ShouldSpin());
        backoff.FoundNothing();
        Assert.True(backoff.ShouldSpin());
    }

    [Fact]
    public void SpinsThatFindData_NeverBackOff()
    {
        var backoff = default(SpinBackoff);
        for (int i = 0; i < 100; i++)
        {
            Assert.True(backoff.ShouldSpin());
            backoff.Found();
        }
    }
}
