using System.Net;
using System.Net.Sockets;
using Rpyc.IntegrationTests.Servers;
using Rpyc.Servers;

namespace Rpyc.IntegrationTests;

/// <summary>
/// Tests that turn a process-wide AppContext switch off: they run alone, after the parallel
/// collections, so that no TLS test of another class runs while TLS is switched off.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessSwitchesCollection
{
    public const string Name = "Process-wide switches, run alone";
}

/// <summary>
/// The feature switch <c>Rpyc.Tls.IsSupported</c> off (an application published without TLS, as
/// rpycbench's NativeAOT worker is): every way to ask for TLS fails at once with an error that
/// names the switch, before a socket is connected or a port bound, and never falls back to plain TCP.
/// </summary>
[Collection(ProcessSwitchesCollection.Name)]
public sealed class TlsSwitchTests(TlsPkiFixture fixture) : IClassFixture<TlsPkiFixture>, IDisposable
{
    private const string Switch = Transport.TlsSupport.SwitchName;

    private readonly TlsSwitchOff _off = new();

    public void Dispose() => _off.Dispose();

    [Fact]
    public void Connect_WithTls_RefusedBeforeConnecting()
    {
        // A listener that counts what reaches it: a refused connect must not even open a socket.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(4);
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var options = new RpycConnectOptions { Tls = new RpycTlsClientOptions { CertificateAuthorities = fixture.Pki.CaOnly } };

        var error = Assert.Throws<NotSupportedException>(() => RpycConnection.Connect("127.0.0.1", port, options));

        Assert.Contains("RpycConnectOptions.Tls", error.Message, StringComparison.Ordinal);
        Assert.Contains(Switch, error.Message, StringComparison.Ordinal);
        Assert.False(listener.Poll(200_000, SelectMode.SelectRead), "the refused TLS connect opened a TCP connection");
    }

    [Fact]
    public async Task ConnectAsync_WithTls_Refused()
    {
        var options = new RpycConnectOptions { Tls = new RpycTlsClientOptions { CertificateAuthorities = fixture.Pki.CaOnly } };

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => RpycConnection.ConnectAsync("127.0.0.1", 1, options));

        Assert.Contains(Switch, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public void Server_WithTls_RefusedBeforeBinding(ServerKind kind)
    {
        int port = FreePort();
        var options = new RpycServerOptions { Port = port, Tls = new RpycTlsServerOptions { Certificate = fixture.Pki.Server } };

        var error = Assert.Throws<NotSupportedException>(() => TestServers.Start<TlsProbeService>(kind, options).Dispose());

        Assert.Contains("RpycServerOptions.Tls", error.Message, StringComparison.Ordinal);
        Assert.Contains(Switch, error.Message, StringComparison.Ordinal);
        // Nothing was left listening on the port.
        using var again = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        again.Bind(new IPEndPoint(IPAddress.Loopback, port));
    }

    [Fact]
    public void Worker_ServerAsksForTls_ExitsWithUsageCodeAndSaysWhy()
    {
        string[] args = [.. ForkingWorker.WorkerArguments.Format("@rpyc-test-no-server", typeof(TlsProbeService), RpycConnectOptions.Default), "--tls", "stdin"];
        var error = new StringWriter();
        TextWriter was = Console.Error;
        Console.SetError(error);
        int code;
        try
        {
            code = ForkingWorker.Run<TlsProbeService>(args);
        }
        finally
        {
            Console.SetError(was);
        }

        Assert.Equal(2, code);
        Assert.Contains("--tls", error.ToString(), StringComparison.Ordinal);
        Assert.Contains(Switch, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void PlainConnections_StillWork()
    {
        using RpycServer server = TestServers.Start<TlsProbeService>(ServerKind.Threaded, new RpycServerOptions { Port = 0 });
        using var conn = RpycConnection.Connect("127.0.0.1", server.Port);

        Assert.False((bool)((dynamic)conn.Root).encrypted());
        Assert.False(conn.IsEncrypted);
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    // The switch off for one test, then back to what it was (unset: on).
    private sealed class TlsSwitchOff : IDisposable
    {
        private readonly bool _wasSet;
        private readonly bool _was;

        public TlsSwitchOff()
        {
            _wasSet = AppContext.TryGetSwitch(Switch, out _was);
            AppContext.SetSwitch(Switch, false);
        }

        public void Dispose() => AppContext.SetSwitch(Switch, !_wasSet || _was);
    }
}
