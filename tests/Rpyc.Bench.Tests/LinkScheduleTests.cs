namespace Rpyc.Bench.Tests;

public class LinkScheduleTests
{
    private const long Ns = 1_000_000_000;

    [Fact]
    public void Schedule_DelayOnly_IsArrivalPlusHalfRtt()
    {
        var link = new LinkSchedule(NetworkProfile.Parse("rtt=2ms"), Ns);
        Assert.Equal(1_000_000, link.Schedule(0, 100));
        Assert.Equal(6_000_000, link.Schedule(5_000_000, 65536));
    }

    [Fact]
    public void Schedule_Compensation_ShortensTheDelayButNeverBelowArrival()
    {
        var link = new LinkSchedule(NetworkProfile.Parse("rtt=200us"), Ns, compensation: TimeSpan.FromMicroseconds(15));
        Assert.Equal(85_000, link.Schedule(0, 100));
        var tiny = new LinkSchedule(NetworkProfile.Parse("rtt=10us"), Ns, compensation: TimeSpan.FromMicroseconds(15));
        Assert.Equal(1_000, tiny.Schedule(1_000, 100));
    }

    [Fact]
    public void Schedule_OneMebibyteAt100Mbit_LastChunkDueAfter84ms()
    {
        var link = new LinkSchedule(NetworkProfile.Parse("rate=100mbit"), Ns);
        long due = 0;
        for (int i = 0; i < 256; i++)
        {
            due = link.Schedule(0, 4096);
        }
        Assert.Equal((1 << 20) * 8 * 10, due);  // 10 ns per bit: 83.886 ms
    }

    [Fact]
    public void Schedule_IdleLinkWithBurst_BanksOnlyTheBurst()
    {
        var link = new LinkSchedule(NetworkProfile.Parse("rate=8mbit"), Ns, burstBytes: 1000);  // 1 us per byte
        Assert.Equal(10_000_000, link.Schedule(10_000_000, 1000));  // the full bucket sends at once
        Assert.Equal(11_000_000, link.Schedule(10_000_000, 1000));  // then paced at the rate
        Assert.Equal(20_000_000, link.Schedule(20_000_000, 1000));  // idle: the bucket refilled
        Assert.Equal(20_500_000, link.Schedule(20_000_000, 500));
        Assert.Equal(102_000_000, link.Schedule(100_000_000, 3000));  // a long idle spell still banks 1000 bytes only
    }

    [Fact]
    public void Schedule_Jitter_SpreadsDelaysButNeverReorders()
    {
        var link = new LinkSchedule(NetworkProfile.Parse("rtt=2ms,jitter=1ms"), Ns, random: new Random(42));
        long previous = long.MinValue;
        int early = 0;
        int held = 0;
        for (long i = 0; i < 10_000; i++)
        {
            long arrival = i * 10_000;
            long due = link.Schedule(arrival, 100);
            Assert.True(due >= previous, $"chunk {i} due {due} before chunk {i - 1} at {previous}");
            Assert.InRange(due - arrival, 0, 2_000_000);
            early += due - arrival < 500_000 ? 1 : 0;
            held += due == previous ? 1 : 0;
            previous = due;
        }
        Assert.True(early > 0, "no chunk drew a short delay: the jitter is not applied");
        Assert.True(held > 0, "no chunk was held behind a later-drawn predecessor");
    }
}
