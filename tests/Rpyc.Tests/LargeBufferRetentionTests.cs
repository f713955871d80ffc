using Rpyc.Channel;

namespace Rpyc.Tests;

/// <summary>The rule shared by the send buffers and the receive segments for giving back a large buffer.</summary>
public class LargeBufferRetentionTests
{
    private const long Limit = 8 * 1024 * 1024;

    [Fact]
    public void ShouldShrink_LargeBufferAfterFourSmallMessagesInARow_OnlyThen()
    {
        var rule = new LargeBufferRetention();

        for (int i = 1; i < LargeBufferRetention.SmallMessagesBeforeShrink; i++)
        {
            Assert.False(rule.ShouldShrink(64 * 1024 * 1024, 100, Limit));
        }
        Assert.True(rule.ShouldShrink(64 * 1024 * 1024, 100, Limit));
    }

    [Fact]
    public void ShouldShrink_AMessageUsingAQuarterOrABufferWithinTheLimit_StartsTheCountAgain()
    {
        var rule = new LargeBufferRetention();
        Assert.False(rule.ShouldShrink(64 * 1024 * 1024, 100, Limit));
        Assert.False(rule.ShouldShrink(64 * 1024 * 1024, 100, Limit));
        Assert.False(rule.ShouldShrink(64 * 1024 * 1024, 16 * 1024 * 1024, Limit));
        for (int i = 1; i < LargeBufferRetention.SmallMessagesBeforeShrink; i++)
        {
            Assert.False(rule.ShouldShrink(64 * 1024 * 1024, 100, Limit));
        }

        // Never for a buffer within the limit, however small the messages.
        for (int i = 0; i < 10; i++)
        {
            Assert.False(rule.ShouldShrink(Limit, 1, Limit));
        }
    }
}
