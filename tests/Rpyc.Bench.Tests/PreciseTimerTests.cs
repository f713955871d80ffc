namespace Rpyc.Bench.Tests;

public class PreciseTimerTests
{
    [Fact]
    public void WaitUntil_Adaptive_NeverReturnsEarlyAndKeepsTheSpinInBounds()
    {
        PreciseTimer.TightenTimerSlack();
        var timer = new PreciseTimer(spinMargin: null);
        long step = PreciseTimer.TicksPerSecond / 5000;  // 200 us
        for (int i = 0; i < 200; i++)
        {
            long deadline = PreciseTimer.Now + step;
            Assert.True(timer.WaitUntil(deadline, () => false));
            Assert.True(PreciseTimer.Now >= deadline);
        }
        Assert.InRange(timer.SpinMargin, TimeSpan.FromMicroseconds(10), TimeSpan.FromMicroseconds(300));
    }

    [Fact]
    public void WaitUntil_Cancelled_ReturnsFalseWithinASlice()
    {
        var timer = new PreciseTimer(TimeSpan.FromMicroseconds(20));
        long start = PreciseTimer.Now;
        // A deadline an hour away: the 50 ms slices see the cancellation on the second check.
        int checks = 0;
        Assert.False(timer.WaitUntil(start + 3600 * PreciseTimer.TicksPerSecond, () => ++checks > 1));
        Assert.Equal(2, checks);
    }
}
