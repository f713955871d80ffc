using System.Globalization;

namespace Rpyc.Profiling;

internal static class HostPort
{
    // HOST:PORT as an address and port are written: an IPv6 address in brackets ('::1:18861' reads
    // as an address without a port). Rpyc.Bench has its own (RemoteEndpoint.HostPort); it is not referenced here.
    public static string Format(string host, int port) =>
        string.Create(CultureInfo.InvariantCulture, $"{(host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host)}:{port}");
}
