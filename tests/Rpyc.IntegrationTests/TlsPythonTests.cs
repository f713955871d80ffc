using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Rpyc.IntegrationTests.Servers;

namespace Rpyc.IntegrationTests;

/// <summary>
/// TLS interop with Debian's python3-rpyc 5.3 both ways, with certificates made at test time:
/// the .NET client against <c>ThreadedServer(..., authenticator=SSLAuthenticator(...))</c>, and
/// <c>rpyc.ssl_connect</c> against the .NET ThreadedServer and ForkingServer; with and without
/// client certificates, and with the wrong CA.
/// </summary>
[Collection(DotNetServersCollection.Name)]
public sealed class TlsPythonTests(TlsPkiFixture fixture, ITestOutputHelper output) : IClassFixture<TlsPkiFixture>
{
    // A stock ThreadedServer with rpyc's SSLAuthenticator; the service reports what the
    // authenticator passed on (getpeercert() of the client).
    internal const string ServerScript = """
        import sys
        import rpyc
        from rpyc.utils.server import ThreadedServer
        from rpyc.utils.authenticators import SSLAuthenticator

        class TlsProbe(rpyc.Service):
            def on_connect(self, conn):
                self._conn = conn

            def exposed_echo(self, x):
                return x

            def exposed_client_subject(self):
                cert = self._conn._config.get("credentials") or {}
                for rdn in cert.get("subject", ()):
                    for key, value in rdn:
                        if key == "commonName":
                            return value
                return ""

        keyfile, certfile, ca = sys.argv[1], sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else None)
        server = ThreadedServer(TlsProbe, hostname="127.0.0.1", port=0,
                                authenticator=SSLAuthenticator(keyfile, certfile, ca_certs=ca),
                                protocol_config={"allow_public_attrs": False})
        print(f"PORT {server.port}", flush=True)
        server.start()
        """;

    // rpyc.ssl_connect as documented; prints one JSON line with what it saw or the error.
    private const string ClientScript = """
        import json
        import sys
        import rpyc

        port = int(sys.argv[1])
        ca, cert, key = (None if a == "-" else a for a in sys.argv[2:5])
        try:
            c = rpyc.ssl_connect("127.0.0.1", port, keyfile=key, certfile=cert, ca_certs=ca,
                                 config={"sync_request_timeout": 30})
            root = c.root
            big = bytes(range(256)) * 1200
            out = {"ok": True, "echo": root.echo("héllo"), "big": root.echo(big) == big,
                   "encrypted": root.encrypted(), "subject": root.client_subject(),
                   "tls": c._channel.stream.sock.version()}
            c.close()
        except Exception as e:
            out = {"ok": False, "error": f"{type(e).__name__}: {e}"}
        print(json.dumps(out), flush=True)
        """;

    private TlsPki Pki => fixture.Pki;

    private RpycConnectOptions PinnedClient(bool withClientCertificate = false, bool otherCa = false) => new()
    {
        ProtocolVersion = PythonEnvironment.ProtocolVersion,
        SyncRequestTimeout = TimeSpan.FromSeconds(30),
        ConnectTimeout = TimeSpan.FromSeconds(20),
        Tls = new RpycTlsClientOptions
        {
            CertificateAuthorities = otherCa ? Pki.OtherCaOnly : Pki.CaOnly,
            ClientCertificate = withClientCertificate ? Pki.Client : null,
        },
    };

    [Fact]
    public void DotNetClient_PythonSslAuthenticator_CallsWork()
    {
        using var server = PythonTlsServer.Start(Pki, output, Pki.ServerKey, Pki.ServerPem);
        using var conn = RpycConnection.Connect("127.0.0.1", server.Port, PinnedClient());
        dynamic root = conn.Root;
        Assert.Equal("héllo", (string)root.echo("héllo"));
        byte[] big = new byte[300_000];
        Random.Shared.NextBytes(big);
        Assert.Equal(big, (byte[])root.echo(big));
        Assert.Equal("", (string)root.client_subject());
        Assert.Equal("CN=rpyc-test-server", conn.RemoteCertificate!.Subject);
    }

