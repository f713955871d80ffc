namespace Rpyc.Bench;

/// <summary>A benchmark target the suite knows: its report key, protocol, server and where it runs.</summary>
/// <param name="Name">Report key, e.g. <c>rpyc_threaded</c>.</param>
/// <param name="Protocol"><c>rpyc</c>, <c>http</c> or <c>tcp</c>.</param>
/// <param name="ServerMode"><c>threaded</c>, <c>forking</c>, or <c>null</c>.</param>
/// <param name="IsPython">Whether the server is a Python peer run by /usr/bin/python3.</param>
/// <param name="Implementation">What serves it, for reports.</param>
public sealed record TargetInfo(string Name, string Protocol, string? ServerMode, bool IsPython, string Implementation)
{
    /// <summary>
    /// The target whose server this one measures: its own name, or for a client variant the server
    /// target it shares (<c>rpyc_threaded_profiled</c> and <c>pyclient_rpyc_threaded</c> measure
    /// <c>rpyc_threaded</c>'s server with another client).
    /// </summary>
    public string Server { get; init; } = Name;

    /// <summary>Which client measures it. Default <see cref="TargetClient.Dotnet"/>.</summary>
    public TargetClient Client { get; init; } = TargetClient.Dotnet;

    /// <summary>Whether it needs the Python peers: a Python server, or rpyc's Python client.</summary>
    public bool UsesPython => IsPython || Client == TargetClient.Python;
}

/// <summary>The client a target is measured with.</summary>
public enum TargetClient
{
    /// <summary>This library's client (<see cref="RpycBenchClient"/>, <see cref="HttpBenchClient"/>, <see cref="TcpRawBenchClient"/>).</summary>
    Dotnet,

    /// <summary>This library's RPyC client with an <see cref="RpycTelemetry"/> recording every call: beside the same server unprofiled, the overhead of telemetry.</summary>
    DotnetProfiled,

    /// <summary>This library's RPyC client with only OpenTelemetry-style listeners on the <c>Rpyc</c> ActivitySource and Meter (no recorder).</summary>
    DotnetInstrumented,

