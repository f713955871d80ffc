using System.Globalization;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// <see cref="ForkingServerOptions.WorkerPath"/> naming a program that is not a <c>.dll</c> (an
/// apphost here; a NativeAOT worker in rpycbench) runs it directly instead of on the dotnet host.
/// </summary>
[Collection(DotNetServersCollection.Name)]
public sealed class ForkingWorkerProgramTests(ITestOutputHelper output)
{
    [Fact]
    public void WorkerPath_Executable_RunsItDirectlyAndServes()
    {
        string apphost = Path.ChangeExtension(WorkerLocator.Path, null);
        Assert.True(File.Exists(apphost), $"The rpyc-worker apphost {apphost} was not built beside {WorkerLocator.Path}.");
        using ForkingServer server = ForkingServer.Create<InteropService>(new RpycServerOptions { Host = "127.0.0.1", Port = 0 },
            new ForkingServerOptions { WorkerPath = apphost, PrestartedWorkers = 1 });
        server.Start();

        using RpycConnection connection = TestServers.Connect(server);
        Assert.Equal("pong", connection.RootNetref.CallMethod("ping"));
        int pid = (int)(long)connection.RootNetref.CallMethod("pid")!;

        Assert.NotEqual(Environment.ProcessId, pid);
        string executable = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/cmdline").Split('\0')[0];
        output.WriteLine($"worker {pid}: {executable}");
        Assert.Equal(Path.GetFullPath(apphost), executable);
    }

    [Fact]
    public async Task Worker_GivenAnotherWorkerProtocol_ExitsWithUsageCodeAndSaysWhy()
    {
        // A protocol-1 worker never confirms the connection it is given, and a protocol-2 server
        // would wait for each confirmation: the version on the command line tells them apart.
        string apphost = Path.ChangeExtension(WorkerLocator.Path, null);
        string[] args = Rpyc.Servers.ForkingWorker.WorkerArguments.Format("@rpyc-test-no-server", typeof(InteropService), RpycConnectOptions.Default);
        args[1] = "1";
        var start = new System.Diagnostics.ProcessStartInfo(apphost) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using var worker = System.Diagnostics.Process.Start(start)!;
        Task<string> stderr = worker.StandardError.ReadToEndAsync();
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await worker.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            worker.Kill();
            Assert.Fail("The worker did not exit within 30 s.");
        }
        Assert.Equal(2, worker.ExitCode);
        Assert.Contains("the server speaks worker protocol 1, this worker 2", await stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void WorkerPath_Missing_StartThrowsFileNotFound()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"rpyc-no-such-worker-{Guid.NewGuid():N}");
        using ForkingServer server = ForkingServer.Create<InteropService>(new RpycServerOptions { Host = "127.0.0.1", Port = 0 },
            new ForkingServerOptions { WorkerPath = missing, PrestartedWorkers = 1 });

        FileNotFoundException error = Assert.Throws<FileNotFoundException>(server.Start);

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        Assert.Equal(0, server.WorkerProcesses);
    }
}