    [Fact]
    public void DotNetClient_PythonRequiresClientCertificate_PresentsIt()
    {
        using var server = PythonTlsServer.Start(Pki, output, Pki.ServerKey, Pki.ServerPem, Pki.CaPem);
        using var conn = RpycConnection.Connect("127.0.0.1", server.Port, PinnedClient(withClientCertificate: true));
        Assert.Equal("rpyc-test-client", (string)conn.Root.client_subject());
    }

    [Fact]
    public void DotNetClient_PythonRequiresClientCertificate_RefusedWithout()
    {
        using var server = PythonTlsServer.Start(Pki, output, Pki.ServerKey, Pki.ServerPem, Pki.CaPem);
        // TLS 1.3: the refusal may come after the client's side of the handshake, at the first call.
        var error = Assert.ThrowsAny<RpycConnectionException>(() =>
        {
            using var conn = RpycConnection.Connect("127.0.0.1", server.Port, PinnedClient());
            conn.Ping();
        });
        output.WriteLine(error.ToString());
    }

    [Fact]
    public void DotNetClient_PythonServerOfOtherCa_FailsNamingTheUntrustedChain()
    {
        using var server = PythonTlsServer.Start(Pki, output, Pki.OtherServerKey, Pki.OtherServerPem);
        var error = Assert.Throws<RpycConnectionException>(() => RpycConnection.Connect("127.0.0.1", server.Port, PinnedClient()));
        output.WriteLine(error.Message);
        Assert.Contains("the server's certificate was rejected: it does not chain to a trusted root", error.Message, StringComparison.Ordinal);
        Assert.Contains("CN=rpyc-other-server", error.Message, StringComparison.Ordinal);
    }

    // Python's ssl_connect gives the handshake its 3 s connect timeout, which on this shared
    // machine a worker that is still starting can miss: wait until one is ready, as a deployed
    // server would be.
    private async Task<RpycServer> StartDotNetAsync(ServerKind kind, bool requireClientCertificate)
    {
        RpycServer server = StartDotNet(kind, requireClientCertificate);
        if (server is ForkingServer forking && !await Eventually.TrueAsync(() => forking.ReadyWorkers >= 1, TimeSpan.FromSeconds(60)))
        {
            server.Dispose();
            throw new TimeoutException("No ForkingServer worker was ready within 60 s.");
        }
        return server;
    }

