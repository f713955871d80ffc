using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Rpyc.Telemetry.Tests;

// The Rpyc ActivitySource and Meter are process-wide: these tests run alone so that no other
// test's traffic reaches their listeners.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class InstrumentationCollection
{
    public const string Name = "Rpyc ActivitySource and Meter";
}

/// <summary>Activities and metrics for OpenTelemetry and dotnet-counters.</summary>
[Collection(InstrumentationCollection.Name)]
public sealed class InstrumentationTests : IDisposable
{
    private readonly ThreadedServer _server;

    public InstrumentationTests()
    {
        // Every connection feeds the source and meter by itself now: the server side of these
        // in-process tests is silenced by a recorder that emits nothing, so only the client shows.
        _server = new ThreadedServer(() => new TelemetryTestService(Silence), new RpycServerOptions { Port = 0 });
        _server.Start();
    }

    public void Dispose() => _server.Dispose();

    private static void Silence(RpycConnection connection) =>
        new RpycTelemetry(new RpycTelemetryOptions { Enabled = false, EmitActivities = false, EmitMetrics = false }).Attach(connection);

    [Fact]
    public void NoRecorderAttached_TheConnectionFeedsSourceAndMeter()
    {
        var stopped = new ConcurrentQueue<Activity>();
        var longs = new ConcurrentDictionary<string, long>();
        using (ActivityListener activities = Listen(stopped))
        using (var meter = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == RpycInstrumentation.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        })
        {
            ActivitySource.AddActivityListener(activities);
            meter.SetMeasurementEventCallback<long>((instrument, value, _, _) => longs.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value));
            meter.Start();
            using RpycConnection connection = RpycConnection.Connect("127.0.0.1", _server.Port);
            connection.RootNetref.CallMethod("ping");
            connection.RootNetref.CallMethod("ping");
            Assert.Equal(connection.Counters.SyncRequests, longs[RpycInstrumentation.RoundTripsInstrument]);
            Assert.Equal(connection.Counters.BytesSent, longs[RpycInstrumentation.BytesSentInstrument]);
        }
        Assert.Equal(2, stopped.Count(a => a.DisplayName == "TelemetryTestService/ping" && a.Kind == ActivityKind.Client));
        Assert.Single(stopped, a => a.DisplayName == "getroot");
    }

    [Fact]
    public void NoRecorderAttached_BytesReceivedIncludesTheRepliesToReleases()
    {
        var longs = new ConcurrentDictionary<string, long>();
        using var meter = ListenToMeter(longs);
        using RpycConnection connection = RpycConnection.Connect("127.0.0.1", _server.Port);
        Netref root = connection.RootNetref;
        using (var node = (Netref)root.CallMethod("get_node")!)
        {
            node.GetAttr("value");
        }
        // The server answers the DEL; this round trip reads that reply before its own.
        root.CallMethod("ping");
        Assert.Equal(connection.Counters.BytesReceived, longs[RpycInstrumentation.BytesReceivedInstrument]);
    }

    [Fact]
    public void ProfileScope_WhileSomeoneListens_GivesTheConnectionBackToItsTelemetry()
    {
        using MeterListener meter = ListenToMeter(new ConcurrentDictionary<string, long>());
        var first = new RpycTelemetry();
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", _server.Port, first);
        using (RpycProfiler.Profile(connection, printSummary: false))
        {
            connection.RootNetref.CallMethod("ping");
        }
        Assert.True(first.IsAttached(connection));
        long before = first.GetStatistics().RoundTrips;
        connection.RootNetref.CallMethod("ping");
        Assert.Equal(before + 1, first.GetStatistics().RoundTrips);
    }

    private static MeterListener ListenToMeter(ConcurrentDictionary<string, long> longs)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == RpycInstrumentation.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => longs.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value));
        listener.Start();
        return listener;
    }

    private static ActivityListener Listen(ConcurrentQueue<Activity> stopped) => new()
    {
        ShouldListenTo = source => source.Name == RpycInstrumentation.ActivitySourceName,
        Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        ActivityStopped = stopped.Enqueue,
    };

    [Fact]
    public void Activities_OnePerRoundTrip_CallbackIsAChildServerSpan()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using (ActivityListener listener = Listen(stopped))
        {
            ActivitySource.AddActivityListener(listener);
            var telemetry = new RpycTelemetry();
            using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", _server.Port, telemetry);
            Netref root = connection.RootNetref;
            root.CallMethod("ping");
            Assert.Throws<RpycRemoteException>(() => root.CallMethod("fail", "boom"));
            Func<long, long> twice = x => 2 * x;
            root.CallMethod("call_and_release", twice, 5L);
            telemetry.Detach(connection);
            listener.Dispose();
        }
        // Client activities of this connection, and the server side's activities for the callbacks.
        Activity ping = Assert.Single(stopped, a => a.DisplayName == "TelemetryTestService/ping");
        Assert.Equal(ActivityKind.Client, ping.Kind);
        Assert.Equal("callattr", ping.GetTagItem("rpyc.handler"));
        Assert.Equal("ping", ping.GetTagItem("rpc.method"));
        Assert.Equal("rpyc", ping.GetTagItem("rpc.system"));
        Assert.True((long)ping.GetTagItem("rpyc.request_bytes")! > 0);
        Assert.Equal(ActivityStatusCode.Unset, ping.Status);

        Activity failed = Assert.Single(stopped, a => a.DisplayName == "TelemetryTestService/fail");
        Assert.Equal(ActivityStatusCode.Error, failed.Status);

        Activity outer = Assert.Single(stopped, a => a.DisplayName == "TelemetryTestService/call_and_release");
        Activity callback = Assert.Single(stopped, a => a.Kind == ActivityKind.Server && a.GetTagItem("rpyc.handler") as string == "call");
        Assert.Equal(outer.SpanId, callback.ParentSpanId);
        Assert.Equal(outer.TraceId, callback.TraceId);
        Assert.Single(stopped, a => a.DisplayName == "getroot");
        Assert.DoesNotContain(stopped, a => a.GetTagItem("rpyc.handler") as string == "del" && a.Kind == ActivityKind.Client);
    }

    [Fact]
    public void Activities_NoListener_NoneCreated()
    {
        var telemetry = new RpycTelemetry();
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", _server.Port, telemetry);
        Activity? before = Activity.Current;
        connection.RootNetref.CallMethod("ping");
        Assert.Same(before, Activity.Current);
        Assert.Equal(2, telemetry.GetStatistics().RoundTrips);
    }

    [Fact]
    public void Metrics_Meter_CountsRoundTripsBytesNetrefsAndDurations()
    {
        var longs = new ConcurrentDictionary<string, long>();
        var durations = new ConcurrentQueue<(double Seconds, string? Handler)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == RpycInstrumentation.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => longs.AddOrUpdate(instrument.Name, value, (_, sum) => sum + value));
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
        {
            string? handler = null;
            foreach (KeyValuePair<string, object?> tag in tags)
            {
                if (tag.Key == "rpyc.handler")
                {
                    handler = tag.Value as string;
                }
            }
            durations.Enqueue((value, handler));
        });
        listener.Start();

        var telemetry = new RpycTelemetry();
        long roundTrips;
        long bytesSent;
        using (RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", _server.Port, telemetry))
        {
            Netref root = connection.RootNetref;
            root.CallMethod("ping");
            using (var node = (Netref)root.CallMethod("get_node")!)
            {
                node.GetAttr("value");
            }
            root.CallMethod("ping");
            roundTrips = connection.Counters.SyncRequests;
            bytesSent = connection.Counters.BytesSent;
            telemetry.Detach(connection);
            // Detached, the connection still feeds the meter itself (its CLOSE would count): stop listening first.
            listener.Dispose();
        }

        Assert.Equal(roundTrips, longs[RpycInstrumentation.RoundTripsInstrument]);
        Assert.Equal(1, longs[RpycInstrumentation.OneWayMessagesInstrument]);
        Assert.Equal(bytesSent, longs[RpycInstrumentation.BytesSentInstrument]);
        Assert.Equal(telemetry.GetStatistics().BytesReceived, longs[RpycInstrumentation.BytesReceivedInstrument]);
        Assert.Equal(2, longs[RpycInstrumentation.NetrefsCreatedInstrument]);
        Assert.Equal(1, longs[RpycInstrumentation.NetrefsReleasedInstrument]);
        Assert.Equal(roundTrips, durations.Count);
        Assert.Equal(3, durations.Count(d => d.Handler == "callattr"));
        Assert.All(durations, d => Assert.True(d.Seconds > 0));
    }

    [Fact]
    public void Disabled_ActivitiesAndMetricsStillFlow()
    {
        var stopped = new ConcurrentQueue<Activity>();
        using ActivityListener listener = Listen(stopped);
        ActivitySource.AddActivityListener(listener);
        var telemetry = new RpycTelemetry(new RpycTelemetryOptions { Enabled = false });
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", _server.Port, telemetry);
        connection.RootNetref.CallMethod("ping");
        Assert.Equal(0, telemetry.GetStatistics().TotalCalls);
        Assert.Contains(stopped, a => a.DisplayName == "TelemetryTestService/ping");
    }
}
