using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Rpyc.Transport;

// A server's TLS settings made ready once: the certificate context (with its chain) is built at
// start, not per handshake.
internal sealed class ServerTls
{
    private readonly RpycTlsServerOptions _options;
    private readonly SslStreamCertificateContext _certificate;

    public ServerTls(RpycTlsServerOptions options)
    {
        _options = options;
        _certificate = SslStreamCertificateContext.Create(options.Certificate, additionalCertificates: null, offline: true);
    }

    public RpycTlsServerOptions Options => _options;

    public SslServerAuthenticationOptions CreateOptions(Rejection rejection) => new()
    {
        ServerCertificateContext = _certificate,
        ClientCertificateRequired = _options.RequireClientCertificate,
        EnabledSslProtocols = _options.EnabledProtocols,
        CertificateChainPolicy = TlsTransport.CustomRoots(_options.ClientCertificateAuthorities),
        // Without RequireClientCertificate no certificate is asked for, and a callback would be told
        // RemoteCertificateNotAvailable: leave validation to SslStream, which ignores that case.
        RemoteCertificateValidationCallback = _options.RequireClientCertificate ? _options.ClientCertificateValidation ?? rejection.Check : null,
    };

    // The settings a ForkingServer worker needs, for its standard input: the certificate with its
    // key as PKCS#12 (no password: the pipe is private to the two processes), then the client
    // roots, each DER. Layout (u32 big-endian): protocols, require-client-certificate (0/1),
    // length + PKCS#12, root count, then per root length + DER.
    public byte[] Serialize()
    {
        using var buffer = new MemoryStream();
        WriteInt(buffer, (int)_options.EnabledProtocols);
        WriteInt(buffer, _options.RequireClientCertificate ? 1 : 0);
        Write(buffer, _options.Certificate.Export(X509ContentType.Pkcs12));
        X509Certificate2Collection roots = _options.ClientCertificateAuthorities ?? [];
        WriteInt(buffer, roots.Count);
        foreach (X509Certificate2 root in roots)
        {
            Write(buffer, root.RawData);
        }
        return buffer.ToArray();
    }

    public static RpycTlsServerOptions Deserialize(Stream input)
    {
        var protocols = (System.Security.Authentication.SslProtocols)ReadInt(input);
        bool requireClientCertificate = ReadInt(input) != 0;
        X509Certificate2 certificate = X509CertificateLoader.LoadPkcs12(Read(input), password: null);
        int count = ReadInt(input);
        if (count is < 0 or > 1024)
        {
            throw new InvalidDataException($"The TLS settings on standard input name {count} client roots.");
        }
        X509Certificate2Collection? roots = count == 0 ? null : [];
        for (int i = 0; i < count; i++)
        {
            roots!.Add(X509CertificateLoader.LoadCertificate(Read(input)));
        }
        return new RpycTlsServerOptions
        {
            Certificate = certificate,
            RequireClientCertificate = requireClientCertificate,
            ClientCertificateAuthorities = roots,
            EnabledProtocols = protocols,
        };
    }

    private static void Write(Stream output, byte[] data)
    {
        WriteInt(output, data.Length);
        output.Write(data);
    }

    private static void WriteInt(Stream output, int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        output.Write(bytes);
    }

    private static int ReadInt(Stream input)
    {
        Span<byte> bytes = stackalloc byte[4];
        input.ReadExactly(bytes);
        return System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes);
    }

    private static byte[] Read(Stream input)
    {
        int length = ReadInt(input);
        if (length is < 0 or > 1024 * 1024)
        {
            throw new InvalidDataException($"The TLS settings on standard input hold a {length}-byte item.");
        }
        byte[] data = new byte[length];
        input.ReadExactly(data);
        return data;
    }
}