    private RpycServer StartDotNet(ServerKind kind, bool requireClientCertificate) =>
        TestServers.Start<TlsProbeService>(kind, new RpycServerOptions
        {
            Port = 0,
            Tls = new RpycTlsServerOptions
            {
                Certificate = Pki.Server,
                RequireClientCertificate = requireClientCertificate,
                ClientCertificateAuthorities = requireClientCertificate ? Pki.CaOnly : null,
            },
        }, prestartedWorkers: 1);

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public async Task PythonSslConnect_DotNetServer_VerifiesAndCalls(ServerKind kind)
    {
        using RpycServer server = await StartDotNetAsync(kind, requireClientCertificate: false);
        JsonElement json = await RunClientAsync(server.Port, Pki.CaPem, null, null);
        Assert.True(json.GetProperty("ok").GetBoolean(), json.ToString());
        Assert.Equal("héllo", json.GetProperty("echo").GetString());
        Assert.True(json.GetProperty("big").GetBoolean());
        Assert.True(json.GetProperty("encrypted").GetBoolean());
        Assert.Equal("", json.GetProperty("subject").GetString());
        Assert.StartsWith("TLSv1.", json.GetProperty("tls").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public async Task PythonSslConnect_ClientCertificateRequired_ServerSeesIt(ServerKind kind)
    {
        using RpycServer server = await StartDotNetAsync(kind, requireClientCertificate: true);
        JsonElement json = await RunClientAsync(server.Port, Pki.CaPem, Pki.ClientPem, Pki.ClientKey);
        Assert.True(json.GetProperty("ok").GetBoolean(), json.ToString());
        Assert.Equal("rpyc-test-client", json.GetProperty("subject").GetString());
    }

    [Fact]
    public async Task PythonSslConnect_ClientCertificateRequiredButMissing_Refused()
    {
        using RpycServer server = StartDotNet(ServerKind.Threaded, requireClientCertificate: true);
        JsonElement json = await RunClientAsync(server.Port, Pki.CaPem, null, null);
        Assert.False(json.GetProperty("ok").GetBoolean(), json.ToString());
    }

    [Fact]
    public async Task PythonSslConnect_WrongCa_FailsVerification()
    {
        using RpycServer server = StartDotNet(ServerKind.Threaded, requireClientCertificate: false);
        JsonElement json = await RunClientAsync(server.Port, Pki.OtherCaPem, null, null);
        Assert.False(json.GetProperty("ok").GetBoolean(), json.ToString());
        Assert.Contains("CERTIFICATE_VERIFY_FAILED", json.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    // Python's ssl_connect without ca_certs checks nothing (CERT_NONE): it still gets an encrypted session.
    [Fact]
    public async Task PythonSslConnect_NoCa_ConnectsUnverified()
    {
        using RpycServer server = StartDotNet(ServerKind.Threaded, requireClientCertificate: false);
        JsonElement json = await RunClientAsync(server.Port, null, null, null);
        Assert.True(json.GetProperty("ok").GetBoolean(), json.ToString());
        Assert.True(json.GetProperty("encrypted").GetBoolean());
    }

    private async Task<JsonElement> RunClientAsync(int port, string? ca, string? cert, string? key)
    {
        _ = PythonEnvironment.RpycVersion;
        string script = Path.Combine(Pki.Folder, "tls_client.py");
        await File.WriteAllTextAsync(script, ClientScript);
        var start = new ProcessStartInfo(PythonEnvironment.Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in new[] { "-u", script, port.ToString(CultureInfo.InvariantCulture), ca ?? "-", cert ?? "-", key ?? "-" })
        {
            start.ArgumentList.Add(argument);
        }
        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {PythonEnvironment.Interpreter}.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        try
        {
            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(limit.Token);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
        }
        string text = await stdout;
        output.WriteLine($"python client: exit {process.ExitCode}\n{text}\n{await stderr}");
        string? last = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        Assert.False(string.IsNullOrEmpty(last), $"The Python client printed nothing. stderr:\n{await stderr}");
        return JsonDocument.Parse(last!).RootElement.Clone();
    }
}

/// <summary>The Python TLS server of <see cref="TlsPythonTests"/>, killed with its process tree on dispose.</summary>
internal sealed class PythonTlsServer : IDisposable
{
    private readonly Process _process;

    private PythonTlsServer(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static PythonTlsServer Start(TlsPki pki, ITestOutputHelper output, params string[] arguments)
    {
        _ = PythonEnvironment.RpycVersion;
        string script = Path.Combine(pki.Folder, "tls_server.py");
        File.WriteAllText(script, TlsPythonTests.ServerScript);
        var start = new ProcessStartInfo(PythonEnvironment.Interpreter)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-u");
        start.ArgumentList.Add(script);
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        var port = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var lines = new StringBuilder();
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (lines)
            {
                if (lines.Length < 64 * 1024)
                {
                    lines.AppendLine(line);
                }
            }
            if (line.StartsWith("PORT ", StringComparison.Ordinal) && int.TryParse(line.AsSpan(5), CultureInfo.InvariantCulture, out int p))
            {
                port.TrySetResult(p);
            }
        }
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.Exited += (_, _) => port.TrySetException(new InvalidOperationException("The Python TLS server exited before listening."));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            int bound = port.Task.WaitAsync(TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
            return new PythonTlsServer(process, bound);
        }
        catch (Exception ex)
        {
            Kill(process);
            process.Dispose();
            lock (lines)
            {
                output.WriteLine(lines.ToString());
                throw new InvalidOperationException($"The Python TLS server did not start: {ex.Message}\n{lines}", ex);
            }
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
            process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        Kill(_process);
        _process.Dispose();
    }
}
