using System.Collections.Concurrent;
using System.Diagnostics;

namespace Rpyc.Telemetry.Tests;

/// <summary>A telemetry attached to a server's connections (from <see cref="RpycService.OnConnect"/>).</summary>
public sealed class ServerSideTelemetryTests : IDisposable
{
    private readonly RpycTelemetry _serverTelemetry = new();
    private readonly ConcurrentQueue<RpycConnection> _serverConnections = new();
    private readonly ThreadedServer _server;

    public ServerSideTelemetryTests()
    {
        _server = new ThreadedServer(() => new ObservedService(_serverTelemetry, _serverConnections), new RpycServerOptions { Port = 0 });
        _server.Start();
    }

    public void Dispose() => _server.Dispose();

    private sealed class ObservedService(RpycTelemetry telemetry, ConcurrentQueue<RpycConnection> connections) : RpycService
    {
        public override void OnConnect(RpycConnection connection)
        {
            connections.Enqueue(connection);
            telemetry.Attach(connection);
        }

        [Exposed] public string Ping() => "pong";

        [Exposed] public long CallBack(Func<long, long> fn, long x) => fn(x) + 1;

        [Exposed] public Node GetNode() => new(1);
    }

    [Fact]
    public void Server_HandlesRequests_OutgoingCallbacksNestUnderTheIncomingRequest()
    {
        using (RpycConnection client = RpycConnection.Connect("127.0.0.1", _server.Port))
        {
            Netref root = client.RootNetref;
            Assert.Equal("pong", root.CallMethod("ping"));
            Func<long, long> twice = x => 2 * x;
            Assert.Equal(9L, root.CallMethod("call_back", twice, 4L));
            Assert.Equal("pong", root.CallMethod("ping"));
        }
        IReadOnlyList<CallRecord> records = _serverTelemetry.Records;
        CallRecord getroot = records.First();
        Assert.Equal(("getroot", CallDirection.Incoming, 1), (getroot.Handler, getroot.Direction, getroot.Depth));
        CallRecord handling = records.Single(r => r.Name == "call_back");
        Assert.Equal((CallDirection.Incoming, 1), (handling.Direction, handling.Depth));
        CallRecord callback = records.Single(r => r.Handler == "call");
        Assert.Equal((CallDirection.Outgoing, true, 2, handling.Id), (callback.Direction, callback.IsRoundTrip, callback.Depth, callback.ParentId));
        TelemetryStatistics stats = _serverTelemetry.GetStatistics();
        Assert.True(stats.IncomingRequests >= 4);
        Assert.True(stats.RoundTrips >= 1);
        Assert.Equal(1, stats.NetrefsCreated);
        Assert.True(stats.ObjectsExported >= 1);
    }

    [Fact]
    public void Reset_ObjectExportedBeforeAndReleasedAfter_NotCountedAsReleased()
    {
        using RpycConnection client = RpycConnection.Connect("127.0.0.1", _server.Port);
        Netref root = client.RootNetref;
        var warmup = (Netref)root.CallMethod("get_node")!;
        _serverTelemetry.Reset();
        using (var node = (Netref)root.CallMethod("get_node")!)
        {
            node.GetAttr("value");
        }
        warmup.Dispose();
        // The DELs reach the server before this request: handled in order.
        root.CallMethod("ping");
        TelemetryStatistics stats = _serverTelemetry.GetStatistics();
        Assert.Equal((1L, 1L, 0L), (stats.ObjectsExported, stats.ObjectsReleased, stats.ActiveExports));
    }

    // A request the server cannot even decode (a reference to an object it does not hold) is
    // answered with an exception: its frame still crossed the wire, and is counted as received.
    [Fact]
    public async Task PeerRequestNamingAnUnknownObject_ItsBytesCountedAsReceived()
    {
        string script = Path.Combine(Path.GetTempPath(), $"rpyc-badref-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, """
            import sys, rpyc
            from rpyc.core import consts
            conn = rpyc.connect("127.0.0.1", int(sys.argv[1]))
            conn.root
            seq = next(conn._seqcounter)
            args = (consts.LABEL_TUPLE, ((consts.LABEL_LOCAL_REF, ("x.Gone", 1, 987654)), (consts.LABEL_VALUE, "value")))
            conn._send(consts.MSG_REQUEST, seq, (consts.HANDLE_GETATTR, args))
            conn.serve(10)
            print("DONE", conn.root.ping())
            """);
        try
        {
            var start = new ProcessStartInfo(PythonServerFixture.Interpreter) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add(script);
            start.ArgumentList.Add(_server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
            using Process python = Process.Start(start)!;
            Task<string> stderr = python.StandardError.ReadToEndAsync();
            string stdout = await python.StandardOutput.ReadToEndAsync();
            await python.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(stdout.Contains("DONE pong", StringComparison.Ordinal), stdout + await stderr);
        }
        finally
        {
            File.Delete(script);
        }
        RpycConnection connection = Assert.Single(_serverConnections);
        Assert.True(SpinWait.SpinUntil(() => connection.IsClosed, TimeSpan.FromSeconds(30)));
        TelemetryStatistics stats = _serverTelemetry.GetStatistics();
        Assert.Equal(connection.Counters.BytesReceived, stats.BytesReceived);
        Assert.Equal(connection.Counters.IncomingRequests, stats.IncomingRequests);
        CallRecord failed = Assert.Single(_serverTelemetry.Records, r => r.Error is not null);
        Assert.Equal(("getattr", CallDirection.Incoming), (failed.Handler, failed.Direction));
    }
}
