using System.Globalization;
using System.Text;

namespace Rpyc.Bench;

/// <summary>
/// The network put between client and server: a round-trip time, a jitter and a rate limit per
/// direction. <see cref="Loopback"/> means no network at all (no relay); every other profile is
/// played by a <see cref="DelayRelay"/>.
/// </summary>
/// <example>
/// <code>
/// NetworkProfile wan = NetworkProfile.Parse("wan");                          // 40 ms, 100 Mbit/s
/// NetworkProfile custom = NetworkProfile.Parse("rtt=1ms,jitter=0.05ms,rate=100mbit");
/// NetworkProfile slowLan = NetworkProfile.Parse("lan,rate=10mbit");          // a named profile, overridden
/// </code>
/// </example>
public sealed record NetworkProfile
{
    private static readonly string[] s_keys = ["rtt", "jitter", "rate"];

    /// <summary>No network: client and server talk over loopback directly, without a relay.</summary>
    public static NetworkProfile Loopback { get; } = new() { Name = "loopback", IsLoopback = true };

    /// <summary>A local network: 0.2 ms round trip, 1 Gbit/s.</summary>
    public static NetworkProfile Lan { get; } = Named("lan", TimeSpan.FromMicroseconds(200), 1_000_000_000);

    /// <summary>Across a cloud region: 10 ms round trip, 1 Gbit/s.</summary>
    public static NetworkProfile Region { get; } = Named("region", TimeSpan.FromMilliseconds(10), 1_000_000_000);

    /// <summary>A wide-area link: 40 ms round trip, 100 Mbit/s.</summary>
    public static NetworkProfile Wan { get; } = Named("wan", TimeSpan.FromMilliseconds(40), 100_000_000);

    /// <summary>The named profiles <see cref="Parse"/> accepts, in order.</summary>
    public static IReadOnlyList<NetworkProfile> NamedProfiles { get; } = [Loopback, Lan, Region, Wan];

    /// <summary>The profile's name (<c>lan</c>, ...) or, for a custom profile, its canonical spec.</summary>
    public string Name { get; init; } = "";

    /// <summary>Whether this is <see cref="Loopback"/>: no relay, every other property zero.</summary>
    public bool IsLoopback { get; init; }

    /// <summary>The round-trip time the relay adds: each direction is delayed by half of it.</summary>
    public TimeSpan RoundTrip { get; init; }

    /// <summary>
    /// The jitter: each chunk's one-way delay is drawn uniformly from
    /// <c>[RoundTrip/2 - Jitter, RoundTrip/2 + Jitter]</c> (never below zero). Jitter never reorders
    /// bytes: a chunk is delivered no earlier than the one before it.
    /// </summary>
    public TimeSpan Jitter { get; init; }

    /// <summary>The rate limit of each direction in bits per second, or <c>null</c> for none.</summary>
    public long? RateBitsPerSecond { get; init; }

    /// <summary>Half the round trip: the delay of each direction before jitter.</summary>
    public TimeSpan OneWayDelay => RoundTrip / 2;

    /// <summary>The canonical spec: <c>loopback</c>, or <c>rtt=..,jitter=..,rate=..</c> (zero parts left out).</summary>
    public string Spec
    {
        get
        {
            if (IsLoopback)
            {
                return "loopback";
            }
            var sb = new StringBuilder("rtt=").Append(FormatTime(RoundTrip));
            if (Jitter > TimeSpan.Zero)
            {
                sb.Append(",jitter=").Append(FormatTime(Jitter));
            }
            if (RateBitsPerSecond is long rate)
            {
                sb.Append(",rate=").Append(FormatRate(rate));
            }
            return sb.ToString();
        }
    }

    /// <summary>Returns <see cref="Name"/>, plus the <see cref="Spec"/> when the two differ.</summary>
    /// <returns>For example <c>lan (rtt=200us,rate=1gbit)</c>.</returns>
    public override string ToString() => Name == Spec || IsLoopback ? Name : $"{Name} ({Spec})";

