using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Rpyc.Transport;

// host:port as a message or a peer name prints it: an IPv6 address in brackets, as a URI writes
// it, or '::1' and port 1 read '::1:1', another address. A host already bracketed is kept.
internal static class HostPort
{
    public static string Format(string host, int port) =>
        !host.StartsWith('[') && IPAddress.TryParse(host, out IPAddress? address) && address.AddressFamily == AddressFamily.InterNetworkV6
            ? string.Create(CultureInfo.InvariantCulture, $"[{host}]:{port}")
            : string.Create(CultureInfo.InvariantCulture, $"{host}:{port}");
}
