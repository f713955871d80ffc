namespace Rpyc.Bench.Tests;

public class NetworkProfileTests
{
    [Theory]
    [InlineData("lan", 200, 1_000_000_000L)]
    [InlineData("LAN", 200, 1_000_000_000L)]
    [InlineData("region", 10_000, 1_000_000_000L)]
    [InlineData("wan", 40_000, 100_000_000L)]
    public void Parse_NamedProfile_HasItsRttAndRate(string text, int rttMicros, long rate)
    {
        NetworkProfile p = NetworkProfile.Parse(text);
        Assert.Equal(TimeSpan.FromMicroseconds(rttMicros), p.RoundTrip);
        Assert.Equal(rate, p.RateBitsPerSecond);
        Assert.Equal(TimeSpan.Zero, p.Jitter);
        Assert.False(p.IsLoopback);
        Assert.Equal(text.ToLowerInvariant(), p.Name);
    }

    [Fact]
    public void Parse_Loopback_IsNoRelay()
    {
        NetworkProfile p = NetworkProfile.Parse("loopback");
        Assert.True(p.IsLoopback);
        Assert.Same(NetworkProfile.Loopback, p);
        Assert.Equal("loopback", p.Spec);
    }

    [Fact]
    public void Parse_Custom_ReadsEveryPart()
    {
        NetworkProfile p = NetworkProfile.Parse("rtt=1ms,jitter=0.05ms,rate=100mbit");
        Assert.Equal(TimeSpan.FromMilliseconds(1), p.RoundTrip);
        Assert.Equal(TimeSpan.FromMicroseconds(500), p.OneWayDelay);
        Assert.Equal(TimeSpan.FromMicroseconds(50), p.Jitter);
        Assert.Equal(100_000_000L, p.RateBitsPerSecond);
        Assert.Equal("rtt=1ms,jitter=50us,rate=100mbit", p.Name);
        Assert.Equal(p, NetworkProfile.Parse(p.Spec));
    }

    [Theory]
    [InlineData("rtt=250us", 250e-6)]
    [InlineData("rtt=0.2ms", 200e-6)]
    [InlineData("rtt=1.5s", 1.5)]
    [InlineData("rtt=0", 0)]
    [InlineData(" rtt = 3MS ", 3e-3)]
    public void Parse_TimeUnits_Convert(string text, double seconds)
    {
        Assert.Equal(seconds, NetworkProfile.Parse(text).RoundTrip.TotalSeconds, 9);
    }

    [Theory]
    [InlineData("rate=64kbit", 64_000L)]
    [InlineData("rate=2.5mbit", 2_500_000L)]
    [InlineData("rate=10gbit", 10_000_000_000L)]
    public void Parse_RateUnits_AreDecimal(string text, long bits)
    {
        NetworkProfile p = NetworkProfile.Parse(text);
        Assert.Equal(bits, p.RateBitsPerSecond);
        Assert.Equal(TimeSpan.Zero, p.RoundTrip);
    }

    [Fact]
    public void Parse_NamedWithOverride_KeepsTheRest()
    {
        NetworkProfile p = NetworkProfile.Parse("wan,rate=none,jitter=1ms");
        Assert.Equal(TimeSpan.FromMilliseconds(40), p.RoundTrip);
        Assert.Null(p.RateBitsPerSecond);
        Assert.Equal(TimeSpan.FromMilliseconds(1), p.Jitter);
        Assert.Equal("rtt=40ms,jitter=1ms", p.Name);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("moon", "Unknown network profile 'moon'")]
    [InlineData("rtt=1", "needs a unit")]
    [InlineData("rtt=1min", "Unknown time unit 'min'")]
    [InlineData("rtt=-1ms", "negative")]
    [InlineData("rtt=abc", "not a number")]
    [InlineData("rtt=1ms,rtt=2ms", "appears twice")]
    [InlineData("delay=1ms", "Unknown network profile key 'delay'")]
    [InlineData("rtt=1ms,lan", "not key=value")]
    [InlineData("rate=100", "needs a unit")]
    [InlineData("rate=100mbps", "Unknown rate unit 'mbps'")]
    [InlineData("rate=0.5kbit", "below the minimum")]
    [InlineData("rtt=1ms,jitter=1ms", "exceeds half the round trip")]
    [InlineData("loopback,rtt=1ms", "overrides loopback")]
    [InlineData("rtt=2h", "Unknown time unit")]
    public void Parse_BadInput_SaysWhy(string text, string expected)
    {
        FormatException e = Assert.Throws<FormatException>(() => NetworkProfile.Parse(text));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.False(NetworkProfile.TryParse(text, out _, out string? error));
        Assert.Equal(e.Message, error);
    }
}
