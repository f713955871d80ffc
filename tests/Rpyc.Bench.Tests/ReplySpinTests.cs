using System.Diagnostics;
using System.Net.Sockets;

namespace Rpyc.Bench.Tests;

// The suite's raw TCP and HTTP clients wait for a reply as the RPyC client does: poll first, then
// block, and stop polling for a while after a poll that found nothing. Real sockets on 127.0.0.1.
public class ReplySpinTests
{
    [Fact]
    public void BeforeReceive_NothingArrives_BacksOffLongerAfterEachEmptySpin()
    {
        (Socket a, Socket b) = LoopbackPair.Connect();
        using (a)
        using (b)
        {
            var spin = new ReplySpin(TimeSpan.FromMilliseconds(20));
            var spun = new List<int>();
            TimeSpan backedOff = TimeSpan.Zero;
            for (int i = 0; i < 8; i++)
            {
                long start = Stopwatch.GetTimestamp();
                spin.BeforeReceive(b);
                TimeSpan took = Stopwatch.GetElapsedTime(start);
                if (took >= TimeSpan.FromMilliseconds(20))
                {
                    spun.Add(i);
                }
                else
                {
                    backedOff += took;
                }
            }
            // One empty spin (a late reply) does not stop the next wait spinning; then 1 and 3 waits
            // block at once (SpinBackoff).
            Assert.Equal([0, 1, 3, 7], spun);
            // Four spins would take 80 ms; backed off, they take none.
            Assert.True(backedOff < TimeSpan.FromMilliseconds(40), $"the backed-off waits took {backedOff.TotalMilliseconds} ms");
        }
    }

    [Fact]
    public void BeforeReceive_DataThere_ReturnsAtOnce()
    {
        (Socket a, Socket b) = LoopbackPair.Connect();
        using (a)
        using (b)
        {
            a.Send(new byte[] { 42 });
            var spin = new ReplySpin(TimeSpan.FromSeconds(1));
            SpinWait.SpinUntil(() => b.Available > 0, TimeSpan.FromSeconds(5));
            long start = Stopwatch.GetTimestamp();
            spin.BeforeReceive(b);
            Assert.True(Stopwatch.GetElapsedTime(start) < TimeSpan.FromMilliseconds(500));
            Assert.Equal(1, b.Receive(new byte[4]));
        }
    }
}
