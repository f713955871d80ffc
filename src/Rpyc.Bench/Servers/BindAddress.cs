using System.Net;
using System.Net.Sockets;

namespace Rpyc.Bench;

// The address a .NET server the suite serves binds, from the --host text: one rule for every
// target, as RpycServer resolves its own (localhost is loopback; a name resolves to its first
// IPv4 or IPv6 address), so a host one target accepts no other refuses with a stack trace.
internal static class BindAddress
{
    /// <exception cref="SocketException">The name does not resolve.</exception>
    public static IPAddress Resolve(string host) =>
        host == "localhost" ? IPAddress.Loopback
        : IPAddress.TryParse(host, out IPAddress? parsed) ? parsed
        : Dns.GetHostAddresses(host).FirstOrDefault(a => a.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
            ?? throw new SocketException((int)SocketError.HostNotFound);
}