    /// <summary>
    /// Parses a profile: a name (<c>loopback</c>, <c>lan</c>, <c>region</c>, <c>wan</c>), a list of
    /// <c>key=value</c> parts (<c>rtt</c>, <c>jitter</c> with units <c>us</c>, <c>ms</c>, <c>s</c>;
    /// <c>rate</c> with units <c>kbit</c>, <c>mbit</c>, <c>gbit</c>, or <c>none</c>), or a name followed by
    /// parts that override it (<c>wan,rate=10mbit</c>). Names and units are case-insensitive;
    /// missing parts are zero (no rate limit).
    /// </summary>
    /// <param name="text">The profile text.</param>
    /// <returns>The profile.</returns>
    /// <exception cref="FormatException">The text is not a valid profile; the message says why.</exception>
    public static NetworkProfile Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.All(p => p.Length == 0))
        {
            throw new FormatException("The network profile is empty: use loopback, lan, region, wan or rtt=1ms,jitter=0.05ms,rate=100mbit.");
        }
        NetworkProfile? named = null;
        int first = 0;
        if (!parts[0].Contains('=', StringComparison.Ordinal))
        {
            named = NamedProfiles.FirstOrDefault(p => string.Equals(p.Name, parts[0], StringComparison.OrdinalIgnoreCase))
                ?? throw new FormatException($"Unknown network profile '{parts[0]}': use loopback, lan, region, wan or key=value parts such as rtt=1ms,jitter=0.05ms,rate=100mbit.");
            first = 1;
            if (named.IsLoopback && parts.Length > 1)
            {
                throw new FormatException($"The network profile '{text}' overrides loopback, which has no relay to configure; start from rtt=0 instead.");
            }
        }
        NetworkProfile profile = named ?? new NetworkProfile();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (int i = first; i < parts.Length; i++)
        {
            string part = parts[i];
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq < 0)
            {
                throw new FormatException($"The network profile part '{part}' in '{text}' is not key=value; only the first part may be a profile name.");
            }
            string key = part[..eq].Trim().ToLowerInvariant();
            string value = part[(eq + 1)..].Trim();
            if (!s_keys.Contains(key))
            {
                throw new FormatException($"Unknown network profile key '{key}' in '{text}': the keys are rtt, jitter and rate.");
            }
            if (!seen.Add(key))
            {
                throw new FormatException($"The network profile key '{key}' appears twice in '{text}'.");
            }
            profile = key switch
            {
                "rtt" => profile with { RoundTrip = ParseTime(key, value) },
                "jitter" => profile with { Jitter = ParseTime(key, value) },
                _ => profile with { RateBitsPerSecond = ParseRate(value) },
            };
        }
        if (profile.Jitter > profile.OneWayDelay && profile.Jitter > TimeSpan.Zero)
        {
            // A clamp at zero would skew the mean delay upwards without saying so; refuse instead.
            throw new FormatException($"The jitter {FormatTime(profile.Jitter)} in '{text}' exceeds half the round trip ({FormatTime(profile.OneWayDelay)}): a one-way delay cannot go below zero.");
        }
        if (named is not null && first == parts.Length)
        {
            return named;
        }
        profile = profile with { IsLoopback = false, Name = "" };
        return profile with { Name = profile.Spec };
    }

    /// <summary>Tries to parse a profile; see <see cref="Parse"/>.</summary>
    /// <param name="text">The profile text.</param>
    /// <param name="profile">The profile, when valid.</param>
    /// <param name="error">Why the text is not valid, when it is not.</param>
    /// <returns>Whether the text is a valid profile.</returns>
    public static bool TryParse(string text, out NetworkProfile? profile, out string? error)
    {
        try
        {
            profile = Parse(text);
            error = null;
            return true;
        }
        catch (FormatException e)
        {
            profile = null;
            error = e.Message;
            return false;
        }
    }

    private static NetworkProfile Named(string name, TimeSpan roundTrip, long rate) =>
        new() { Name = name, RoundTrip = roundTrip, RateBitsPerSecond = rate };

    private static TimeSpan ParseTime(string key, string value)
    {
        (double number, string unit) = SplitNumber(key, value);
        double seconds = unit switch
        {
            "us" => number * 1e-6,
            "ms" => number * 1e-3,
            "s" => number,
            "" when number == 0 => 0,
            "" => throw new FormatException($"The {key} '{value}' needs a unit: us, ms or s (for example {key}=1ms)."),
            _ => throw new FormatException($"Unknown time unit '{unit}' in {key}={value}: use us, ms or s."),
        };
        if (seconds > 3600)
        {
            throw new FormatException($"The {key} '{value}' is longer than an hour.");
        }
        long ticks = (long)Math.Round(seconds * TimeSpan.TicksPerSecond);
        if (ticks == 0 && number != 0)
        {
            throw new FormatException($"The {key} '{value}' is below the 0.1 us resolution of a profile.");
        }
        return TimeSpan.FromTicks(ticks);
    }

    private static long? ParseRate(string value)
    {
        if (string.Equals(value, "none", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        (double number, string unit) = SplitNumber("rate", value);
        double bits = unit switch
        {
            "kbit" => number * 1e3,
            "mbit" => number * 1e6,
            "gbit" => number * 1e9,
            "" => throw new FormatException($"The rate '{value}' needs a unit: kbit, mbit or gbit (for example rate=100mbit), or none."),
            _ => throw new FormatException($"Unknown rate unit '{unit}' in rate={value}: use kbit, mbit or gbit (decimal, as tc does)."),
        };
        if (bits < 1000)
        {
            throw new FormatException($"The rate '{value}' is below the minimum of 1kbit; use rate=none for no limit.");
        }
        if (bits > 1e13)
        {
            throw new FormatException($"The rate '{value}' is above the maximum of 10000gbit; use rate=none for no limit.");
        }
        return (long)Math.Round(bits);
    }

    private static (double Number, string Unit) SplitNumber(string key, string value)
    {
        int end = 0;
        while (end < value.Length && (char.IsAsciiDigit(value[end]) || value[end] == '.'))
        {
            end++;
        }
        if (value.StartsWith('-'))
        {
            throw new FormatException($"The {key} '{value}' is negative.");
        }
        if (end == 0 || !double.TryParse(value.AsSpan(0, end), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double number))
        {
            throw new FormatException($"The {key} '{value}' is not a number with a unit (for example {(key == "rate" ? "100mbit" : "1ms")}).");
        }
        return (number, value[end..].Trim().ToLowerInvariant());
    }

    private static string FormatTime(TimeSpan time)
    {
        long ticks = time.Ticks;
        if (ticks == 0)
        {
            return "0";
        }
        return ticks % TimeSpan.TicksPerMillisecond == 0
            ? (ticks / TimeSpan.TicksPerMillisecond).ToString(CultureInfo.InvariantCulture) + "ms"
            : (ticks / (double)TimeSpan.TicksPerMicrosecond).ToString("0.#", CultureInfo.InvariantCulture) + "us";
    }

    private static string FormatRate(long bits) =>
        bits % 1_000_000_000 == 0 ? (bits / 1_000_000_000).ToString(CultureInfo.InvariantCulture) + "gbit"
        : bits % 1_000_000 == 0 ? (bits / 1_000_000).ToString(CultureInfo.InvariantCulture) + "mbit"
        : (bits / 1000.0).ToString("0.###", CultureInfo.InvariantCulture) + "kbit";
}
