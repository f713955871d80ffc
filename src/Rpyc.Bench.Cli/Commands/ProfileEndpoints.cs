using System.Globalization;
using System.Net;

namespace Rpyc.Bench.Cli.Commands;

// The [HOST:]PORT and HOST:PORT arguments of 'profile proxy' and 'profile run --via-proxy'.
internal static class ProfileEndpoints
{
    private const string ListenForm = "[HOST:]PORT, e.g. 18870, 127.0.0.1:18870 or [::1]:18870";
    private const string TargetForm = "HOST:PORT, e.g. 127.0.0.1:18861 or [::1]:18861";

    // [HOST:]PORT, where HOST is an IP address (IPv6 in brackets) or localhost; 127.0.0.1 when
    // omitted, or empty (':PORT'). Brackets say an IPv6 address was meant: '[]:5' is an error.
    public static bool TryParseListen(string value, out IPEndPoint endPoint, out string error)
    {
        endPoint = new IPEndPoint(IPAddress.Loopback, 0);
        error = "";
        string host = "";
        int number;
        if (value.AsSpan().ContainsAny(':', '[', ']'))
        {
            if (!HostPortText.TryParse(value, minPort: 0, allowEmptyHost: true, out host, out number, out string? problem))
            {
                error = $"'{value}' {problem}: give {ListenForm}.";
                return false;
            }
        }
        else if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out number) || number > IPEndPoint.MaxPort)
        {
            error = $"'{value}' is not [HOST:]PORT with PORT 0..65535 (0: any free port).";
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

    // HOST:PORT, HOST a name or an address (IPv6 in brackets).
    public static bool TryParseTarget(string value, out string host, out int port, out string error)
    {
        error = "";
        if (!HostPortText.TryParse(value, minPort: 1, allowEmptyHost: false, out host, out port, out string? problem))
        {
            error = $"'{value}' {problem}: give {TargetForm}.";
            return false;
        }
        return true;
    }
}
