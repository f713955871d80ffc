namespace Rpyc.Bench;

/// <summary>A benchmark target the suite knows: its report key, protocol, server and where it runs.</summary>
/// <param name="Name">Report key, e.g. <c>rpyc_threaded</c>.</param>
/// <param name="Protocol"><c>rpyc</c>, <c>http</c> or <c>tcp</c>.</param>
/// <param name="ServerMode"><c>threaded</c>, <c>forking</c>, or <c>null</c>.</param>
/// <param name="IsPython">Whether the server is a Python peer run by /usr/bin/python3.</param>
/// <param name="Implementation">What serves it, for reports.</param>
public sealed record TargetInfo(string Name, string Protocol, string? ServerMode, bool IsPython, string Implementation);

/// <summary>The targets rpycbench can run and serve.</summary>
public static class TargetCatalog
{
    /// <summary>.NET RPyC ThreadedServer.</summary>
    public const string RpycThreaded = "rpyc_threaded";

    /// <summary>.NET RPyC ForkingServer (a process per connection).</summary>
    public const string RpycForking = "rpyc_forking";

    /// <summary>ASP.NET Core Kestrel minimal API.</summary>
    public const string HttpThreaded = "http_threaded";

    /// <summary>
    /// The <see cref="HttpThreaded"/> server (Kestrel) called through <see cref="HttpClient"/>: what a
    /// .NET application's code sees, beside what the server can do.
    /// </summary>
    public const string HttpThreadedHttpClient = "http_threaded_httpclient";

    /// <summary>Raw TCP request/response: the floor.</summary>
    public const string TcpRaw = "tcp_raw";

    /// <summary>Python rpyc ThreadedServer.</summary>
    public const string PyRpycThreaded = "py_rpyc_threaded";

    /// <summary>Python rpyc ForkingServer.</summary>
    public const string PyRpycForking = "py_rpyc_forking";

    /// <summary>Python Flask on werkzeug's threaded server.</summary>
    public const string PyFlaskThreaded = "py_flask_threaded";

    /// <summary>Every target, in the suite's default order.</summary>
    public static IReadOnlyList<TargetInfo> All { get; } =
    [
        new(RpycThreaded, "rpyc", "threaded", false, ".NET ThreadedServer"),
        new(RpycForking, "rpyc", "forking", false, ".NET ForkingServer"),
        new(HttpThreaded, "http", "threaded", false, "Kestrel minimal API"),
        new(HttpThreadedHttpClient, "http", "threaded", false, "Kestrel minimal API, HttpClient client"),
        new(PyRpycThreaded, "rpyc", "threaded", true, "rpyc 5 ThreadedServer"),
        new(PyRpycForking, "rpyc", "forking", true, "rpyc 5 ForkingServer"),
        new(PyFlaskThreaded, "http", "threaded", true, "Flask, werkzeug threaded"),
        new(TcpRaw, "tcp", null, false, "raw TCP, .NET"),
    ];

    /// <summary>Looks a target up by name.</summary>
    /// <param name="name">The report key.</param>
    /// <returns>The target.</returns>
    /// <exception cref="ArgumentException">Unknown target.</exception>
    public static TargetInfo Get(string name) =>
        All.FirstOrDefault(t => t.Name == name)
        ?? throw new ArgumentException($"Unknown target '{name}'; known targets: {string.Join(", ", All.Select(t => t.Name))}.", nameof(name));

    /// <summary>Whether a target name is known.</summary>
    /// <param name="name">The name.</param>
    /// <returns><c>true</c> when known.</returns>
    public static bool IsKnown(string name) => All.Any(t => t.Name == name);
}
