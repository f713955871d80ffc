using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Rpyc.Bench.Tests;

// The TLS targets: servers in their own process with the suite's certificate, clients pinned to it,
// and `serve` writing the certificate for remote clients.
[Collection(ServerProcesses.Name)]
public sealed class TlsTargetTests(ITestOutputHelper output)
{
    [Fact]
    public void RpycThreadedTls_OutOfProcess_EncryptedAndPinned()
    {
        using ServerHost host = ServerHost.Start(TargetCatalog.RpycThreadedTls);
        Assert.True(host.IsOutOfProcess);
        using var client = (RpycBenchClient)host.Target.Connect();
        client.Ping();
        client.Echo(Payload.Create(100_000));
        Assert.True(client.Connection.IsEncrypted);
        Assert.Equal(BenchTls.Certificate.RawData, client.Connection.RemoteCertificate!.RawData);
        Assert.NotNull(client.Connection.Options.Tls!.ServerCertificateValidation);
    }

    [Fact]
    public void RpycThreadedTls_ClientPinnedToAnotherCertificate_Refused()
    {
        using ServerHost host = ServerHost.Start(TargetCatalog.RpycThreadedTls);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        X509Certificate2 other = new CertificateRequest("CN=rpycbench", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1));
        var options = new RpycConnectOptions { Tls = new RpycTlsClientOptions { CertificateAuthorities = [X509CertificateLoader.LoadCertificate(other.RawData)] } };
        var error = Assert.Throws<RpycConnectionException>(() => RpycConnection.Connect("127.0.0.1", host.Port, options));
        output.WriteLine(error.Message);
        Assert.Contains("certificate was rejected", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HttpThreadedTls_OutOfProcess_AnswersOverHttpsOnly()
    {
        using ServerHost host = ServerHost.Start(TargetCatalog.HttpThreadedTls);
        BenchTarget target = host.Target;
        Assert.IsType<HttpClientBenchTarget>(target);
        using (BenchClient client = target.Connect())
        {
            client.Ping();
            client.Download(300_000);
            client.Echo(Payload.Create(5000));
            Assert.Equal(3, client.RoundTrips);
        }
        // Plain HTTP to the HTTPS port gets no valid reply.
        using BenchClient plain = new HttpClientBenchClient("127.0.0.1", host.Port);
        Assert.ThrowsAny<Exception>(() => plain.Ping());
    }

    [Fact]
    public void Serve_RpycThreadedTls_WritesTheCertificateForRemoteClients()
    {
        using var stop = new CancellationTokenSource();
        var stdout = new StringWriter();
        var stderr = new SyncWriter();
        int code = -1;
        var serving = new Thread(() => code = LocalServer.Serve(TargetCatalog.RpycThreadedTls, "127.0.0.1", 0, TimeSpan.Zero, watchStdin: false, stdout, stderr, stop.Token));
        serving.Start();
        string? path = null;
        try
        {
            Assert.True(SpinWait.SpinUntil(() => stderr.Text.Contains("written to ", StringComparison.Ordinal), TimeSpan.FromSeconds(30)), stderr.Text);
            output.WriteLine(stderr.Text);
            string line = stderr.Text.Split('\n').First(l => l.Contains("written to ", StringComparison.Ordinal));
            path = line[(line.IndexOf("written to ", StringComparison.Ordinal) + "written to ".Length)..].Trim().TrimEnd('.');
            X509Certificate2 written = X509CertificateLoader.LoadCertificateFromFile(path);
            Assert.Equal(BenchTls.Certificate.RawData, written.RawData);
            Assert.Contains(BenchTls.PinnedCaVariable, stderr.Text, StringComparison.Ordinal);
            // A client that pins the written file gets in.
            int port = int.Parse(stdout.ToString().Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
            var options = new RpycConnectOptions { Tls = new RpycTlsClientOptions { CertificateAuthorities = [written] } };
            using var conn = RpycConnection.Connect("127.0.0.1", port, options);
            conn.Ping();
        }
        finally
        {
            stop.Cancel();
            serving.Join(TimeSpan.FromSeconds(10));
            if (path is not null)
            {
                File.Delete(path);
            }
        }
        Assert.Equal(0, code);
    }

    [Fact]
    public void DefaultTargets_LeaveTlsOut()
    {
        Assert.DoesNotContain(TargetCatalog.RpycThreadedTls, SuiteOptions.DefaultTargets);
        Assert.DoesNotContain(TargetCatalog.HttpThreadedTls, SuiteOptions.DefaultTargets);
        Assert.True(TargetCatalog.IsKnown(TargetCatalog.RpycThreadedTls));
        Assert.True(TargetCatalog.IsKnown(TargetCatalog.HttpThreadedTls));
    }

    private sealed class SyncWriter : StringWriter
    {
        private readonly object _gate = new();

        public string Text
        {
            get
            {
                lock (_gate)
                {
                    return ToString();
                }
            }
        }

        public override void Write(char value)
        {
            lock (_gate)
            {
                base.Write(value);
            }
        }

        public override void Write(string? value)
        {
            lock (_gate)
            {
                base.Write(value);
            }
        }

        public override void WriteLine(string? value)
        {
            lock (_gate)
            {
                base.WriteLine(value);
            }
        }
    }
}
