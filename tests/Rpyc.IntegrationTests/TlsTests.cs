using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Rpyc.IntegrationTests.Servers;

namespace Rpyc.IntegrationTests;

/// <summary>One set of test certificates for every TLS test.</summary>
public sealed class TlsPkiFixture : IDisposable
{
    public TlsPki Pki { get; } = new();

    public void Dispose() => Pki.Dispose();
}

/// <summary>
/// .NET client and .NET servers over TLS on 127.0.0.1: validation (system roots, pinned CA,
/// callback, opt-out, names), client certificates, the handshake budget, timeouts on a TLS
/// connection, and the ForkingServer, whose workers do the handshake.
/// </summary>
[Collection(DotNetServersCollection.Name)]
public sealed class TlsTests(TlsPkiFixture fixture, ITestOutputHelper output) : IClassFixture<TlsPkiFixture>
{
    private TlsPki Pki => fixture.Pki;

    private RpycServer StartServer(ServerKind kind, bool requireClientCertificate = false, TimeSpan? handshakeTimeout = null) =>
        TestServers.Start<TlsProbeService>(kind, new RpycServerOptions
        {
            Port = 0,
            HandshakeTimeout = handshakeTimeout ?? TimeSpan.FromSeconds(10),
            Tls = new RpycTlsServerOptions
            {
                Certificate = Pki.Server,
                RequireClientCertificate = requireClientCertificate,
                ClientCertificateAuthorities = requireClientCertificate ? Pki.CaOnly : null,
            },
        }, prestartedWorkers: 1);

