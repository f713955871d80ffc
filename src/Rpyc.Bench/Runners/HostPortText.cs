using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Rpyc.Bench;

// HOST:PORT or [HOST]:PORT as the options and reports write it, read by one rule for all. Brackets
// are balanced and enclose the whole host, never empty ('[::1:5' and '::1]:5' were read as host
// '::1' once their brackets were trimmed loosely); an IPv6 host is bracketed, or '::1:5' would read
// as host '::1', port 5, though it is also an address of its own. The host comes back unbracketed.
internal static class HostPortText
{
    // 'problem' completes a sentence that starts with the quoted value, e.g. "'[::1:5' has unbalanced
    // brackets"; the caller adds the form it expects.
    public static bool TryParse(string text, int minPort, bool allowEmptyHost, out string host, out int port, [NotNullWhen(false)] out string? problem)
    {
        host = "";
        port = 0;
        string portText;
        if (text.StartsWith('['))
        {
            int close = text.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || text.AsSpan(1, close - 1).Contains('[') || text.AsSpan(close + 1).ContainsAny('[', ']'))
            {
                problem = "has unbalanced brackets";
                return false;
            }
            host = text[1..close];
            if (host.Length == 0)
            {
                problem = "has an empty host in brackets";
                return false;
            }
            if (close + 1 == text.Length)
            {
                problem = "has no port";
                return false;
            }
            if (text[close + 1] != ':')
            {
                problem = "has brackets that do not enclose the whole host";
                return false;
            }
            portText = text[(close + 2)..];
        }
        else
        {
            if (text.Contains('[', StringComparison.Ordinal) != text.Contains(']', StringComparison.Ordinal))
            {
                problem = "has unbalanced brackets";
                return false;
            }
            if (text.Contains('[', StringComparison.Ordinal))
            {
                problem = "has brackets that do not enclose the whole host";
                return false;
            }
            int colon = text.LastIndexOf(':');
            if (colon < 0)
            {
                problem = "has no port";
                return false;
            }
            host = text[..colon];
            if (host.Contains(':', StringComparison.Ordinal))
            {
                problem = $"needs brackets around its IPv6 host when a port follows, as in [{host}]:{text[(colon + 1)..]}";
                return false;
            }
            if (host.Length == 0 && !allowEmptyHost)
            {
                problem = "has no host";
                return false;
            }
            portText = text[(colon + 1)..];
        }
        if (portText.Length == 0)
        {
            problem = "has no port";
            return false;
        }
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port < minPort || port > 65535)
        {
            problem = $"has port '{portText}', not one of {minPort}..65535";
            return false;
        }
        problem = null;
        return true;
    }
}
