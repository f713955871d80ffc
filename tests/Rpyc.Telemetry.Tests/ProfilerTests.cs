namespace Rpyc.Telemetry.Tests;

/// <summary>The profiler entry points, sections and the telemetry options.</summary>
[Collection(DotnetServerCollection.Name)]
public sealed class ProfilerTests(DotnetServerFixture server, ITestOutputHelper output)
{
    [Fact]
    public void Profile_Disposed_PrintsSummaryAndStopsRecording()
    {
        using RpycConnection connection = RpycConnection.Connect("127.0.0.1", server.Port);
        Netref root = connection.RootNetref;
        var writer = new StringWriter();
        RpycTelemetry telemetry;
        using (ProfilingScope profiled = RpycProfiler.Profile(connection, slowCallThreshold: TimeSpan.FromSeconds(5), output: writer))
        {
            telemetry = profiled.Telemetry;
            Assert.Equal("pong", profiled.Root.ping());
            Assert.Equal(3L, profiled.RootNetref.CallMethod("add", 1L, 2L));
            Assert.Equal(string.Empty, writer.ToString());
        }
        output.WriteLine(writer.ToString());
        string[] lines = writer.ToString().Split('\n');
        Assert.Contains("RPyC TELEMETRY SUMMARY", lines);
        Assert.Contains("Network Round Trips:      2", lines);
        Assert.Contains("Slow Calls (>5.0s):       0", lines);
        Assert.Equal(TimeSpan.FromSeconds(5), telemetry.Options.SlowCallThreshold);

        root.CallMethod("ping");
        Assert.Equal(2, telemetry.GetStatistics().RoundTrips);
        Assert.False(telemetry.IsAttached(connection));
    }

