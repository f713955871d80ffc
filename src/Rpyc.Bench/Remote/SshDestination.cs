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
        error = null;
        string rest = (text ?? "").Trim();
        string? user = null;
        int at = rest.LastIndexOf('@');
        if (at >= 0)
        {
            user = rest[..at];
            rest = rest[(at + 1)..];
        }
        string host = rest;
        string? portText = null;
        if (rest.StartsWith('['))
        {
            int close = rest.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || (close + 1 < rest.Length && rest[close + 1] != ':'))
            {
                error = $"Bad remote host '{text}': an IPv6 address goes in brackets, e.g. user@[::1]:22.";
                return false;
            }
            host = rest[1..close];
            portText = close + 1 < rest.Length ? rest[(close + 2)..] : null;
        }
        else if (rest.IndexOf(':', StringComparison.Ordinal) is int colon and >= 0)
        {
            if (rest.IndexOf(':', colon + 1) >= 0)
            {
                error = $"Bad remote host '{text}': put an IPv6 address in brackets, e.g. user@[::1]:22.";
                return false;
            }
            host = rest[..colon];
            portText = rest[(colon + 1)..];
        }
        int? port = null;
        if (portText is not null)
        {
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int p) || p is < 1 or > 65535)
            {
                error = $"Bad remote host '{text}': the port must be from 1 to 65535.";
                return false;
            }
            port = p;
        }
        if (host.Length == 0 || host.StartsWith('-') || host.Any(char.IsWhiteSpace) || (user is not null && (user.Length == 0 || user.StartsWith('-') || user.Any(char.IsWhiteSpace))))
        {
            error = $"Bad remote host '{text}': use [user@]host[:port].";
            return false;
        }
        destination = new SshDestination(user, host, port);
        return true;
    }

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
