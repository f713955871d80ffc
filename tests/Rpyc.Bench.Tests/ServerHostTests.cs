namespace Rpyc.Bench.Tests;

// Every target's server, in its own process, answering every operation of the benchmark service.
[Collection(ServerProcesses.Name)]
public class ServerHostTests(ITestOutputHelper output)
{
    public static TheoryData<string> Targets() => new(TargetCatalog.All.Where(t => t.Client != TargetClient.Python).Select(t => t.Name));

    [Theory]
    [MemberData(nameof(Targets))]
    public void Start_EachTarget_AnswersEveryOperationCorrectly(string target)
    {
        using ServerHost host = ServerHost.Start(target);
        output.WriteLine($"{target}: pid {host.ProcessId}, port {host.Port}");
        Assert.True(host.IsOutOfProcess);
        Assert.NotEqual(Environment.ProcessId, host.ProcessId);
        using BenchClient client = host.Target.Connect();
        client.Ping();
        client.Echo(Payload.Create(5000));
        client.Upload(Payload.Create(100_000));
        client.Download(0);
        client.Download(1);
        client.Download(300_000);
        client.Compute(1000);
        client.Sleep(0.001);
        Assert.Equal(8, client.RoundTrips - (target.Contains("rpyc", StringComparison.Ordinal) ? 1 : 0));
        if (client is RpycBenchClient rpyc)
        {
            rpyc.UploadChunks([Payload.Create(10), Payload.Create(20)]);
            rpyc.DownloadChunks(100_000, 4096);
        }
    }

    [Fact]
    public void Dispose_OutOfProcessServer_StopsTheProcessTree()
    {
        var host = new RpycServerHost(mode: RpycServerMode.Forking);
        int pid = host.ProcessId;
        using (BenchClient client = host.Target.Connect())
        {
            client.Ping();
        }
        List<int> tree = [pid, .. ProcStat.Descendants(pid).Select(p => p.Pid)];
        Assert.True(tree.Count > 1, "a forking server has worker processes");
        host.Dispose();
        Assert.True(host.HasExited);
        Assert.True(SpinWait.SpinUntil(() => tree.All(p => !IsAlive(p)), TimeSpan.FromSeconds(10)), $"a process of {string.Join(", ", tree)} still runs");
    }

    [Fact]
    public void InProcess_DotnetTarget_RunsInThisProcess()
    {
        using var host = new HttpServerHost(options: new ServerHostOptions { InProcess = true });
        Assert.False(host.IsOutOfProcess);
        Assert.Equal(Environment.ProcessId, host.ProcessId);
        using BenchClient client = host.Target.Connect();
        client.Download(2048);
    }

    [Theory]
    [InlineData(RpycServerMode.Threaded)]
    [InlineData(RpycServerMode.Forking)]
    public void InProcess_RpycTargetWithReceiveSpin_ServerConnectionsSpin(RpycServerMode mode)
    {
        TimeSpan spin = TimeSpan.FromMicroseconds(50);
        using var host = new RpycServerHost(mode: mode, options: new ServerHostOptions { InProcess = true, ReceiveSpin = spin });
        var server = Assert.IsAssignableFrom<RpycServer>(host.InProcessServer);
        Assert.Equal(spin, server.Options.ConnectionOptions.ReceiveSpin);
        using BenchClient client = host.Target.Connect();
        client.Ping();
    }

    [Fact]
    public void Client_WrongReply_ThrowsInvalidReply()
    {
        using var host = new TcpRawServerHost();
        using var client = new HttpBenchClient(host.Host, host.Port);
        // A raw TCP server does not speak HTTP: the reply cannot be a valid HTTP response.
        Assert.ThrowsAny<Exception>(() => client.Ping());
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            string stat = File.ReadAllText($"/proc/{pid}/stat");
            return !stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');
        }
        catch (IOException)
        {
            return false;
        }
    }
}
