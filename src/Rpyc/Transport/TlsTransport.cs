using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace Rpyc.Transport;

// TLS over a connected socket: an SslStream over TlsSocketStream. Framing and brine see only
// Receive/Send, as over SocketTransport. Created already authenticated, by the client's
// ConnectAsync or the server's Accept.
internal sealed class TlsTransport : Transport
{
    private readonly TlsSocketStream _inner;
    private readonly SslStream _ssl;
    private readonly string _peer;

    private TlsTransport(TlsSocketStream inner, SslStream ssl, string peer)
    {
        _inner = inner;
        _ssl = ssl;
        _peer = peer;
    }

    public override string PeerName => _peer;

    /// <summary>The socket under the TLS session, for diagnostics and tests.</summary>
    internal Socket Socket => _inner.Socket;

    /// <summary>The authenticated stream: negotiated protocol, cipher and the peer's certificate.</summary>
    internal SslStream Stream => _ssl;

    public override int Receive(Span<byte> buffer, TimeSpan timeout)
    {
        _inner.ReadTimeoutSpan = timeout;
        try
        {
            return _ssl.Read(buffer);
        }
        catch (IOException ex) when (IsTimeout(ex))
        {
            return -1;
        }
    }

    public override void Send(ReadOnlySpan<byte> data) => _ssl.Write(data);

    // A record cut short by the limit leaves the stream unusable: the connection then closes, as it must.
    public override void LimitSends(TimeSpan timeout) => KernelTimeouts.SetSend(_inner.Socket, KernelMilliseconds(timeout));

    public override void AckPromptly()
    {
        if (OperatingSystem.IsLinux())
        {
            try
            {
                _inner.Socket.SetRawSocketOption(6, 12, [1, 0, 0, 0]);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
            }
        }
    }

    // No close_notify: SslStream sends it only asynchronously (ShutdownAsync), and RPyC frames carry
    // their length, so a truncated stream is detected without it. Python (suppress_ragged_eofs)
    // and .NET both read the bare FIN as the end of the stream.
    public override void Dispose() => _ssl.Dispose();

    private static bool IsTimeout(Exception ex) => ex is ReceiveTimeoutException || ex.InnerException is ReceiveTimeoutException;

    /// <summary>The client handshake over a connected socket, bounded by <see cref="RpycConnectOptions.ConnectTimeout"/>; disposes the socket when it fails.</summary>
    /// <exception cref="RpycConnectionException">The handshake failed or timed out.</exception>
    public static async Task<TlsTransport> ConnectAsync(Socket socket, string host, int port, RpycConnectOptions options, bool async, CancellationToken cancellationToken)
    {
        RpycTlsClientOptions tls = options.Tls!;
        socket.NoDelay = options.NoDelay;
        var inner = new TlsSocketStream(socket);
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        var rejection = new Rejection();
        var authentication = new SslClientAuthenticationOptions
        {
            TargetHost = tls.TargetHost ?? host,
            EnabledSslProtocols = tls.EnabledProtocols,
            ClientCertificateContext = tls.ClientCertificate is null ? null : SslStreamCertificateContext.Create(tls.ClientCertificate, null, offline: true),
            RemoteCertificateValidationCallback = tls.ServerCertificateValidation
                ?? (tls.DangerousAcceptAnyServerCertificate ? static (_, _, _, _) => true : rejection.Check),
            CertificateChainPolicy = CustomRoots(tls.CertificateAuthorities),
        };
        string where = HostPort.Format(host, port);
        try
        {
            if (async)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(options.ConnectTimeout);
                try
                {
                    await ssl.AuthenticateAsClientAsync(authentication, timeout.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new ReceiveTimeoutException();
                }
            }
            else
            {
                inner.SetDeadline(options.ConnectTimeout);
                ssl.AuthenticateAsClient(authentication);
                inner.ClearDeadline();
            }
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException or SocketException or ObjectDisposedException)
        {
            ssl.Dispose();
            throw new RpycConnectionException(Describe(ex, $"The TLS handshake with {where}", options.ConnectTimeout, rejection, "server"), ex);
        }
        catch
        {
            ssl.Dispose();
            throw;
        }
        return new TlsTransport(inner, ssl, where);
    }

    /// <summary>The server handshake over an accepted socket, bounded by <paramref name="timeout"/>; disposes the socket when it fails.</summary>
    /// <exception cref="AuthenticationException">The handshake failed or timed out; the message says why.</exception>
    public static TlsTransport Accept(Socket socket, ServerTls tls, TimeSpan timeout, string peer)
    {
        var inner = new TlsSocketStream(socket);
        var ssl = new SslStream(inner, leaveInnerStreamOpen: false);
        var rejection = new Rejection();
        try
        {
            inner.SetDeadline(timeout);
            ssl.AuthenticateAsServer(tls.CreateOptions(rejection));
            inner.ClearDeadline();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            ssl.Dispose();
            throw new AuthenticationException(Describe(ex, $"The TLS handshake with {peer}", timeout, rejection, "client"), ex);
        }
        return new TlsTransport(inner, ssl, peer);
    }

    internal static X509ChainPolicy? CustomRoots(X509Certificate2Collection? roots)
    {
        if (roots is null)
        {
            return null;
        }
        var policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            RevocationMode = X509RevocationMode.NoCheck,
            DisableCertificateDownloads = true,
        };
        policy.CustomTrustStore.AddRange(roots);
        return policy;
    }

    private static string Describe(Exception ex, string what, TimeSpan timeout, Rejection rejection, string side)
    {
        if (IsTimeout(ex))
        {
            return $"{what} did not complete within {timeout.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s.";
        }
        if (rejection.Errors is SslPolicyErrors errors)
        {
            return $"{what} failed: the {side}'s certificate was rejected: {rejection.Describe(errors)}.";
        }
        string message = ex.Message.TrimEnd('.');
        if (ex.InnerException is { } inner && !string.IsNullOrEmpty(inner.Message) && inner.Message != ex.Message)
        {
            message += $" ({inner.Message.TrimEnd('.')})";
        }
        if (ex is IOException && !ex.Message.Contains("TLS", StringComparison.OrdinalIgnoreCase) && !ex.Message.Contains("SSL", StringComparison.OrdinalIgnoreCase))
        {
            message += $"; is the {side} speaking TLS?";
        }
        return $"{what} failed: {message}.";
    }
}

// Remembers why the default validation refused a certificate, for an error message that names it.
internal sealed class Rejection
{
    private string _chain = "";

    public SslPolicyErrors? Errors { get; private set; }

    public bool Check(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }
        Errors = errors;
        if (chain is not null)
        {
            _chain = string.Join("; ", chain.ChainStatus.Select(s => $"{s.Status}: {s.StatusInformation.Trim()}"));
        }
        if (certificate is not null)
        {
            _chain = $"{certificate.Subject} issued by {certificate.Issuer}" + (_chain.Length > 0 ? $"; {_chain}" : "");
        }
        return false;
    }

    public string Describe(SslPolicyErrors errors)
    {
        var parts = new List<string>();
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            parts.Add("no certificate was presented");
        }
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            parts.Add("its name does not match the host (set RpycTlsClientOptions.TargetHost to the name it carries)");
        }
        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateChainErrors))
        {
            parts.Add("it does not chain to a trusted root");
        }
        string detail = string.Join(", and ", parts);
        return _chain.Length > 0 ? $"{detail} ({_chain.TrimEnd('.')})" : detail;
    }
}
