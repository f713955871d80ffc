using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Rpyc;

/// <summary>
/// TLS for a client connection (<see cref="RpycConnectOptions.Tls"/>), as Python's
/// <c>rpyc.ssl_connect</c>. By default the server's certificate must chain to a root the system
/// trusts and name the host connected to. <see cref="CertificateAuthorities"/> pins the roots (Python's
/// <c>ca_certs</c>), <see cref="ServerCertificateValidation"/> decides alone, and
/// <see cref="DangerousAcceptAnyServerCertificate"/> turns validation off; at most one of the three.
/// </summary>
/// <example>
/// <code>
/// var options = new RpycConnectOptions
/// {
///     Tls = new RpycTlsClientOptions { CertificateAuthorities = [X509Certificate2.CreateFromPemFile("ca.pem")] },
/// };
/// using var conn = RpycConnection.Connect("rpyc.example.org", 18821, options);
/// </code>
/// </example>
public sealed class RpycTlsClientOptions
{
    /// <summary>
    /// The name the server's certificate must carry, also sent as SNI. Default <c>null</c>: the host
    /// given to <see cref="RpycConnection.Connect"/> (a DNS name or an IP address).
    /// </summary>
    public string? TargetHost { get; init; }

    /// <summary>
    /// Trust only these roots (and the name check still applies): the server's chain must end at
    /// one of them, the system store is not consulted. A self-signed server certificate may be its
    /// own authority. Python: <c>ca_certs</c>. Default <c>null</c>: the system's roots.
    /// </summary>
    public X509Certificate2Collection? CertificateAuthorities { get; init; }

    /// <summary>
    /// Decides alone whether the server's certificate is accepted; it receives the errors the
    /// system (or <see cref="CertificateAuthorities"/>, which cannot be combined with it) found.
    /// </summary>
    public RemoteCertificateValidationCallback? ServerCertificateValidation { get; init; }

    /// <summary>
    /// Accept any server certificate, even an expired, self-signed or stolen one: the connection is
    /// encrypted but anyone on the path can impersonate the server. For tests only. Python's
    /// <c>ssl_connect</c> without <c>ca_certs</c> behaves this way.
    /// </summary>
    public bool DangerousAcceptAnyServerCertificate { get; init; }

    /// <summary>A certificate with its private key to present when the server asks for one (Python: <c>certfile</c> and <c>keyfile</c>).</summary>
    public X509Certificate2? ClientCertificate { get; init; }

    /// <summary>The TLS versions offered. Default <see cref="SslProtocols.None"/>: the system's choice (TLS 1.2 and 1.3).</summary>
    public SslProtocols EnabledProtocols { get; init; } = SslProtocols.None;

    internal void Validate()
    {
        int ways = (CertificateAuthorities is not null ? 1 : 0) + (ServerCertificateValidation is not null ? 1 : 0) + (DangerousAcceptAnyServerCertificate ? 1 : 0);
        if (ways > 1)
        {
            throw new ArgumentException(
                "RpycTlsClientOptions: set at most one of CertificateAuthorities, ServerCertificateValidation and DangerousAcceptAnyServerCertificate.");
        }
        if (CertificateAuthorities is { Count: 0 })
        {
            throw new ArgumentException("RpycTlsClientOptions.CertificateAuthorities is empty: no server certificate could ever be trusted.");
        }
        if (ClientCertificate is { HasPrivateKey: false })
        {
            throw new ArgumentException($"RpycTlsClientOptions.ClientCertificate ({ClientCertificate.Subject}) has no private key.");
        }
    }
}
