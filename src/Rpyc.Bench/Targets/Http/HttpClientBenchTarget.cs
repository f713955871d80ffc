using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;

namespace Rpyc.Bench;

/// <summary>
/// The same HTTP routes as <see cref="HttpBenchTarget"/>, called through <see cref="HttpClient"/> over
/// a pooled <see cref="SocketsHttpHandler"/>: what a .NET application's own code would see, beside what
/// the server can do (the lean client's figures).
/// </summary>
/// <param name="name">The report key.</param>
/// <param name="host">Server host.</param>
/// <param name="port">Server port.</param>
public sealed class HttpClientBenchTarget(string name, string host, int port)
    : BenchTarget(name, "http", host, port)
{
    /// <summary>What <see cref="HttpClientBenchTarget"/> reports as its client.</summary>
    public const string Description = "HttpClient (SocketsHttpHandler, pooled; sync Send, one connection per client)";

    /// <inheritdoc />
    public override string ClientDescription => Description;

    /// <inheritdoc />
    public override BenchClient Connect() => new HttpClientBenchClient(Host, Port, Tls);

    /// <summary>HTTPS with these settings (http_threaded_tls), or <c>null</c> for HTTP.</summary>
    public System.Net.Security.SslClientAuthenticationOptions? Tls { get; init; }
}

/// <summary>
/// One <see cref="HttpClient"/> with its own <see cref="SocketsHttpHandler"/> limited to one pooled
/// keep-alive connection, so that each client is one connection as with the other targets. The TCP
/// connection is opened by the constructor and handed to the handler through its
/// <see cref="SocketsHttpHandler.ConnectCallback"/>, so the connection benchmark can time the TCP part
/// apart; later connections (if the server closes one) are opened by the handler the same way.
/// Requests use the synchronous <see cref="HttpClient.Send(HttpRequestMessage, HttpCompletionOption)"/>
/// with <see cref="HttpCompletionOption.ResponseHeadersRead"/>, and bodies are read from the response
/// stream into one reused buffer: HttpClient used well, with no sync-over-async thread hops measured.
/// </summary>
public sealed class HttpClientBenchClient : BenchClient
{
    private static readonly MediaTypeHeaderValue s_octetStream = new("application/octet-stream");
    private readonly HttpClient _client;
    private readonly Uri _base;
    private Socket? _connected;
    private readonly byte[] _probe = new byte[1];
    private byte[] _body = new byte[16 * 1024];
    private long _roundTrips;
    // The socket opened in the constructor, and each the handler opened after the server closed one.
    private long _connectionsOpened = 1;

    /// <summary>Opens the TCP connection the first request will use.</summary>
    /// <param name="host">Server host.</param>
    /// <param name="port">Server port.</param>
    /// <param name="tls">HTTPS with these settings (the handler runs TLS over the connected socket), or <c>null</c> for HTTP.</param>
    /// <exception cref="SocketException">The connect failed.</exception>
    public HttpClientBenchClient(string host, int port, System.Net.Security.SslClientAuthenticationOptions? tls = null)
    {
        ArgumentNullException.ThrowIfNull(host);
        _base = new UriBuilder(tls is null ? Uri.UriSchemeHttp : Uri.UriSchemeHttps, host, port).Uri;
        _connected = OpenSocket(host, port);
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1,
            UseProxy = false,
            UseCookies = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            SslOptions = tls ?? new System.Net.Security.SslClientAuthenticationOptions(),
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            ConnectCallback = (context, cancellationToken) =>
            {
                // Completes synchronously: HttpClient.Send accepts a ConnectCallback only then.
                Socket? socket = Interlocked.Exchange(ref _connected, null);
                if (socket is null)
                {
                    socket = OpenSocket(context.DnsEndPoint.Host, context.DnsEndPoint.Port);
                    Interlocked.Increment(ref _connectionsOpened);
                }
                return ValueTask.FromResult<Stream>(new NetworkStream(socket, ownsSocket: true));
            },
        };
        _client = new HttpClient(handler, disposeHandler: true)
        {
            Timeout = TimeSpan.FromSeconds(30),
            DefaultRequestVersion = HttpVersion.Version11,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
    }

    /// <inheritdoc />
    public override long RoundTrips => _roundTrips;

    /// <inheritdoc />
    public override long? ConnectionsOpened => Interlocked.Read(ref _connectionsOpened);