    [Fact]
    public void Profile_InsideAnotherTelemetry_GivesTheConnectionBack()
    {
        var outer = new RpycTelemetry();
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, outer);
        Netref root = connection.RootNetref;
        using (ProfilingScope profiled = RpycProfiler.Profile(connection, printSummary: false))
        {
            root.CallMethod("ping");
            Assert.Equal(1, profiled.Telemetry.GetStatistics().RoundTrips);
        }
        root.CallMethod("ping");
        Assert.True(outer.IsAttached(connection));
        // getroot and the last ping; the ping made while profiling went to the inner telemetry.
        Assert.Equal(2, outer.GetStatistics().RoundTrips);
    }

    [Fact]
    public void RunScenario_Script_ReturnsTheFullReport()
    {
        ProfileResult result = RpycProfiler.RunScenario("127.0.0.1", server.Port, root =>
        {
            root.ping();
            foreach (object? item in root.get_list())
            {
            }
        });
        output.WriteLine(result.Report);
        Assert.True(result.Succeeded);
        Assert.StartsWith($"Profiled scenario against 127.0.0.1:{server.Port}: ", result.Report, StringComparison.Ordinal);
        Assert.Contains("RPYC CALL TREE", result.Report, StringComparison.Ordinal);
        Assert.Contains("RPYC CALL TIMELINE", result.Report, StringComparison.Ordinal);
        Assert.Contains("ADVICE", result.Report, StringComparison.Ordinal);
        // getroot, ping, get_list, __iter__, 6 x __next__.
        Assert.Equal(10, result.Statistics.RoundTrips);
        Assert.Equal(result.Report, result.ToString());
    }

    [Fact]
    public void RunScenario_ScenarioThrows_ReportStillReturnedWithTheError()
    {
        ProfileResult result = RpycProfiler.RunScenario("127.0.0.1", server.Port, root =>
        {
            root.ping();
            root.fail("scripted failure");
        });
        Assert.False(result.Succeeded);
        Assert.IsType<RpycRemoteException>(result.Error);
        Assert.Contains("SCENARIO FAILED: RpycRemoteException", result.Report, StringComparison.Ordinal);
        Assert.Equal(3, result.Statistics.RoundTrips);
        Assert.Equal(1, result.Statistics.Errors);
    }

    [Fact]
    public void RunScenario_Ipv6Host_ReportNamesTheTargetBracketed()
    {
        using var server6 = new ThreadedServer(() => new TelemetryTestService(), new RpycServerOptions { Host = "::1", Port = 0 });
        server6.Start();
        ProfileResult result = RpycProfiler.RunScenario("::1", server6.Port, root => root.ping());
        Assert.True(result.Succeeded, result.Error?.ToString());
        Assert.StartsWith($"Profiled scenario against [::1]:{server6.Port}: ", result.Report, StringComparison.Ordinal);
    }

    [Fact]
    public void RunScenario_NoServer_ThrowsConnectionException()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        Assert.Throws<RpycConnectionException>(() => RpycProfiler.RunScenario("127.0.0.1", port, root => root.ping()));
    }

    [Fact]
    public void Section_NestedAndOnTheCallingFlowOnly_CountsItsOwnRoundTrips()
    {
        var telemetry = new RpycTelemetry();
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry);
        Netref root = connection.RootNetref;
        TelemetrySection outer;
        TelemetrySection inner;
        using var go = new ManualResetEventSlim();
        // A thread started before the section is not on its flow: its calls are not the section's.
        var unrelated = new Thread(() =>
        {
            Assert.True(go.Wait(TimeSpan.FromSeconds(30)));
            root.CallMethod("ping");
        });
        unrelated.Start();
        using (outer = telemetry.Section("outer"))
        {
            root.CallMethod("ping");
            using (inner = telemetry.Section("inner"))
            {
                using var list = (Netref)root.CallMethod("get_list")!;
                Assert.Equal(5L, list.Len());
            }
            go.Set();
            Assert.True(unrelated.Join(TimeSpan.FromSeconds(30)));
            // Work started inside the section inherits its flow and counts.
            var child = new Thread(() => root.CallMethod("add", 1L, 2L));
            child.Start();
            Assert.True(child.Join(TimeSpan.FromSeconds(30)));
        }
        for (int i = 0; i < 2; i++)
        {
            using (telemetry.Section("inner"))
            {
                root.CallMethod("ping");
            }
        }
        Assert.Equal((4, 1, 1, 1), (outer.RoundTrips, outer.OneWayMessages, outer.NetrefsCreated, outer.NetrefsReleased));
        Assert.Equal((2, 1, 1, 1), (inner.RoundTrips, inner.OneWayMessages, inner.NetrefsCreated, inner.NetrefsReleased));
        Assert.True(outer.BytesSent > inner.BytesSent && inner.BytesReceived > 0);
        IReadOnlyList<SectionStatistics> sections = telemetry.Sections;
        Assert.Equal(["inner", "outer"], sections.Select(s => s.Name));
        SectionStatistics innerTotal = sections[0];
        Assert.Equal((3L, 4L), (innerTotal.Runs, innerTotal.RoundTrips));
        Assert.Equal("inner", telemetry.Records.Single(r => r.Name == "get_list").Section);
        Assert.Null(telemetry.Records.Last(r => r.Name == "ping" && r.Section is null).Section);
    }

    [Fact]
    public void MaxRecords_LogFull_CountersStayExact()
    {
        var telemetry = new RpycTelemetry(new RpycTelemetryOptions { MaxRecords = 5 });
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry);
        for (int i = 0; i < 10; i++)
        {
            connection.RootNetref.CallMethod("ping");
        }
        TelemetryStatistics stats = telemetry.GetStatistics();
        Assert.Equal(11, stats.RoundTrips);
        Assert.Equal(5, telemetry.Records.Count);
        Assert.Equal((5L, 6L), (stats.RecordsKept, stats.RecordsDropped));
        Assert.Equal([1L, 2, 3, 4, 5], telemetry.Records.Select(r => r.Id));
        Assert.Contains("Records Dropped:          6 (log full at 5)", telemetry.FormatSummary(), StringComparison.Ordinal);
    }

    [Fact]
    public void MaxRecords_IntMaxValue_KeepsEveryRecord()
    {
        var telemetry = new RpycTelemetry(new RpycTelemetryOptions { MaxRecords = int.MaxValue });
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry);
        for (int i = 0; i < 3; i++)
        {
            connection.RootNetref.CallMethod("ping");
        }
        TelemetryStatistics stats = telemetry.GetStatistics();
        Assert.Equal((4L, 0L), (stats.RecordsKept, stats.RecordsDropped));
        Assert.Equal([1L, 2, 3, 4], telemetry.Records.Select(r => r.Id));
        telemetry.Reset();
        connection.RootNetref.CallMethod("ping");
        Assert.Equal([1L], telemetry.Records.Select(r => r.Id));
    }

    // "Keep everything" allocated its whole table of chunks up front, 16 MB, at every start and Reset.
    [Fact]
    public void MaxRecords_IntMaxValue_MemoryGrowsWithTheRecordsNotTheCapacity()
    {
        var telemetry = new RpycTelemetry(new RpycTelemetryOptions { MaxRecords = int.MaxValue });
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry);
        connection.RootNetref.CallMethod("ping");
        CallRecord record = telemetry.Records[^1];

        long before = GC.GetAllocatedBytesForCurrentThread();
        var log = new RecordLog(int.MaxValue);
        for (int i = 0; i < 5; i++)
        {
            long id = log.Claim(out bool kept);
            Assert.True(kept);
            log.Publish(id, record);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // The table of pages (16 KB), one page and one chunk (8 KB each), and the log itself.
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated for 5 records");
        Assert.Equal(5, log.Snapshot().Count);

        before = GC.GetAllocatedBytesForCurrentThread();
        telemetry.Reset();
        allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 64 * 1024, $"{allocated} bytes allocated by Reset");
    }

    [Fact]
    public void RecordLog_RecordsAcrossChunksAndPages_KeptInOrderUpToTheCapacity()
    {
        var telemetry = new RpycTelemetry(new RpycTelemetryOptions());
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry);
        connection.RootNetref.CallMethod("ping");
        CallRecord[] records = [.. telemetry.Records];

        // Past the first page of 1,024 chunks of 1,024 slots, and one over the capacity.
        const int Capacity = (1 << 20) + 1_500;
        var log = new RecordLog(Capacity);
        var published = new CallRecord[Capacity];
        for (int i = 0; i <= Capacity; i++)
        {
            long id = log.Claim(out bool kept);
            Assert.Equal(i < Capacity, kept);
            if (kept)
            {
                published[i] = records[i % records.Length];
                log.Publish(id, published[i]);
            }
        }
        Assert.Equal(1, log.Dropped);
        List<CallRecord> snapshot = log.Snapshot();
        Assert.Equal(Capacity, snapshot.Count);
        Assert.True(snapshot.Zip(published).All(p => ReferenceEquals(p.First, p.Second)), "a record out of place");
    }

    // A server attaching to each of its connections, or a client making short ones: each kept record
    // held its observer, which held the closed connection (about 4.8 KB each), and every connection
    // ever attached left its peer name in a table that never shrank.
    [Fact]
    public void ShortConnections_ClosedWithRecordsKept_CollectableAndNamesKeptOnlyForTheRecords()
    {
        const int Connections = 500;
        // getroot, ping and CLOSE per connection (and its root netref): the first 500 fill the log.
        var telemetry = new RpycTelemetry(new RpycTelemetryOptions { MaxRecords = 3 * Connections });
        string peer = $"127.0.0.1:{server.Port}";
        WeakReference[] closed = ConnectPingAndClose(telemetry, Connections);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.Equal(0, closed.Count(c => c.IsAlive));

        TelemetryStatistics stats = telemetry.GetStatistics();
        Assert.Equal((3L * Connections, 0L), (stats.RecordsKept, stats.RecordsDropped));
        IReadOnlyList<CallRecord> records = telemetry.Records;
        Assert.Equal(Enumerable.Range(1, Connections), records.Select(r => r.ConnectionId).Distinct());
        Assert.All(records, r => Assert.Equal(peer, telemetry.PeerName(r.ConnectionId)));
        Assert.Equal(Connections, telemetry.PeerNamesKept);
        Assert.Contains($"TelemetryTestService.ping (CALLATTR) [NetRef #{Connections}]", telemetry.FormatCallTree(maxLines: 10_000), StringComparison.Ordinal);

        // The log is full; the netrefs' list (as long) fills with the next 1000 root netrefs, which
        // keep their connections' names. Past that, connections leave nothing, and no name once closed.
        ConnectPingAndClose(telemetry, 2 * Connections);
        Assert.Equal(3 * Connections, telemetry.Netrefs.Count);
        Assert.Equal(3 * Connections, telemetry.PeerNamesKept);
        ConnectPingAndClose(telemetry, 100);
        Assert.Equal(3 * Connections, telemetry.PeerNamesKept);
        Assert.Null(telemetry.PeerName((3 * Connections) + 1));
        Assert.All(telemetry.Netrefs, n => Assert.Equal(peer, telemetry.PeerName(n.ConnectionId)));

        // An open connection keeps its name; after a Reset the closed ones have no record left.
        using RpycConnection open = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry);
        telemetry.Reset();
        Assert.Equal(1, telemetry.PeerNamesKept);
        Assert.Null(telemetry.PeerName(1));
        open.RootNetref.CallMethod("ping");
        Assert.Equal(["getroot", "callattr"], telemetry.Records.Select(r => r.Handler));
        Assert.All(telemetry.Records, r => Assert.Equal(peer, telemetry.PeerName(r.ConnectionId)));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private WeakReference[] ConnectPingAndClose(RpycTelemetry telemetry, int count)
    {
        var closed = new WeakReference[count];
        for (int i = 0; i < count; i++)
        {
            using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry);
            Assert.Equal("pong", connection.RootNetref.CallMethod("ping"));
            closed[i] = new WeakReference(connection);
        }
        return closed;
    }

    [Fact]
    public void Disabled_NothingRecorded()
    {
        var telemetry = new RpycTelemetry(new RpycTelemetryOptions { Enabled = false });
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry);
        connection.RootNetref.CallMethod("ping");
        TelemetryStatistics stats = telemetry.GetStatistics();
        Assert.Equal((0L, 0L, 0L), (stats.TotalCalls, stats.RoundTrips, stats.NetrefsCreated));
        Assert.Empty(telemetry.Records);
        Assert.Equal(2, connection.Counters.SyncRequests);
    }

    [Fact]
    public void TrackNetrefsOff_CountsWithoutEntries()
    {
        var telemetry = new RpycTelemetry(new RpycTelemetryOptions { TrackNetrefs = false });
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry);
        using (var node = (Netref)connection.RootNetref.CallMethod("get_node")!)
        {
            node.GetAttr("value");
        }
        TelemetryStatistics stats = telemetry.GetStatistics();
        Assert.Equal((2L, 1L, 2L), (stats.NetrefsCreated, stats.NetrefsReleased, stats.NetrefAccesses));
        Assert.Empty(telemetry.Netrefs);
        Assert.All(telemetry.Records, r => Assert.Equal(0, r.TargetNetrefId));
    }

    [Fact]
    public void Close_UnreleasedProxies_ReportedReleasedAtCloseAndStillFailAsClosed()
    {
        var telemetry = new RpycTelemetry(new RpycTelemetryOptions());
        RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry);
        var node = (Netref)connection.RootNetref.CallMethod("get_node")!;
        node.GetAttr("value");
        Assert.Equal((2L, 0L), (telemetry.GetStatistics().NetrefsCreated, telemetry.GetStatistics().NetrefsReleased));

        // The root and the undisposed node: released by the close itself, not whenever a finalizer
        // runs (they leave the finalization queue, so a collection need not promote them).
        connection.Dispose();
        Assert.Equal((2L, 2L), (telemetry.GetStatistics().NetrefsCreated, telemetry.GetStatistics().NetrefsReleased));
        Assert.Equal(0, connection.LiveNetrefCount);

        // A call fails as on any closed connection, and a late Dispose releases nothing twice.
        Assert.ThrowsAny<RpycConnectionException>(() => node.GetAttr("value"));
        node.Dispose();
        Assert.Equal(2L, telemetry.GetStatistics().NetrefsReleased);
    }

    [Fact]
    public void Reset_AfterWarmup_StartsFromZero()
    {
        var telemetry = new RpycTelemetry();
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry);
        connection.RootNetref.CallMethod("ping");
        telemetry.Reset();
        connection.RootNetref.CallMethod("add", 1L, 1L);
        Assert.Equal(1, telemetry.GetStatistics().RoundTrips);
        Assert.Equal("add", Assert.Single(telemetry.Records).Name);
    }

    // A Reset while calls were in progress on a thread (a callback, the call waiting for it): the
    // calls made after it were nested under those records of the old log, whose ids the new log
    // hands out again, so they hung under unrelated calls or under themselves and left the tree.
    [Fact]
    public void Reset_WhileCallsInProgress_LaterCallsStartAtTopLevel()
    {
        var telemetry = new RpycTelemetry();
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry);
        Netref root = connection.RootNetref;
        Func<long, long> resetThenPing = x =>
        {
            telemetry.Reset();
            for (int i = 0; i < 4; i++)
            {
                root.CallMethod("ping");
            }
            return x;
        };
        // After getroot (1), call_and_release (2) and the server's CALL of the function (3) are in progress at the Reset.
        Assert.Equal(2L, root.CallMethod("call_and_release", resetThenPing, 1L));
        root.CallMethod("ping");
        telemetry.Detach(connection);

        // The 4 pings, the server's DEL of the function, the last ping.
        IReadOnlyList<CallRecord> records = telemetry.Records;
        Assert.Equal(6, records.Count);
        Assert.All(records, r => Assert.Equal((0L, 1), (r.ParentId, r.Depth)));
        Assert.Equal(1, telemetry.GetStatistics().MaxStackDepth);
        string tree = telemetry.FormatCallTree(collapseRepeats: false);
        output.WriteLine(tree);
        Assert.Equal(6, tree.Split('\n').Count(l => l.StartsWith("├── ", StringComparison.Ordinal) || l.StartsWith("└── ", StringComparison.Ordinal)));
    }

    [Fact]
    public void ProxiesCreatedBeforeAttachOrReset_ReleasedAfter_NotCountedAsReleased()
    {
        var telemetry = new RpycTelemetry();
        RpycConnection connection = RpycConnection.Connect("127.0.0.1", server.Port);
        Netref root = connection.RootNetref;
        var beforeAttach = (Netref)root.CallMethod("get_node")!;
        telemetry.Attach(connection);
        var warmup = (Netref)root.CallMethod("get_node")!;
        telemetry.Reset();
        using (var node = (Netref)root.CallMethod("get_node")!)
        {
            node.GetAttr("value");
        }
        beforeAttach.Dispose();
        warmup.Dispose();
        TelemetryStatistics stats = telemetry.GetStatistics();
        Assert.Equal((1L, 1L, 0L), (stats.NetrefsCreated, stats.NetrefsReleased, stats.ActiveNetrefs));

        // The root, created before both, is released by the close.
        connection.Dispose();
        stats = telemetry.GetStatistics();
        Assert.Equal((1L, 1L, 0L), (stats.NetrefsCreated, stats.NetrefsReleased, stats.ActiveNetrefs));
        Assert.Contains("Active NetRefs:           0", telemetry.FormatSummary(), StringComparison.Ordinal);
    }

    [Fact]
    public void ProxyCollected_SameObjectFetchedAgainBeforeItsFinalizerRan_TheNewProxyStaysActive()
    {
        var telemetry = new RpycTelemetry();
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry);
        Netref root = connection.RootNetref;
        using var blocker = FinalizerBlocker.Start();
        // root.tree is one object: the server hands out the same id again.
        FetchTreeAndDropIt(root);
        GC.Collect();
        var tree = (Netref)root.GetAttr("tree")!;
        // The first proxy's finalizer releases it now, after its successor was created.
        blocker.Release();
        GC.WaitForPendingFinalizers();
        Assert.Equal(3L, tree.GetAttr("value"));

        TelemetryStatistics stats = telemetry.GetStatistics();
        Assert.Equal((3L, 1L, 2L), (stats.NetrefsCreated, stats.NetrefsReleased, stats.ActiveNetrefs));
        NetrefInfo active = Assert.Single(telemetry.ActiveNetrefs, n => n.TypeName.EndsWith(".Node", StringComparison.Ordinal));
        Assert.Equal(1, active.Accesses);
        Assert.Single(telemetry.Netrefs, n => n.TypeName.EndsWith(".Node", StringComparison.Ordinal) && !n.IsAlive);
        GC.KeepAlive(tree);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void FetchTreeAndDropIt(Netref root) => Assert.NotNull(root.GetAttr("tree"));

    // Holds the finalizer thread inside a finalizer until released, so what is collected meanwhile
    // is finalized exactly when the test says.
    private sealed class FinalizerBlocker : IDisposable
    {
        private static readonly ManualResetEventSlim s_entered = new();
        private static readonly ManualResetEventSlim s_release = new();

        private FinalizerBlocker()
        {
        }

        public static FinalizerBlocker Start()
        {
            s_entered.Reset();
            s_release.Reset();
            Abandon();
            GC.Collect();
            Assert.True(s_entered.Wait(TimeSpan.FromSeconds(30)), "the finalizer thread did not start");
            return new FinalizerBlocker();
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        private static void Abandon() => _ = new Blocking();

        public void Release() => s_release.Set();

        public void Dispose() => s_release.Set();

        private sealed class Blocking
        {
            ~Blocking()
            {
                s_entered.Set();
                s_release.Wait(TimeSpan.FromSeconds(30));
            }
        }
    }

    [Fact]
    public void Options_OutOfRange_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RpycTelemetry(new RpycTelemetryOptions { DeepStackThreshold = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RpycTelemetry(new RpycTelemetryOptions { MaxRecords = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RpycTelemetry(new RpycTelemetryOptions { SlowCallThreshold = TimeSpan.FromSeconds(-1) }));
        Assert.Throws<ArgumentException>(() => new RpycTelemetry().Section(""));
    }

    [Fact]
    public void CaptureCallSites_SlowCall_NamesTheUserLineAndStack()
    {
        var telemetry = new RpycTelemetry(new RpycTelemetryOptions { SlowCallThreshold = TimeSpan.Zero, CaptureCallSites = true, CaptureStacks = true });
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry);
        connection.RootNetref.CallMethod("ping");

        CallRecord ping = telemetry.Records.Single(r => r.Name == "ping");
        Assert.NotNull(ping.CallSite);
        Assert.Matches(@"^ProfilerTests\.cs:\d+ \(ProfilerTests\.CaptureCallSites_SlowCall_NamesTheUserLineAndStack\)$", ping.CallSite);
        Assert.NotNull(ping.Stack);
        Assert.Equal(ping.CallSite, ping.Stack[0]);
        string summary = telemetry.FormatSummary();
        Assert.Contains($"    Called from: {ping.CallSite}", summary, StringComparison.Ordinal);
        Assert.Contains($" @ {ping.CallSite}", telemetry.FormatCallTree(), StringComparison.Ordinal);
    }

    [Fact]
    public void CaptureCallSites_Off_NoneRecorded()
    {
        var telemetry = new RpycTelemetry();
        using RpycConnection connection = RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, telemetry);
        connection.RootNetref.CallMethod("ping");
        Assert.All(telemetry.Records, r => Assert.Null(r.CallSite));
    }
}
