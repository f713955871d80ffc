namespace Rpyc.Bench.Tests;

// dotnet publish of the build copied to a remote host, stood for by a shell script: a build that
// fails loudly must give a message of bounded size (its first and last lines, the count left out),
// and one whose pipes stay open after it exits must not keep the run waiting.
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class RemotePublisherTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly string _directory = Directory.CreateTempSubdirectory("rpycbench-publish-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("")]
    [InlineData(" >&2")]
    public void Publish_ThousandsOfErrorLines_MessageHasTheFirstAndLastLinesAndTheCountLeftOut(string redirect)
    {
        Exception? error = Publish($"i=1; while [ $i -le 5000 ]; do echo \"error CS0103: name $i\"{redirect}; i=$((i+1)); done; exit 1");
        var failed = Assert.IsType<RemoteDeploymentException>(error);
        Assert.StartsWith("dotnet publish of src/Rpyc.Bench.Cli/Rpyc.Bench.Cli.csproj failed (exit 1): error CS0103: name 1\nerror CS0103: name 2\n", failed.Message, StringComparison.Ordinal);
        Assert.Contains("\nerror CS0103: name 20\n(4950 lines left out)\nerror CS0103: name 4971\n", failed.Message, StringComparison.Ordinal);
        Assert.EndsWith("\nerror CS0103: name 5000", failed.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("name 21\n", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Publish_ManyLinesOnBothStreams_MessageHasTheFirstAndLastLinesOfEach()
    {
        // Far more than a pipe holds on each stream: both must be drained while it runs.
        Exception? error = Publish("i=1; while [ $i -le 20000 ]; do echo \"out $i\"; echo \"err $i\" >&2; i=$((i+1)); done; exit 2");
        var failed = Assert.IsType<RemoteDeploymentException>(error);
        Assert.StartsWith("dotnet publish of src/Rpyc.Bench.Cli/Rpyc.Bench.Cli.csproj failed (exit 2): out 1\n", failed.Message, StringComparison.Ordinal);
        Assert.Contains("\nout 20\n(19950 lines left out)\nout 19971\n", failed.Message, StringComparison.Ordinal);
        Assert.Contains("\nout 20000\nerr 1\n", failed.Message, StringComparison.Ordinal);
        Assert.Contains("\nerr 20\n(19950 lines left out)\nerr 19971\n", failed.Message, StringComparison.Ordinal);
        Assert.EndsWith("\nerr 20000", failed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Publish_PipesHeldOpenAfterAFailure_ThrowsWithTheOutputRead()
    {
        string pidFile = Path.Combine(_directory, "sleep.pid");
        try
        {
            // The sleep started first keeps both pipes open for 10 minutes after the script exits.
            Exception? error = Publish($"sleep 600 & echo $! > '{pidFile}'; echo 'error CS1002: ; expected'; echo 'Build FAILED.' >&2; exit 1");
            var failed = Assert.IsType<RemoteDeploymentException>(error);
            Assert.Contains("failed (exit 1): ", failed.Message, StringComparison.Ordinal);
            Assert.Contains("error CS1002: ; expected", failed.Message, StringComparison.Ordinal);
            Assert.Contains("Build FAILED.", failed.Message, StringComparison.Ordinal);
        }
        finally
        {
            PidFile.KillAndDelete(pidFile, s_timeout);
        }
    }

    // Publishes with a script as dotnet (its arguments ignored) into a cache of its own.
    private Exception? Publish(string script)
    {
        string dotnet = StandIn.Write(_directory, "dotnet", script);
        var options = new RemoteOptions { Destination = new SshDestination(null, "127.0.0.1", null), PublishCache = Path.Combine(_directory, "cache") };
        using var cancel = new CancellationTokenSource();
        try
        {
            return StandIn.Within<Exception?>(() =>
            {
                try
                {
                    RemotePublisher.Publish(options, selfContained: false, "linux-x64", _ => { }, dotnet, cancel.Token);
                    return null;
                }
                catch (Exception ex)
                {
                    return ex;
                }
            }, s_timeout, "Publish did not return: it waits for the end of a pipe that stays open.");
        }
        finally
        {
            // Stops the script if the run is still waiting for it.
            cancel.Cancel();
        }
    }
}
