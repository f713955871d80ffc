using Rpyc.Transport;

namespace Rpyc.Tests;

// The endpoint a connect or TLS handshake error names: an IPv6 address in brackets, as a URI and
// Python's socket error write it, so that '::1' and port 1 are not read as '::1:1'.
public class HostPortTests
{
    [Theory]
    [InlineData("::1", 18861, "[::1]:18861")]
    [InlineData("::", 1, "[::]:1")]
    [InlineData("fe80::1%2", 80, "[fe80::1%2]:80")]
    [InlineData("::ffff:127.0.0.1", 443, "[::ffff:127.0.0.1]:443")]
    [InlineData("[::1]", 18861, "[::1]:18861")]
    [InlineData("127.0.0.1", 18861, "127.0.0.1:18861")]
    [InlineData("localhost", 18861, "localhost:18861")]
    [InlineData("rpyc.example", 0, "rpyc.example:0")]
    public void Format_Host_BracketsAnIpv6AddressOnly(string host, int port, string expected) =>
        Assert.Equal(expected, HostPort.Format(host, port));
}
