using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Rpyc;

/// <summary>
/// TLS for every connection of a server (<see cref="RpycServerOptions.Tls"/>), as Python's
/// <c>SSLAuthenticator</c>. The handshake runs on the connection's own thread (in the worker process
/// for a <see cref="ForkingServer"/>) and counts against <see cref="RpycServerOptions.HandshakeTimeout"/>.
/// </summary>
/// <example>
/// <code>
/// var options = new RpycServerOptions
/// {
///     Port = 18821,
///     Tls = new RpycTlsServerOptions { Certificate = X509Certificate2.CreateFromPemFile("server.pem", "server.key") },
/// };
/// using var server = new ThreadedServer(() =&gt; new CalculatorService(), options);
/// </code>
/// </example>
public sealed class RpycTlsServerOptions
{
    /// <summary>The server's certificate, with its private key. Required.</summary>
    public required X509Certificate2 Certificate { get; init; }

    /// <summary>
    /// Ask every client for a certificate and close connections that present none or an untrusted
    /// one (Python: <c>SSLAuthenticator</c> with <c>ca_certs</c>). Default <c>false</c>.
    /// </summary>
    public bool RequireClientCertificate { get; init; }

    /// <summary>
    /// The roots a client certificate must chain to (Python: <c>ca_certs</c>). Default <c>null</c>:
    /// the system's roots.
    /// </summary>
    public X509Certificate2Collection? ClientCertificateAuthorities { get; init; }

    /// <summary>
    /// Decides alone whether a client certificate is accepted (instead of
    /// <see cref="ClientCertificateAuthorities"/>). Not supported by <see cref="ForkingServer"/>, whose
    /// handshakes run in other processes.
    /// </summary>
    public RemoteCertificateValidationCallback? ClientCertificateValidation { get; init; }

    /// <summary>The TLS versions accepted. Default <see cref="SslProtocols.None"/>: the system's choice (TLS 1.2 and 1.3).</summary>
    public SslProtocols EnabledProtocols { get; init; } = SslProtocols.None;

    internal void Validate(string paramName)
    {
        if (Certificate is null)
        {
            throw new ArgumentException("RpycTlsServerOptions.Certificate is required.", paramName);
        }
        if (!Certificate.HasPrivateKey)
        {
            throw new ArgumentException($"RpycTlsServerOptions.Certificate ({Certificate.Subject}) has no private key.", paramName);
        }
        if (ClientCertificateAuthorities is not null && ClientCertificateValidation is not null)
        {
            throw new ArgumentException("RpycTlsServerOptions: set ClientCertificateAuthorities or ClientCertificateValidation, not both.", paramName);
        }
        if (ClientCertificateAuthorities is { Count: 0 })
        {
            throw new ArgumentException("RpycTlsServerOptions.ClientCertificateAuthorities is empty: no client certificate could ever be trusted.", paramName);
        }
        if (!RequireClientCertificate && (ClientCertificateAuthorities is not null || ClientCertificateValidation is not null))
        {
            throw new ArgumentException(
                "RpycTlsServerOptions: ClientCertificateAuthorities and ClientCertificateValidation need RequireClientCertificate = true.", paramName);
        }
    }
}
