using System.Globalization;
using System.Net;

namespace Rpyc.Bench.Cli.Commands;

// The [HOST:]PORT and HOST:PORT arguments of 'profile proxy' and 'profile run --via-proxy'.
internal static class ProfileEndpoints
{
    // [HOST:]PORT, where HOST is an IP address (IPv6 in brackets) or localhost; 127.0.0.1 when omitted.
    public static bool TryParseListen(string value, out IPEndPoint endPoint, out string error)
    {
        endPoint = new IPEndPoint(IPAddress.Loopback, 0);
        error = "";
        string host = "127.0.0.1";
        string port = value;
        int colon = value.LastIndexOf(':');
        if (colon >= 0)
        {
            host = value[..colon].Trim('[', ']');
            port = value[(colon + 1)..];
        }
        if (!TryParsePort(port, allowZero: true, out int number))
        {
            error = $"'{value}' is not [HOST:]PORT with PORT 0..65535 (0: any free port).";
            return false;
        }
        // Brackets say an IPv6 address was meant and then left out: not loopback, as ':PORT' is.
        if (host.Length == 0 && value[..colon].Contains('[', StringComparison.Ordinal))
        {
            error = $"'{value}' has an empty host in brackets: give [HOST:]PORT, e.g. 18870, 127.0.0.1:18870 or [::1]:18870.";
            return false;
        }
        IPAddress? address = host is "localhost" or "" ? IPAddress.Loopback : IPAddress.TryParse(host, out IPAddress? parsed) ? parsed : null;
        if (address is null)
        {
            error = $"'{host}' in '{value}' is not an IP address to listen on (e.g. 127.0.0.1, 0.0.0.0 or [::1]).";
            return false;
        }
        endPoint = new IPEndPoint(address, number);
        return true;
    }

    // HOST:PORT, HOST a name or an address.
    public static bool TryParseTarget(string value, out string host, out int port, out string error)
    {
        host = "";
        port = 0;
        error = "";
        int colon = value.LastIndexOf(':');
        if (colon <= 0 || !TryParsePort(value[(colon + 1)..], allowZero: false, out port))
        {
            error = $"'{value}' is not HOST:PORT with PORT 1..65535 (e.g. 127.0.0.1:18861).";
            return false;
        }
        host = value[..colon].Trim('[', ']');
        if (host.Length == 0)
        {
            error = $"'{value}' has an empty host in brackets: give HOST:PORT, e.g. 127.0.0.1:18861 or [::1]:18861.";
            return false;
        }
        return true;
    }

    private static bool TryParsePort(string text, bool allowZero, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && port <= IPEndPoint.MaxPort && (allowZero || port > 0);
}
