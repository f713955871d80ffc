using System.Text.Json;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// One .NET ThreadedServer and one ForkingServer serving <see cref="InteropService"/>, shared by
/// the tests of the <see cref="DotNetServersCollection"/>; each is started on first use.
/// </summary>
public sealed class InteropServersFixture : IDisposable
{
    private readonly Lazy<RpycServer> _threaded = new(() => TestServers.Start<InteropService>(ServerKind.Threaded));
    private readonly Lazy<RpycServer> _forking = new(() => TestServers.Start<InteropService>(ServerKind.Forking));

    public RpycServer Server(ServerKind kind) => kind == ServerKind.Threaded ? _threaded.Value : _forking.Value;

    public void Dispose()
    {
        if (_threaded.IsValueCreated)
        {
            _threaded.Value.Dispose();
        }
        if (_forking.IsValueCreated)
        {
            _forking.Value.Dispose();
        }
    }
}

/// <summary>
/// The server tests run one after another: the load and memory tests measure this process, and
/// the forking tests start many worker processes on a small machine.
/// </summary>
[CollectionDefinition(Name)]
public sealed class DotNetServersCollection : ICollectionFixture<InteropServersFixture>
{
    public const string Name = "Rpyc .NET servers";
}

/// <summary>
/// Stock Python rpyc clients (Debian's python3-rpyc, run by /usr/bin/python3) against the .NET
/// ThreadedServer and ForkingServer: the client interop scenarios in the other direction. Each
/// script asserts every result itself and exits non-zero with a traceback on the first failure.
/// </summary>
[Collection(DotNetServersCollection.Name)]
public sealed class PythonClientTests(InteropServersFixture servers, ITestOutputHelper output)
{
    private async Task<JsonElement> RunScriptAsync(string script, ServerKind kind, int minimumChecks)
    {
        RpycServer server = servers.Server(kind);
        PythonClient.Result result = await PythonClient.RunAsync(script, server.Port, output);
        if (result.ExitCode != 0)
        {
            string last = result.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "(no stderr)";
            throw new Xunit.Sdk.XunitException($"{script} against the {kind} server failed (exit code {result.ExitCode}): {last}\n{result.Stderr}\n{result.Stdout}");
        }
        JsonElement json = result.Json;
        Assert.True(json.GetProperty("ok").GetBoolean());
        int checks = json.GetProperty("checks").GetInt32();
        Assert.True(checks >= minimumChecks, $"{script} ran {checks} checks, expected at least {minimumChecks}.");
        return json;
    }

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public async Task PythonClient_EveryValueType_RoundTripsUnchanged(ServerKind kind)
    {
        await RunScriptAsync("client_values.py", kind, minimumChecks: 70);
    }

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public async Task PythonClient_RemoteObjectsListsDictsKwargs_BehaveLikePythonProxies(ServerKind kind)
    {
        await RunScriptAsync("client_objects.py", kind, minimumChecks: 43);
    }

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public async Task PythonClient_IterateRemoteDictionary_YieldsKeysLikeAPythonDict(ServerKind kind)
    {
        // `k in d` already tests keys; iteration must agree with it, as Python's mapping protocol does.
        await RunScriptAsync("client_dict_iteration.py", kind, minimumChecks: 3);
    }

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public async Task PythonClient_ExceptionsAndCallbacks_CrossBothWays(ServerKind kind)
    {
        await RunScriptAsync("client_errors.py", kind, minimumChecks: 14);
    }

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public async Task PythonClient_LargeBytes_LentArgumentsBindWhole(ServerKind kind)
    {
        await RunScriptAsync("client_large_bytes.py", kind, minimumChecks: 15);
    }

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public async Task PythonClient_DroppedNetrefs_ReleasedOnDotNetSide(ServerKind kind)
    {
        JsonElement json = await RunScriptAsync("client_netrefs.py", kind, minimumChecks: 8);
        output.WriteLine($"baseline {json.GetProperty("baseline")}, held {json.GetProperty("held")}");
    }

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public async Task PythonClient_PingThenClose_ServerEndsTheConnection(ServerKind kind)
    {
        RpycServer server = servers.Server(kind);
        await RunScriptAsync("client_ping_close.py", kind, minimumChecks: 6);
        // The client closed both its connections: the server (or the worker process) lets them go.
        Assert.True(
            await Eventually.TrueAsync(() => server.ActiveConnections == 0, TimeSpan.FromSeconds(10)),
            $"{server.ActiveConnections} connections still active on the {kind} server after the Python client closed.");
    }

    [Theory]
    [InlineData(ServerKind.Threaded)]
    [InlineData(ServerKind.Forking)]
    public async Task PythonClient_TwoConnectionsPid_MatchesServerProcessModel(ServerKind kind)
    {
        JsonElement json = await RunScriptAsync("client_pid.py", kind, minimumChecks: 2);
        int[] pids = json.GetProperty("pids").EnumerateArray().Select(p => p.GetInt32()).ToArray();
        output.WriteLine($"test process {Environment.ProcessId}, connections served by {string.Join(", ", pids)}");
        Assert.Equal(2, pids.Length);
        if (kind == ServerKind.Threaded)
        {
            Assert.All(pids, pid => Assert.Equal(Environment.ProcessId, pid));
        }
        else
        {
            Assert.NotEqual(pids[0], pids[1]);
            Assert.DoesNotContain(Environment.ProcessId, pids);
            // Each worker serves one connection and exits when it closes.
            Assert.True(
                await Eventually.TrueAsync(() => !pids.Any(Processes.IsLiveWorker), TimeSpan.FromSeconds(10)),
                $"Worker processes {string.Join(", ", pids.Where(Processes.IsLiveWorker))} still run after their connections closed.");
        }
    }
}
