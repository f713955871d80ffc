using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Rpyc.IntegrationTests;

/// <summary>
/// Certificates made at test time with <see cref="CertificateRequest"/>: a CA, a server certificate
/// for 127.0.0.1 and localhost and a client certificate it signed, and an unrelated second CA with
/// its own server certificate (the wrong-CA cases). Written as PEM to a private folder for the
/// Python peers, which is deleted on dispose. Extensions follow what OpenSSL's strict mode checks
/// (key identifiers, critical basic constraints), so Python accepts them.
/// </summary>
public sealed class TlsPki : IDisposable
{
    public TlsPki()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        Ca = CreateCa("CN=rpyc-test-ca", now);
        Server = CreateLeaf(Ca, "CN=rpyc-test-server", server: true, now);
        Client = CreateLeaf(Ca, "CN=rpyc-test-client", server: false, now);
        OtherCa = CreateCa("CN=rpyc-other-ca", now);
        OtherServer = CreateLeaf(OtherCa, "CN=rpyc-other-server", server: true, now);
        Folder = Directory.CreateTempSubdirectory("rpyc-tls-").FullName;
        CaPem = Write("ca.pem", Ca.ExportCertificatePem());
        OtherCaPem = Write("other-ca.pem", OtherCa.ExportCertificatePem());
        ServerPem = Write("server.pem", Server.ExportCertificatePem());
        ServerKey = Write("server.key", Server.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        ClientPem = Write("client.pem", Client.ExportCertificatePem());
        ClientKey = Write("client.key", Client.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
        OtherServerPem = Write("other-server.pem", OtherServer.ExportCertificatePem());
        OtherServerKey = Write("other-server.key", OtherServer.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
    }

    public X509Certificate2 Ca { get; }

    public X509Certificate2 Server { get; }

    public X509Certificate2 Client { get; }

    public X509Certificate2 OtherCa { get; }

    public X509Certificate2 OtherServer { get; }

    public string Folder { get; }

    public string CaPem { get; }

    public string OtherCaPem { get; }

    public string ServerPem { get; }

    public string ServerKey { get; }

    public string ClientPem { get; }

    public string ClientKey { get; }

    public string OtherServerPem { get; }

    public string OtherServerKey { get; }

    /// <summary>A collection of <see cref="Ca"/> alone, without its key, as a client pins it.</summary>
    public X509Certificate2Collection CaOnly => [X509CertificateLoader.LoadCertificate(Ca.RawData)];

    public X509Certificate2Collection OtherCaOnly => [X509CertificateLoader.LoadCertificate(OtherCa.RawData)];

    private string Write(string name, string pem)
    {
        string path = Path.Combine(Folder, name);
        File.WriteAllText(path, pem);
        return path;
    }

    private static X509Certificate2 CreateCa(string subject, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(now.AddDays(-1), now.AddDays(30));
    }

    private static X509Certificate2 CreateLeaf(X509Certificate2 ca, string subject, bool server, DateTimeOffset now)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, true, false));
        if (server)
        {
            var names = new SubjectAlternativeNameBuilder();
            names.AddIpAddress(IPAddress.Loopback);
            names.AddDnsName("localhost");
            request.CertificateExtensions.Add(names.Build());
        }
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        using X509Certificate2 signed = request.Create(ca, now.AddDays(-1), now.AddDays(30), serial);
        return signed.CopyWithPrivateKey(key);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A service that tells the client what the server saw of the TLS session.</summary>
public sealed class TlsProbeService : RpycService
{
    private RpycConnection? _connection;

    /// <inheritdoc />
    public override void OnConnect(RpycConnection connection)
    {
        _connection = connection;
        base.OnConnect(connection);
    }

    [Exposed]
    public object? Echo(object? data) => data;

    [Exposed]
    public bool Encrypted() => _connection?.IsEncrypted ?? false;

    // The client certificate's common name, or "" when the client presented none.
    [Exposed]
    public string ClientSubject() => _connection?.RemoteCertificate?.GetNameInfo(X509NameType.SimpleName, forIssuer: false) ?? "";

    // A call slower than a client's SyncRequestTimeout.
    [Exposed]
    public string Slow(int milliseconds)
    {
        using var never = new ManualResetEventSlim();
        never.Wait(milliseconds);
        return "done";
    }
}