    /// <summary>rpyc's own Python client (Debian's python3-rpyc), driven by <see cref="PythonClientBenchTarget"/>.</summary>
    Python,
}

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

    /// <summary>
    /// <see cref="RpycThreaded"/>'s server measured by a client with telemetry recording every call
    /// (<see cref="TargetClient.DotnetProfiled"/>): its ping beside <c>rpyc_threaded</c>'s, in the
    /// same run, is the overhead of the telemetry.
    /// </summary>
    public const string RpycThreadedProfiled = "rpyc_threaded_profiled";

    /// <summary>
    /// <see cref="PyRpycThreaded"/>'s Python server measured by a client with telemetry recording every
    /// call: beside <c>py_rpyc_threaded</c>, the telemetry's overhead against a Python peer.
    /// </summary>
    public const string PyRpycThreadedProfiled = "py_rpyc_threaded_profiled";

    /// <summary>rpyc's Python client against <see cref="RpycThreaded"/>'s .NET server.</summary>
    public const string PyClientRpycThreaded = "pyclient_rpyc_threaded";

    /// <summary>rpyc's Python client against <see cref="PyRpycThreaded"/>'s Python server: the reference of <see cref="PyClientRpycThreaded"/>.</summary>
    public const string PyClientPyRpycThreaded = "pyclient_py_rpyc_threaded";

    /// <summary>rpyc's Python client against <see cref="RpycForking"/>'s .NET server (connection time: a worker per connection).</summary>
    public const string PyClientRpycForking = "pyclient_rpyc_forking";

    /// <summary>rpyc's Python client against <see cref="PyRpycForking"/>'s Python server: the reference of <see cref="PyClientRpycForking"/>.</summary>
    public const string PyClientPyRpycForking = "pyclient_py_rpyc_forking";

    /// <summary><see cref="RpycThreaded"/>'s server over TLS (<see cref="BenchTls"/>): beside it, the cost of TLS.</summary>
    public const string RpycThreadedTls = "rpyc_threaded_tls";

    /// <summary>Kestrel over HTTPS, called through <see cref="HttpClient"/>: beside <see cref="HttpThreadedHttpClient"/>, the cost of TLS.</summary>
    public const string HttpThreadedTls = "http_threaded_tls";

    /// <summary><see cref="RpycThreaded"/>'s server, its client with only an OpenTelemetry-style listener on the <c>Rpyc</c> source and meter: beside it and <see cref="RpycThreadedProfiled"/>, what instrumentation costs.</summary>
    public const string RpycThreadedOtel = "rpyc_threaded_otel";

    /// <summary>Every target, in the suite's default order.</summary>
    public static IReadOnlyList<TargetInfo> All { get; } =
    [
        new(RpycThreaded, "rpyc", "threaded", false, ".NET ThreadedServer"),
        new(RpycForking, "rpyc", "forking", false, ".NET ForkingServer"),
        new(HttpThreaded, "http", "threaded", false, "Kestrel minimal API"),
        new(HttpThreadedHttpClient, "http", "threaded", false, "Kestrel minimal API, HttpClient client"),
        new(PyRpycThreaded, "rpyc", "threaded", true, "rpyc 5 ThreadedServer (frames uncompressed, as .NET sends them)"),
        new(PyRpycForking, "rpyc", "forking", true, "rpyc 5 ForkingServer (frames uncompressed, as .NET sends them)"),
        new(PyFlaskThreaded, "http", "threaded", true, "Flask, werkzeug threaded"),
        new(TcpRaw, "tcp", null, false, "raw TCP, .NET"),
        new(RpycThreadedProfiled, "rpyc", "threaded", false, ".NET ThreadedServer, client with telemetry on") { Server = RpycThreaded, Client = TargetClient.DotnetProfiled },
        new(RpycThreadedOtel, "rpyc", "threaded", false, ".NET ThreadedServer, client with an OpenTelemetry listener only") { Server = RpycThreaded, Client = TargetClient.DotnetInstrumented },
        new(PyRpycThreadedProfiled, "rpyc", "threaded", true, "rpyc 5 ThreadedServer, client with telemetry on") { Server = PyRpycThreaded, Client = TargetClient.DotnetProfiled },
        new(PyClientRpycThreaded, "rpyc", "threaded", false, ".NET ThreadedServer, rpyc 5 Python client") { Server = RpycThreaded, Client = TargetClient.Python },
        new(PyClientPyRpycThreaded, "rpyc", "threaded", true, "rpyc 5 ThreadedServer, rpyc 5 Python client") { Server = PyRpycThreaded, Client = TargetClient.Python },
        new(PyClientRpycForking, "rpyc", "forking", false, ".NET ForkingServer, rpyc 5 Python client") { Server = RpycForking, Client = TargetClient.Python },
        new(PyClientPyRpycForking, "rpyc", "forking", true, "rpyc 5 ForkingServer, rpyc 5 Python client") { Server = PyRpycForking, Client = TargetClient.Python },
        new(RpycThreadedTls, "rpyc", "threaded", false, ".NET ThreadedServer over TLS (pinned self-signed certificate)"),
        new(HttpThreadedTls, "http", "threaded", false, "Kestrel minimal API over HTTPS, HttpClient client (pinned self-signed certificate)"),
    ];

    /// <summary>
    /// The client-side target of a catalog target at an address, when its client is not the
    /// protocol's plain .NET client (a profiled or a Python client); <c>null</c> otherwise.
    /// </summary>
    /// <param name="name">The target's name.</param>
    /// <param name="host">Server host.</param>
    /// <param name="port">Server port.</param>
    /// <param name="rpycOptions">Connection options of a .NET RPyC client, or <c>null</c>.</param>
    /// <returns>The target, or <c>null</c> for the protocol's plain client.</returns>
    public static BenchTarget? CreateVariantTarget(string name, string host, int port, RpycConnectOptions? rpycOptions = null) =>
        BenchTls.CreateTarget(name, host, port, rpycOptions) ?? All.FirstOrDefault(t => t.Name == name)?.Client switch
        {
            TargetClient.DotnetProfiled => new RpycBenchTarget(name, host, port, rpycOptions) { Profiled = true },
            TargetClient.DotnetInstrumented => new RpycBenchTarget(name, host, port, rpycOptions) { InstrumentationListened = true },
            TargetClient.Python => new PythonClientBenchTarget(name, host, port),
            _ => null,
        };

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