    private static Socket OpenSocket(string host, int port)
    {
        // Nagle off, as HttpClient's own connect does; kernel timeouts as the other clients have.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Rpyc.Transport.KernelTimeouts.SetReceive(socket, 30_000);
        Rpyc.Transport.KernelTimeouts.SetSend(socket, 30_000);
        try
        {
            socket.Connect(host, port);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return socket;
    }

    /// <inheritdoc />
    public override void Ping()
    {
        ReadOnlySpan<byte> body = Exchange(HttpMethod.Get, "/ping", null, out HttpStatusCode status);
        if (status != HttpStatusCode.OK || !body.SequenceEqual("pong"u8))
        {
            Invalid($"GET /ping answered {(int)status} with {body.Length} bytes, expected 200 'pong'.");
        }
    }

    /// <inheritdoc />
    public override void Echo(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        ReadOnlySpan<byte> body = Exchange(HttpMethod.Post, "/echo", data, out HttpStatusCode status);
        if (status != HttpStatusCode.OK || !body.SequenceEqual(data))
        {
            Invalid($"POST /echo of {data.Length} bytes answered {(int)status} with {body.Length} different bytes.");
        }
    }

    /// <inheritdoc />
    public override void Upload(byte[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        ReadOnlySpan<byte> body = Exchange(HttpMethod.Post, "/upload", data, out HttpStatusCode status);
        if (status != HttpStatusCode.OK || !long.TryParse(body, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n != data.Length)
        {
            Invalid($"POST /upload of {data.Length} bytes answered {(int)status} '{Text(body)}'.");
        }
    }

    /// <inheritdoc />
    public override void Download(int length)
    {
        ReadOnlySpan<byte> body = Exchange(HttpMethod.Get, string.Create(CultureInfo.InvariantCulture, $"/download?n={length}"), null, out HttpStatusCode status);
        if (status != HttpStatusCode.OK || body.Length != length || !Payload.Matches(body))
        {
            Invalid($"GET /download?n={length} answered {(int)status} with {body.Length} bytes, not payload({length}).");
        }
    }

    /// <inheritdoc />
    public override void Compute(int n)
    {
        ReadOnlySpan<byte> body = Exchange(HttpMethod.Get, string.Create(CultureInfo.InvariantCulture, $"/compute?n={n}"), null, out HttpStatusCode status);
        if (status != HttpStatusCode.OK || Text(body) != ExpectedCompute(n).ToString(CultureInfo.InvariantCulture))
        {
            Invalid($"GET /compute?n={n} answered {(int)status} '{Text(body)}'.");
        }
    }

    /// <inheritdoc />
    public override void Sleep(double seconds)
    {
        ReadOnlySpan<byte> body = Exchange(HttpMethod.Get, FormattableString.Invariant($"/sleep?s={seconds:R}"), null, out HttpStatusCode status);
        if (status != HttpStatusCode.OK || !double.TryParse(body, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) || Math.Abs(d - seconds) > 1e-9)
        {
            Invalid($"GET /sleep?s={seconds} answered {(int)status} '{Text(body)}'.");
        }
    }

    private static string Text(ReadOnlySpan<byte> body) => Encoding.ASCII.GetString(body[..Math.Min(body.Length, 64)]);

    // One request; the body is read into _body and valid until the next request. A body that does
    // not match its Content-Length is an invalid reply.
    private ReadOnlySpan<byte> Exchange(HttpMethod method, string pathAndQuery, byte[]? content, out HttpStatusCode status)
    {
        using var request = new HttpRequestMessage(method, new Uri(_base, pathAndQuery));
        if (content is not null)
        {
            request.Content = new ByteArrayContent(content);
            request.Content.Headers.ContentType = s_octetStream;
        }
        _roundTrips++;
        using HttpResponseMessage response = _client.Send(request, HttpCompletionOption.ResponseHeadersRead);
        status = response.StatusCode;
        long? announced = response.Content.Headers.ContentLength;
        if (announced > Array.MaxLength)
        {
            throw new InvalidReplyException($"{method} {pathAndQuery} announced a {announced}-byte body, more than one buffer holds.");
        }
        using Stream stream = response.Content.ReadAsStream();
        if (announced is long expected)
        {
            int length = (int)expected;
            if (_body.Length < length)
            {
                _body = new byte[Math.Max(length, (int)Math.Min(Array.MaxLength, 2L * _body.Length))];
            }
            try
            {
                stream.ReadExactly(_body, 0, length);
            }
            catch (Exception ex) when (ex is EndOfStreamException || (ex is HttpIOException io && io.HttpRequestError == HttpRequestError.ResponseEnded))
            {
                throw new InvalidReplyException($"{method} {pathAndQuery} announced {length} bytes and sent fewer.", ex);
            }
            if (stream.Read(_probe, 0, 1) != 0)
            {
                throw new InvalidReplyException($"{method} {pathAndQuery} sent more than the {length} bytes it announced.");
            }
            return _body.AsSpan(0, length);
        }
        int total = 0;
        while (true)
        {
            if (total == _body.Length)
            {
                Array.Resize(ref _body, (int)Math.Min(Array.MaxLength, 2L * _body.Length));
            }
            int n = stream.Read(_body, total, _body.Length - total);
            if (n == 0)
            {
                break;
            }
            total += n;
        }
        return _body.AsSpan(0, total);
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _client.Dispose();
            Interlocked.Exchange(ref _connected, null)?.Dispose();
        }
    }
}
