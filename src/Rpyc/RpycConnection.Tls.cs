using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Rpyc.Transport;

namespace Rpyc;

public sealed partial class RpycConnection
{
    /// <summary>Whether the connection runs over TLS (<see cref="RpycConnectOptions.Tls"/>, <see cref="RpycServerOptions.Tls"/>).</summary>
    public bool IsEncrypted => _transport is TlsTransport;

    /// <summary>The negotiated TLS version, or <see cref="SslProtocols.None"/> on a plain connection.</summary>
    public SslProtocols TlsProtocol => TlsStream?.SslProtocol ?? SslProtocols.None;

    /// <summary>
    /// The certificate the peer presented in the TLS handshake: the server's on a client
    /// connection, the client's (when the server asked for one) on a server connection; <c>null</c>
    /// on a plain connection or when the peer presented none. Python: <c>getpeercert()</c>, the
    /// credentials <c>SSLAuthenticator</c> returns.
    /// </summary>
    public X509Certificate2? RemoteCertificate => TlsStream?.RemoteCertificate switch
    {
        null => null,
        X509Certificate2 certificate => certificate,
        X509Certificate other => X509CertificateLoader.LoadCertificate(other.GetRawCertData()),
    };

    internal SslStream? TlsStream => (_transport as TlsTransport)?.Stream;
}
