using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Rpyc.Bench;

/// <summary>Where <c>ssh</c> logs in: <c>[user@]host[:port]</c> (an IPv6 address in brackets: <c>user@[::1]:2222</c>).</summary>
/// <param name="User">The login name, or <c>null</c> for ssh's default (the local user, or <c>~/.ssh/config</c>'s).</param>
/// <param name="Host">Host name, address or <c>~/.ssh/config</c> alias.</param>
/// <param name="Port">The SSH port, or <c>null</c> for ssh's default.</param>
public sealed record SshDestination(string? User, string Host, int? Port)
{
    /// <summary>Parses <c>[user@]host[:port]</c>.</summary>
    /// <param name="text">The text.</param>
    /// <param name="destination">The destination, when valid.</param>
    /// <param name="error">Why not, otherwise.</param>
    /// <returns>Whether it parsed.</returns>
    public static bool TryParse(string? text, [NotNullWhen(true)] out SshDestination? destination, [NotNullWhen(false)] out string? error)
    {
        destination = null;
        string rest = (text ?? "").Trim();
        string? user = null;
        int at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            user = rest[..at];
            rest = rest[(at + 1)..];
        }
        string host;
        int? port = null;
        if (rest.Contains(':', StringComparison.Ordinal) && !IsBracketedAlone(rest))
        {
            // With a port, the rule every HOST:PORT of the suite follows (HostPortText): brackets
            // balanced and around the whole host, an IPv6 host bracketed. Before, 'a]:5' was host 'a]'.
            if (!HostPortText.TryParse(rest, minPort: 1, allowEmptyHost: false, out host, out int p, out string? problem))
            {
                error = $"Bad remote host '{text}': '{rest}' {problem}; use [user@]host[:port], an IPv6 address in brackets (user@[::1]:22).";
                return false;
            }
            port = p;
        }
        else
        {
            host = IsBracketedAlone(rest) ? rest[1..^1] : rest;
            if (host.AsSpan().ContainsAny('[', ']'))
            {
                error = $"Bad remote host '{text}': brackets go around a whole IPv6 address, e.g. user@[::1]:22.";
                return false;
            }
        }
        if (host.Length == 0 || host.StartsWith('-') || host.Any(char.IsWhiteSpace) || (user is not null && (user.Length == 0 || user.StartsWith('-') || user.Any(char.IsWhiteSpace))))
        {
            error = $"Bad remote host '{text}': use [user@]host[:port].";
            return false;
        }
        error = null;
        destination = new SshDestination(user, host, port);
        return true;
    }

    // "[::1]" without a port: an address in brackets alone (HostPortText wants a port).
    private static bool IsBracketedAlone(string text) =>
        text.Length >= 2 && text[0] == '[' && text[^1] == ']' && text.IndexOf(']', StringComparison.Ordinal) == text.Length - 1;

    /// <summary>The <c>user@host</c> argument of ssh and the host part of scp's.</summary>
    public string Login => User is null ? Host : $"{User}@{Host}";

    /// <inheritdoc />
    public override string ToString()
    {
        string host = Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host;
        string login = User is null ? host : $"{User}@{host}";
        return Port is int p ? $"{login}:{p.ToString(CultureInfo.InvariantCulture)}" : login;
    }
}
