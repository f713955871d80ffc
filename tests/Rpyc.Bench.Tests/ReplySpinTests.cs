using System.Diagnostics;
using System.Net.Sockets;

namespace Rpyc.Bench.Tests;

// The suite's raw TCP and HTTP clients wait for a reply as the RPyC client does: poll first, then
// block, and stop polling for a while after a poll that found nothing. Real sockets on 127.0.0.1.
public class ReplySpinTests
{
    [Fact]
    public void BeforeReceive_NothingArrives_SpinsOnceThenBacksOff()
    {
        (Socket a, Socket b) = LoopbackPair.Connect();
        using (a)
        using (b)
        {
            var spin = new ReplySpin(TimeSpan.FromMilliseconds(20));
            long start = Stopwatch.GetTimestamp();
            spin.BeforeReceive(b);
            Assert.True(Stopwatch.GetElapsedTime(start) >= TimeSpan.FromMilliseconds(20), "the first wait did not spin");

            start = Stopwatch.GetTimestamp();
            for (int i = 0; i < 16; i++)
            {
                spin.BeforeReceive(b);
            }
            // Sixteen spins would take 320 ms; backed off, they take none.
            Assert.True(Stopwatch.GetElapsedTime(start) < TimeSpan.FromMilliseconds(100), "the waits after an empty spin still spun");

            start = Stopwatch.GetTimestamp();
            spin.BeforeReceive(b);
            Assert.True(Stopwatch.GetElapsedTime(start) >= TimeSpan.FromMilliseconds(20), "the back-off did not end");
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
