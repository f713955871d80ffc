using System.Numerics;

namespace Rpyc.Bench;

/// <summary>
/// One connection to a benchmark server, with the benchmark service's operations. Every operation
/// validates the reply and throws <see cref="InvalidReplyException"/> when it is wrong, so a wrong
/// answer always counts as a failure. Not thread-safe: one client per thread.
/// </summary>
public abstract class BenchClient : IDisposable
{
    /// <summary><c>ping() → "pong"</c>.</summary>
    public abstract void Ping();

    /// <summary><c>echo(data) → data</c>.</summary>
    /// <param name="data">Bytes to send and expect back.</param>
    public abstract void Echo(byte[] data);

    /// <summary><c>upload(data) → len(data)</c>.</summary>
    /// <param name="data">Bytes to send.</param>
    public abstract void Upload(byte[] data);

    /// <summary><c>download(n) → payload(n)</c>, checked byte for byte.</summary>
    /// <param name="length">Bytes to receive.</param>
    public abstract void Download(int length);

    /// <summary><c>compute(n) → sum(i*i for i &lt; n)</c>.</summary>
    /// <param name="n">The loop bound.</param>
    public abstract void Compute(int n);

    /// <summary><c>sleep(seconds)</c> on the server.</summary>
    /// <param name="seconds">How long the server sleeps.</param>
    public abstract void Sleep(double seconds);

    /// <summary>Network round trips (request and reply pairs) this client has made so far.</summary>
    public abstract long RoundTrips { get; }

    /// <summary>
    /// TCP connections this client has opened so far, or <c>null</c> when it does not count them. A
    /// server that closes the connection after each reply (no keep-alive) makes an HTTP client open
    /// one per request, and its "warm connection" figures are then connect + request.
    /// </summary>
    public virtual long? ConnectionsOpened => null;

    /// <summary>Runs a named operation: <c>ping</c>, <c>echo:N</c>, <c>upload:N</c>, <c>download:N</c>, <c>compute:N</c>, <c>sleep:S</c>.</summary>
    /// <param name="operation">The operation and its argument.</param>
    /// <exception cref="ArgumentException">Unknown operation.</exception>
    public void Invoke(string operation)
    {
        ArgumentNullException.ThrowIfNull(operation);
        int colon = operation.IndexOf(':', StringComparison.Ordinal);
        string name = colon < 0 ? operation : operation[..colon];
        string arg = colon < 0 ? "" : operation[(colon + 1)..];
        switch (name)
        {
            case "ping":
                Ping();
                break;
            case "echo":
                Echo(Payload.Create(int.Parse(arg, System.Globalization.CultureInfo.InvariantCulture)));
                break;
            case "upload":
                Upload(Payload.Create(int.Parse(arg, System.Globalization.CultureInfo.InvariantCulture)));
                break;
            case "download":
                Download(int.Parse(arg, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case "compute":
                Compute(int.Parse(arg, System.Globalization.CultureInfo.InvariantCulture));
                break;
            case "sleep":
                Sleep(double.Parse(arg, System.Globalization.CultureInfo.InvariantCulture));
                break;
            default:
                throw new ArgumentException($"Unknown operation '{operation}'.", nameof(operation));
        }
    }

    /// <summary>The value <c>compute(n)</c> must return: n(n − 1)(2n − 1) / 6.</summary>
    /// <param name="n">The loop bound.</param>
    /// <returns>The sum of squares below <paramref name="n"/>.</returns>
    public static BigInteger ExpectedCompute(long n) =>
        n <= 0 ? BigInteger.Zero : (BigInteger)n * (n - 1) * ((2 * (BigInteger)n) - 1) / 6;

    /// <summary>Closes the connection.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Closes the connection.</summary>
    /// <param name="disposing"><c>true</c> from <see cref="Dispose()"/>.</param>
    protected abstract void Dispose(bool disposing);

    /// <summary>Throws <see cref="InvalidReplyException"/> with the message.</summary>
    /// <param name="message">What was expected and what came back.</param>
    protected static void Invalid(string message) => throw new InvalidReplyException(message);
}

/// <summary>
/// A server the benchmarks can open connections to. <see cref="Connect"/> returns once the TCP
/// connection is up and before anything is sent, so the connection benchmark can time the TCP part
/// apart from the first reply.
/// </summary>
public abstract class BenchTarget
{
    /// <summary>Creates a target.</summary>
    /// <param name="name">The target's report key, e.g. <c>rpyc_threaded</c>.</param>
    /// <param name="protocol"><c>rpyc</c>, <c>http</c> or <c>tcp</c>.</param>
    /// <param name="host">Server host.</param>
    /// <param name="port">Server port.</param>
    protected BenchTarget(string name, string protocol, string host, int port)
    {
        Name = name;
        Protocol = protocol;
        Host = host;
        Port = port;
    }

    /// <summary>The target's report key.</summary>
    public string Name { get; }

    /// <summary><c>rpyc</c>, <c>http</c> or <c>tcp</c>.</summary>
    public string Protocol { get; }

    /// <summary>Server host.</summary>
    public string Host { get; }

    /// <summary>Server port.</summary>
    public int Port { get; }

    /// <summary>
    /// Which client code produced this target's figures, for reports: e.g. "rpycbench lean HTTP/1.1
    /// client" or "HttpClient (SocketsHttpHandler, pooled)". Two targets on the same server differ here.
    /// </summary>
    public virtual string ClientDescription => Protocol switch
    {
        "rpyc" => "Rpyc RpycConnection (sync calls, one connection)",
        _ => $"{Protocol} client",
    };

    /// <summary>Opens a TCP connection; sends nothing.</summary>
    /// <returns>The client.</returns>
    public abstract BenchClient Connect();

    /// <summary>A target for a protocol at an address.</summary>
    /// <param name="name">The report key.</param>
    /// <param name="protocol"><c>rpyc</c>, <c>http</c> or <c>tcp</c>.</param>
    /// <param name="host">Server host.</param>
    /// <param name="port">Server port.</param>
    /// <param name="rpycOptions">The connection options of an <c>rpyc</c> target, or <c>null</c> for the defaults; the raw TCP and lean HTTP clients take their <see cref="RpycConnectOptions.ReceiveSpin"/> and ignore the rest.</param>
    /// <returns>The target.</returns>
    /// <exception cref="ArgumentException">Unknown protocol.</exception>
    public static BenchTarget Create(string name, string protocol, string host, int port, RpycConnectOptions? rpycOptions = null) =>
        TargetCatalog.CreateVariantTarget(name, host, port, rpycOptions) ?? protocol switch
    {
        "rpyc" => new RpycBenchTarget(name, host, port, rpycOptions),
        "http" when name == TargetCatalog.HttpThreadedHttpClient => new HttpClientBenchTarget(name, host, port),
        // The suite's clients wait for a reply alike whatever the protocol: rpycOptions.ReceiveSpin.
        "http" => new HttpBenchTarget(name, host, port, rpycOptions?.ReceiveSpin ?? TimeSpan.Zero),
        "tcp" => new TcpRawBenchTarget(name, host, port, rpycOptions?.ReceiveSpin ?? TimeSpan.Zero),
        _ => throw new ArgumentException($"Unknown protocol '{protocol}'.", nameof(protocol)),
    };

    /// <inheritdoc />
    public override string ToString() => $"{Name} ({Protocol}://{RemoteEndpoint.HostPort(Host, Port)})";
}
