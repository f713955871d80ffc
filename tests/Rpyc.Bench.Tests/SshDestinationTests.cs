namespace Rpyc.Bench.Tests;

// --remote-host's [user@]host[:port]: what ssh and scp are given comes from here, so a loose reading
// would log in somewhere else than the user wrote.
public sealed class SshDestinationTests
{
    [Theory]
    [InlineData("bench", null, "bench", null, "bench")]
    [InlineData("bench@10.0.0.2", "bench", "10.0.0.2", null, "bench@10.0.0.2")]
    [InlineData("bench@10.0.0.2:2222", "bench", "10.0.0.2", 2222, "bench@10.0.0.2:2222")]
    [InlineData("[::1]", null, "::1", null, "[::1]")]
    [InlineData("me@[::1]:22", "me", "::1", 22, "me@[::1]:22")]
    [InlineData("  alias  ", null, "alias", null, "alias")]
    [InlineData("a@b@host:7", "a@b", "host", 7, "a@b@host:7")]
    public void Valid_Parts(string text, string? user, string host, int? port, string shown)
    {
        Assert.True(SshDestination.TryParse(text, out SshDestination? destination, out string? error), error);
        Assert.Equal(new SshDestination(user, host, port), destination);
        Assert.Equal(shown, destination.ToString());
    }

    [Theory]
    [InlineData("a]:5", "unbalanced brackets")]
    [InlineData("a]", "brackets go around a whole IPv6 address")]
    [InlineData("[a", "brackets go around a whole IPv6 address")]
    [InlineData("a[b]:5", "brackets that do not enclose the whole host")]
    [InlineData("[::1:5", "unbalanced brackets")]
    [InlineData("::1]:5", "unbalanced brackets")]
    [InlineData("[]", "use [user@]host[:port]")]
    [InlineData("[]:22", "empty host in brackets")]
    [InlineData("::1", "needs brackets around its IPv6 host")]
    [InlineData("host:", "has no port")]
    [InlineData("host:0", "not one of 1..65535")]
    [InlineData("host:65536", "not one of 1..65535")]
    [InlineData("host:22x", "not one of 1..65535")]
    [InlineData("[::1]x", "brackets that do not enclose the whole host")]
    [InlineData("", "use [user@]host[:port]")]
    [InlineData("@host", "use [user@]host[:port]")]
    [InlineData("-oProxyCommand=x", "use [user@]host[:port]")]
    [InlineData("me@-host", "use [user@]host[:port]")]
    [InlineData("my user@host", "use [user@]host[:port]")]
    public void Invalid_SaysWhy(string text, string why)
    {
        Assert.False(SshDestination.TryParse(text, out SshDestination? destination, out string? error));
        Assert.Null(destination);
        Assert.StartsWith($"Bad remote host '{text}'", error, StringComparison.Ordinal);
        Assert.Contains(why, error, StringComparison.Ordinal);
    }
}
