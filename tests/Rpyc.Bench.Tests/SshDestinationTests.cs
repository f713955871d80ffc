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
    [InlineData("a]:5")]
    [InlineData("a]")]
    [InlineData("[a")]
    [InlineData("a[b]:5")]
    [InlineData("[::1:5")]
    [InlineData("::1]:5")]
    [InlineData("[]")]
    [InlineData("[]:22")]
    [InlineData("::1")]
    [InlineData("host:")]
    [InlineData("host:0")]
    [InlineData("host:65536")]
    [InlineData("host:22x")]
    [InlineData("[::1]x")]
    [InlineData("")]
    [InlineData("@host")]
    [InlineData("-oProxyCommand=x")]
    [InlineData("me@-host")]
    [InlineData("my user@host")]
    public void Invalid_SaysWhy(string text)
    {
        Assert.False(SshDestination.TryParse(text, out SshDestination? destination, out string? error));
        Assert.Null(destination);
        Assert.StartsWith($"Bad remote host '{text}'", error, StringComparison.Ordinal);
    }
}
