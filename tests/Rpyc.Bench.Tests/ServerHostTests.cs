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

    // A Python peer that cannot bind, after 300 warnings and a traceback line of 3,000,000
    // characters: the message kept the last 20 stderr lines whatever their length, and could be
    // written before the reason was read.
    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public void Start_ServerFailsWithLongStderr_MessageBoundedAndEndsWithTheReason()
    {
        string dir = Directory.CreateTempSubdirectory("rpycbench-fakeserver-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "rpyc_server.py"), "");
            // Stdout too gets a line that never ends, and no PORT line.
            string python = StandIn.Write(dir, "python3",
                "if [ \"$1\" = -c ]; then exit 0; fi; head -c 3000000 /dev/zero | tr '\\0' x; "
                + "seq 1 300 | sed 's/^/warning /' >&2; printf 'Traceback: ' >&2; head -c 3000000 /dev/zero | tr '\\0' y >&2; echo >&2; "
                + "echo 'OSError: [Errno 98] Address already in use' >&2; exit 1");
            var options = new ServerHostOptions { PythonPath = python, PythonScriptDirectory = dir, StartTimeout = TimeSpan.FromSeconds(30) };
            var failed = Assert.Throws<ServerStartException>(() => new PythonServerHost(PythonServerKind.RpycThreaded, options: options));
            output.WriteLine($"{failed.Message.Length} characters");
            string nl = Environment.NewLine;
            Assert.StartsWith($"{TargetCatalog.PyRpycThreaded}: the server process exited with code 1. Server stderr:{nl}warning 1{nl}", failed.Message, StringComparison.Ordinal);
            Assert.Contains($"{nl}warning 20{nl}(252 lines left out){nl}warning 273{nl}", failed.Message, StringComparison.Ordinal);
            Assert.Contains($"{nl}warning 300{nl}Traceback: yyy", failed.Message, StringComparison.Ordinal);
            Assert.EndsWith($"y ... ({"Traceback: ".Length + 3_000_000 - ErrorLines.MaxLineChars} more characters){nl}OSError: [Errno 98] Address already in use", failed.Message, StringComparison.Ordinal);
            Assert.True(failed.Message.Length < ErrorLines.MaxLineChars + 1_000, $"{failed.Message.Length} characters in the message");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
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