    // ConnectTimeout bounds the handshake, which on a ForkingServer waits for a worker: on this
    // shared machine a cold one can take longer than the default 3 s to start.
    private RpycConnectOptions Pinned(X509Certificate2? clientCertificate = null, string? targetHost = null) => new()
    {
        SyncRequestTimeout = TimeSpan.FromSeconds(30),
        ConnectTimeout = TimeSpan.FromSeconds(30),
        Tls = new RpycTlsClientOptions { CertificateAuthorities = Pki.CaOnly, ClientCertificate = clientCertificate, TargetHost = targetHost },
    };

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public void Connect_PinnedCa_CallsRunEncrypted(ServerKind kind)
    {
        using var log = new LogCapture(output);
        using RpycServer server = StartServer(kind);
        using var conn = RpycConnection.Connect("127.0.0.1", server.Port, Pinned());
        dynamic root = conn.Root;
        Assert.Equal("héllo", (string)root.echo("héllo"));
        byte[] big = new byte[300_000];
        Random.Shared.NextBytes(big);
        Assert.Equal(big, (byte[])root.echo(big));
        Assert.True((bool)root.encrypted());
        Assert.Equal("", (string)root.client_subject());
        Assert.True(conn.IsEncrypted);
        Assert.True(conn.TlsProtocol is SslProtocols.Tls12 or SslProtocols.Tls13, $"negotiated {conn.TlsProtocol}");
        Assert.Equal("CN=rpyc-test-server", conn.RemoteCertificate!.Subject);
    }

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public void Connect_ClientCertificateRequired_ServerSeesIt(ServerKind kind)
    {
        using RpycServer server = StartServer(kind, requireClientCertificate: true);
        using var conn = RpycConnection.Connect("127.0.0.1", server.Port, Pinned(Pki.Client));
        dynamic root = conn.Root;
        Assert.Equal("rpyc-test-client", (string)root.client_subject());
        Assert.Equal(42L, (long)root.echo(42));
    }

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public async Task Connect_ClientCertificateRequiredButMissing_ConnectionRefusedAndLogged(ServerKind kind)
    {
        using var log = new LogCapture(output);
        using RpycServer server = StartServer(kind, requireClientCertificate: true);
        // With TLS 1.3 the client may finish its handshake before the server checks for a
        // certificate, so the refusal shows either at connect or at the first call.
        Exception error = Assert.ThrowsAny<RpycConnectionException>(() =>
        {
            using var conn = RpycConnection.Connect("127.0.0.1", server.Port, Pinned());
            conn.Ping();
        });
        output.WriteLine($"client saw: {error.Message}");
        string line = await log.WaitForAsync(l => l.Contains("TLS handshake", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the server's log of the refused handshake");
        Assert.Contains("no certificate was presented", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public async Task Connect_ClientCertificateOfOtherCa_ConnectionRefusedAndLogged(ServerKind kind)
    {
        using var log = new LogCapture(output);
        using RpycServer server = StartServer(kind, requireClientCertificate: true);
        Assert.ThrowsAny<RpycConnectionException>(() =>
        {
            using var conn = RpycConnection.Connect("127.0.0.1", server.Port, Pinned(Pki.OtherServer));
            conn.Ping();
        });
        string line = await log.WaitForAsync(l => l.Contains("TLS handshake", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the server's log of the refused handshake");
        Assert.Contains("client's certificate was rejected", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_WrongPinnedCa_FailsNamingTheUntrustedChain()
    {
        using RpycServer server = StartServer(ServerKind.Threaded);
        var options = new RpycConnectOptions { Tls = new RpycTlsClientOptions { CertificateAuthorities = Pki.OtherCaOnly } };
        var error = Assert.Throws<RpycConnectionException>(() => RpycConnection.Connect("127.0.0.1", server.Port, options));
        output.WriteLine(error.Message);
        Assert.Contains($"TLS handshake with 127.0.0.1:{server.Port} failed: the server's certificate was rejected", error.Message, StringComparison.Ordinal);
        Assert.Contains("does not chain to a trusted root", error.Message, StringComparison.Ordinal);
        Assert.Contains("CN=rpyc-test-server", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_DefaultValidation_RejectsCertificateOfUnknownCa()
    {
        using RpycServer server = StartServer(ServerKind.Threaded);
        var options = new RpycConnectOptions { Tls = new RpycTlsClientOptions() };
        var error = Assert.Throws<RpycConnectionException>(() => RpycConnection.Connect("127.0.0.1", server.Port, options));
        output.WriteLine(error.Message);
        Assert.Contains("does not chain to a trusted root", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_TargetHostNotInCertificate_FailsNamingTheMismatch()
    {
        using RpycServer server = StartServer(ServerKind.Threaded);
        var error = Assert.Throws<RpycConnectionException>(() => RpycConnection.Connect("127.0.0.1", server.Port, Pinned(targetHost: "rpyc.example.org")));
        output.WriteLine(error.Message);
        Assert.Contains("name does not match", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("does not chain", error.Message, StringComparison.Ordinal);
        // The name it does carry works.
        using var conn = RpycConnection.Connect("127.0.0.1", server.Port, Pinned(targetHost: "localhost"));
        conn.Ping();
    }

    [Fact]
    public void Connect_Callback_DecidesAlone()
    {
        using RpycServer server = StartServer(ServerKind.Threaded);
        string? seen = null;
        var accepting = new RpycConnectOptions
        {
            Tls = new RpycTlsClientOptions
            {
                ServerCertificateValidation = (_, certificate, _, errors) =>
                {
                    seen = $"{certificate?.Subject} {errors}";
                    return certificate?.Subject == "CN=rpyc-test-server";
                },
            },
        };
        using (var conn = RpycConnection.Connect("127.0.0.1", server.Port, accepting))
        {
            conn.Ping();
        }
        Assert.Equal("CN=rpyc-test-server RemoteCertificateChainErrors", seen);
        var refusing = new RpycConnectOptions { Tls = new RpycTlsClientOptions { ServerCertificateValidation = (_, _, _, _) => false } };
        Assert.Throws<RpycConnectionException>(() => RpycConnection.Connect("127.0.0.1", server.Port, refusing));
    }

    [Fact]
    public void Connect_DangerousAcceptAny_AcceptsUnknownCa()
    {
        using RpycServer server = StartServer(ServerKind.Threaded);
        var options = new RpycConnectOptions { Tls = new RpycTlsClientOptions { DangerousAcceptAnyServerCertificate = true } };
        using var conn = RpycConnection.Connect("127.0.0.1", server.Port, options);
        Assert.Equal("x", (string)conn.Root.echo("x"));
    }

    [Fact]
    public void TlsClientOptions_Contradictory_ThrowArgumentException()
    {
        Assert.Throws<ArgumentException>(() => new RpycConnectOptions
        {
            Tls = new RpycTlsClientOptions { CertificateAuthorities = Pki.CaOnly, DangerousAcceptAnyServerCertificate = true },
        });
        Assert.Throws<ArgumentException>(() => new RpycConnectOptions { Tls = new RpycTlsClientOptions { CertificateAuthorities = [] } });
        var noKey = X509CertificateLoader.LoadCertificate(Pki.Client.RawData);
        Assert.Throws<ArgumentException>(() => new RpycConnectOptions { Tls = new RpycTlsClientOptions { ClientCertificate = noKey } });
    }

    [Fact]
    public void ServerOptions_CertificateWithoutKey_ThrowsArgumentException()
    {
        var options = new RpycServerOptions { Tls = new RpycTlsServerOptions { Certificate = X509CertificateLoader.LoadCertificate(Pki.Server.RawData) } };
        var error = Assert.Throws<ArgumentException>(() => new ThreadedServer(new TlsProbeService(), options));
        Assert.Contains("no private key", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ForkingServer_ClientValidationCallback_ThrowsArgumentException()
    {
        var options = new RpycServerOptions
        {
            Tls = new RpycTlsServerOptions { Certificate = Pki.Server, RequireClientCertificate = true, ClientCertificateValidation = (_, _, _, _) => true },
        };
        var error = Assert.Throws<ArgumentException>(() => ForkingServer.Create<TlsProbeService>(options, new ForkingServerOptions { WorkerPath = WorkerLocator.Path }));
        Assert.Contains("ClientCertificateAuthorities", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_TlsClientToPlainServer_FailsWithClearError()
    {
        using RpycServer server = TestServers.Start<TlsProbeService>(ServerKind.Threaded);
        var error = Assert.Throws<RpycConnectionException>(() => RpycConnection.Connect("127.0.0.1", server.Port, Pinned()));
        output.WriteLine(error.Message);
        Assert.Contains($"TLS handshake with 127.0.0.1:{server.Port} failed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connect_TlsClientToPlainServerOnIpv6_MessageBracketsTheAddress()
    {
        using RpycServer server = TestServers.Start<TlsProbeService>(ServerKind.Threaded, new RpycServerOptions { Host = "::1", Port = 0 });
        var error = Assert.Throws<RpycConnectionException>(() => RpycConnection.Connect("::1", server.Port, Pinned()));
        output.WriteLine(error.Message);
        Assert.Contains($"TLS handshake with [::1]:{server.Port} failed", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connect_PlainClientToTlsServer_FailsAndServerLogs()
    {
        using var log = new LogCapture(output);
        using RpycServer server = StartServer(ServerKind.Threaded);
        using var conn = RpycConnection.Connect("127.0.0.1", server.Port, new RpycConnectOptions { SyncRequestTimeout = TimeSpan.FromSeconds(20) });
        Assert.ThrowsAny<RpycException>(() => conn.Ping());
        await log.WaitForAsync(l => l.Contains("TLS handshake", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the server's log of the failed handshake");
    }

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public async Task Server_HandshakeNeverCompleted_ClosedWithinHandshakeTimeout(ServerKind kind)
    {
        using var log = new LogCapture(output);
        using RpycServer server = StartServer(kind, handshakeTimeout: TimeSpan.FromSeconds(1));
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", server.Port);
        // The start of a ClientHello record header, and then nothing.
        await socket.SendAsync(new byte[] { 0x16, 0x03, 0x01 });
        byte[] buffer = new byte[64];
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        int read = await socket.ReceiveAsync(buffer, SocketFlags.None, limit.Token);
        Assert.Equal(0, read);
        string line = await log.WaitForAsync(l => l.Contains("TLS handshake", StringComparison.Ordinal), TimeSpan.FromSeconds(20), "the log of the timed-out handshake");
        Assert.Contains("did not complete within 1 s", line, StringComparison.Ordinal);
        // A real client still gets in.
        using var conn = RpycConnection.Connect("127.0.0.1", server.Port, Pinned());
        conn.Ping();
    }

    [Fact]
    public void SyncRequestTimeout_OverTls_ConnectionStaysUsable()
    {
        using RpycServer server = StartServer(ServerKind.Threaded);
        var options = new RpycConnectOptions { SyncRequestTimeout = TimeSpan.FromSeconds(1), Tls = new RpycTlsClientOptions { CertificateAuthorities = Pki.CaOnly } };
        using var conn = RpycConnection.Connect("127.0.0.1", server.Port, options);
        dynamic root = conn.Root;
        Assert.Throws<RpycTimeoutException>(() => (string)root.slow(3000));
        // The connection's thread is still in slow(): this ping's wait reads (and drops) the late
        // reply first. The TLS session must still be in step after the timed-out read.
        conn.Ping(timeout: TimeSpan.FromSeconds(30));
        for (int i = 0; i < 20; i++)
        {
            Assert.Equal((long)i, (long)root.echo(i));
        }
        Assert.Equal("done", (string)root.slow(0));
    }

    [Fact]
    public async Task ConnectAsync_PinnedCa_WorksAndSyncTimeoutsStillApply()
    {
        using RpycServer server = StartServer(ServerKind.Threaded);
        var options = new RpycConnectOptions { SyncRequestTimeout = TimeSpan.FromSeconds(1), Tls = new RpycTlsClientOptions { CertificateAuthorities = Pki.CaOnly } };
        await using RpycConnection conn = await RpycConnection.ConnectAsync("127.0.0.1", server.Port, options);
        dynamic root = conn.Root;
        Assert.Equal("a", (string)root.echo("a"));
        // After an async handshake the descriptor is non-blocking and .NET emulates blocking reads:
        // the timeout must hold on that path too.
        Assert.Throws<RpycTimeoutException>(() => (string)root.slow(3000));
        conn.Ping(timeout: TimeSpan.FromSeconds(30));
        Assert.Equal("b", (string)root.echo("b"));
    }

    [Fact]
    public async Task ConnectAsync_WrongCa_FailsWithClearError()
    {
        using RpycServer server = StartServer(ServerKind.Threaded);
        var options = new RpycConnectOptions { Tls = new RpycTlsClientOptions { CertificateAuthorities = Pki.OtherCaOnly } };
        var error = await Assert.ThrowsAsync<RpycConnectionException>(() => RpycConnection.ConnectAsync("127.0.0.1", server.Port, options));
        Assert.Contains("does not chain to a trusted root", error.Message, StringComparison.Ordinal);
    }
}
