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
