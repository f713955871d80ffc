using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Rpyc.Bench;

/// <summary>
/// The TLS targets (<c>rpyc_threaded_tls</c>, <c>http_threaded_tls</c>): one self-signed
/// certificate per suite run, made in memory at first use (ECDSA P-256, for 127.0.0.1, ::1,
/// localhost and this machine's name), which the clients pin. A server host the suite starts in
/// another process gets the same certificate through <see cref="ShareWith"/>; <c>rpycbench serve</c>
/// writes it as PEM for remote clients (<see cref="Announce"/>), which pin it with
/// <see cref="PinnedCaVariable"/>.
/// </summary>
public static class BenchTls
{
    /// <summary>The environment variable that hands the suite's certificate (PKCS#12, base64) to its server hosts.</summary>
    public const string SharedCertificateVariable = "RPYCBENCH_TLS_PFX";

    /// <summary>The environment variable naming a PEM certificate a client pins instead of its own (a remote <c>serve</c>'s).</summary>
    public const string PinnedCaVariable = "RPYCBENCH_TLS_CA";

    private static readonly Lazy<(X509Certificate2 Certificate, bool Inherited)> s_certificate = new(Load, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<X509Certificate2> s_pinned = new(LoadPinned, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>Whether a target serves over TLS.</summary>
    /// <param name="target">A catalog target name.</param>
    /// <returns><c>true</c> for <c>rpyc_threaded_tls</c> and <c>http_threaded_tls</c>.</returns>
    public static bool IsTlsTarget(string target) => target is TargetCatalog.RpycThreadedTls or TargetCatalog.HttpThreadedTls;

    /// <summary>The servers' certificate, with its private key.</summary>
    public static X509Certificate2 Certificate => s_certificate.Value.Certificate;

    /// <summary>The certificate clients pin: <see cref="PinnedCaVariable"/>'s when set, else <see cref="Certificate"/>.</summary>
    public static X509Certificate2 PinnedCertificate => s_pinned.Value;

    /// <summary>Passes <see cref="Certificate"/> to a server host process the suite starts.</summary>
    /// <param name="start">The host's start info.</param>
    public static void ShareWith(ProcessStartInfo start)
    {
        ArgumentNullException.ThrowIfNull(start);
        start.Environment[SharedCertificateVariable] = Convert.ToBase64String(Certificate.Export(X509ContentType.Pkcs12));
    }

    /// <summary>Client options of <c>rpyc_threaded_tls</c>: <paramref name="baseOptions"/> with TLS pinned to <see cref="PinnedCertificate"/> (that exact certificate).</summary>
    /// <param name="baseOptions">Other settings, or <c>null</c> for the defaults.</param>
    /// <returns>The options.</returns>
    public static RpycConnectOptions ClientOptions(RpycConnectOptions? baseOptions)
    {
        RpycConnectOptions o = baseOptions ?? RpycConnectOptions.Default;
        return new RpycConnectOptions
        {
            ProtocolVersion = o.ProtocolVersion,
            SyncRequestTimeout = o.SyncRequestTimeout,
            ConnectTimeout = o.ConnectTimeout,
            CompressionThreshold = o.CompressionThreshold,
            MaxFrameLength = o.MaxFrameLength,
            MaxDecompressedLength = o.MaxDecompressedLength,
            MemoryBudget = o.MemoryBudget,
            MaxBrineDepth = o.MaxBrineDepth,
            AllowPublicAttrs = o.AllowPublicAttrs,
            AllowSetAttr = o.AllowSetAttr,
            AllowDelAttr = o.AllowDelAttr,
            IncludeLocalTraceback = o.IncludeLocalTraceback,
            NoDelay = o.NoDelay,
            // Kept so the report's settings hold for every target; TLS connections do not spin.
            ReceiveSpin = o.ReceiveSpin,
            Tls = new RpycTlsClientOptions { ServerCertificateValidation = IsPinned },
        };
    }

    // The exact certificate, byte for byte: that alone authenticates the server, so the name a
    // remote client dials (an address the certificate does not list) does not matter.
    private static bool IsPinned(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) =>
        certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(PinnedCertificate.RawData);

    /// <summary>The HttpClient TLS settings of <c>http_threaded_tls</c>: the server's certificate must be <see cref="PinnedCertificate"/>, byte for byte.</summary>
    /// <returns>The options.</returns>
    public static SslClientAuthenticationOptions HttpClientOptions()
    {
        return new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = IsPinned };
    }

    /// <summary>
    /// The client side of a TLS target, or <c>null</c> for another target: RPyC with
    /// <see cref="ClientOptions"/>, HTTPS with <see cref="HttpClientBenchTarget"/> pinned.
    /// </summary>
    /// <param name="name">The target's name.</param>
    /// <param name="host">Server host.</param>
    /// <param name="port">Server port.</param>
    /// <param name="rpycOptions">Other RPyC client settings.</param>
    /// <returns>The target, or <c>null</c>.</returns>
    public static BenchTarget? CreateTarget(string name, string host, int port, RpycConnectOptions? rpycOptions) => name switch
    {
        TargetCatalog.RpycThreadedTls => new RpycBenchTarget(name, host, port, ClientOptions(rpycOptions)),
        TargetCatalog.HttpThreadedTls => new HttpClientBenchTarget(name, host, port) { Tls = HttpClientOptions() },
        _ => null,
    };

    /// <summary>Starts the server of a TLS target in this process.</summary>
    /// <param name="target"><c>rpyc_threaded_tls</c> or <c>http_threaded_tls</c>.</param>
    /// <param name="host">Address to bind.</param>
    /// <param name="port">Port, 0 for a free one.</param>
    /// <param name="receiveSpin"><see cref="RpycConnectOptions.ReceiveSpin"/> (RPyC only; TLS connections do not spin).</param>
    /// <param name="boundPort">The bound port.</param>
    /// <returns>The running server.</returns>
    /// <exception cref="ArgumentException">Not a TLS target.</exception>
    public static IDisposable Start(string target, string host, int port, TimeSpan receiveSpin, out int boundPort)
    {
        switch (target)
        {
            case TargetCatalog.RpycThreadedTls:
            {
                var server = new ThreadedServer(() => new BenchService(), new RpycServerOptions
                {
                    Host = host,
                    Port = port,
                    ConnectionOptions = new RpycConnectOptions { ReceiveSpin = receiveSpin, MaxFrameLength = BenchLimits.MaxFrameLength, MaxDecompressedLength = BenchLimits.MaxFrameLength },
                    Tls = new RpycTlsServerOptions { Certificate = Certificate },
                });
                server.Start();
                boundPort = server.Port;
                return server;
            }
            case TargetCatalog.HttpThreadedTls:
            {
                var server = new KestrelBenchServer(host, port, Certificate);
                boundPort = server.Port;
                return server;
            }
            default:
                throw new ArgumentException($"'{target}' is not a TLS target.", nameof(target));
        }
    }

    /// <summary>
    /// For <c>rpycbench serve</c> of a TLS target whose certificate was made here: writes it as PEM
    /// beside the temp folder and says how a remote client pins it. Nothing for other targets, or
    /// when the certificate came from the suite.
    /// </summary>
    /// <param name="target">The target served.</param>
    /// <param name="port">The bound port.</param>
    /// <param name="error">Where the message goes.</param>
    /// <returns>The PEM file written, or <c>null</c>.</returns>
    public static string? Announce(string target, int port, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (!IsTlsTarget(target) || s_certificate.Value.Inherited)
        {
            return null;
        }
        string path = Path.Combine(Path.GetTempPath(), $"rpycbench-{target}-{port.ToString(CultureInfo.InvariantCulture)}.pem");
        File.WriteAllText(path, Certificate.ExportCertificatePem());
        error.WriteLine($"TLS certificate (self-signed, made at start; SHA-256 {Certificate.GetCertHashString(HashAlgorithmName.SHA256)}) written to {path}.");
        error.WriteLine($"Clients pin it: copy the file, then run {PinnedCaVariable}=<file> rpycbench --endpoint {target}=<this host>:{port.ToString(CultureInfo.InvariantCulture)}");
        error.Flush();
        return path;
    }

    private static (X509Certificate2, bool) Load()
    {
        string? shared = Environment.GetEnvironmentVariable(SharedCertificateVariable);
        if (!string.IsNullOrEmpty(shared))
        {
            return (X509CertificateLoader.LoadPkcs12(Convert.FromBase64String(shared), password: null), true);
        }
        return (CreateSelfSigned(), false);
    }

    private static X509Certificate2 LoadPinned()
    {
        string? path = Environment.GetEnvironmentVariable(PinnedCaVariable);
        if (string.IsNullOrEmpty(path))
        {
            return Certificate;
        }
        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(path);
        }
        catch (Exception ex) when (ex is IOException or CryptographicException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"{PinnedCaVariable}={path}: not a readable certificate ({ex.Message}).", ex);
        }
    }

    private static X509Certificate2 CreateSelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=rpycbench", key, HashAlgorithmName.SHA256);
        // Its own authority, so a client can pin it as a root (Python's ca_certs, RpycTlsClientOptions.CertificateAuthorities).
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        names.AddDnsName("localhost");
        names.AddDnsName(Environment.MachineName);
        request.CertificateExtensions.Add(names.Build());
        DateTimeOffset now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddHours(-1), now.AddDays(30));
    }
}
