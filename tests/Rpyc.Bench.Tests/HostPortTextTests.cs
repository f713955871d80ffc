namespace Rpyc.Bench.Tests;

// HOST:PORT as --endpoint, profile's --target, --via-proxy and --listen, and a report's endpoint
// give it: brackets were trimmed loosely, so '[::1:5' and '::1]:5' passed as host '::1'.
public sealed class HostPortTextTests
{
    [Theory]
    [InlineData("127.0.0.1:18812", "127.0.0.1", 18812)]
    [InlineData("server.example:1", "server.example", 1)]
    [InlineData("[::1]:18812", "::1", 18812)]
    [InlineData("[fe80::1%eth0]:65535", "fe80::1%eth0", 65535)]
    [InlineData("[10.0.0.2]:5", "10.0.0.2", 5)]
    public void TryParse_GoodForms_HostUnbracketedAndPort(string text, string host, int port)
    {
        Assert.True(HostPortText.TryParse(text, minPort: 1, allowEmptyHost: false, out string h, out int p, out string? problem), problem);
        Assert.Equal((host, port), (h, p));
    }

    [Theory]
    [InlineData("[::1:5", "has unbalanced brackets")]
    [InlineData("::1]:5", "has unbalanced brackets")]
    [InlineData("[[::1]:5", "has unbalanced brackets")]
    [InlineData("[::1]]:5", "has unbalanced brackets")]
    [InlineData("[::1]:5]", "has unbalanced brackets")]
    [InlineData("[]:5", "has an empty host in brackets")]
    [InlineData("[::1]x:5", "has brackets that do not enclose the whole host")]
    [InlineData("a[::1]:5", "has brackets that do not enclose the whole host")]
    [InlineData("::1:5", "needs brackets around its IPv6 host when a port follows, as in [::1]:5")]
    [InlineData("[::1]", "has no port")]
    [InlineData("[::1]:", "has no port")]
    [InlineData("host", "has no port")]
    [InlineData("host:", "has no port")]
    [InlineData(":5", "has no host")]
    [InlineData("host:0", "has port '0', not one of 1..65535")]
    [InlineData("host:65536", "has port '65536', not one of 1..65535")]
    [InlineData("host:+5", "has port '+5', not one of 1..65535")]
    [InlineData("[::1]:x", "has port 'x', not one of 1..65535")]
    public void TryParse_BadForms_ProblemSaysWhy(string text, string expected)
    {
        Assert.False(HostPortText.TryParse(text, minPort: 1, allowEmptyHost: false, out _, out _, out string? problem));
        Assert.Equal(expected, problem);
    }

    // A listen address: ':PORT' is loopback by design, and port 0 any free one.
    [Fact]
    public void TryParse_EmptyHostAndPortZeroAllowed_Accepted()
    {
        Assert.True(HostPortText.TryParse(":0", minPort: 0, allowEmptyHost: true, out string host, out int port, out _));
        Assert.Equal(("", 0), (host, port));
        Assert.False(HostPortText.TryParse("[]:0", minPort: 0, allowEmptyHost: true, out _, out _, out string? problem));
        Assert.Equal("has an empty host in brackets", problem);
    }

    [Theory]
    [InlineData("tcp_raw=[::1:5", "Bad endpoint 'tcp_raw=[::1:5': '[::1:5' has unbalanced brackets; use NAME=HOST:PORT")]
    [InlineData("tcp_raw=::1]:5", "Bad endpoint 'tcp_raw=::1]:5': '::1]:5' has unbalanced brackets; use NAME=HOST:PORT")]
    [InlineData("tcp_raw=[]:5", "Bad endpoint 'tcp_raw=[]:5': '[]:5' has an empty host in brackets; use NAME=HOST:PORT")]
    public void RemoteEndpointTryParse_UnbalancedOrEmptyBrackets_Refused(string text, string expected)
    {
        Assert.False(RemoteEndpoint.TryParse(text, out _, out string? error));
        Assert.StartsWith(expected, error, StringComparison.Ordinal);
    }
}
