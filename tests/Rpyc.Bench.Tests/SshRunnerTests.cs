using System.Diagnostics;

namespace Rpyc.Bench.Tests;

// A command run over ssh whose pipes stay open after ssh exits (an ssh ControlPersist master it
// started, a background process there holding the descriptors): the run must end with what was read,
// not wait for the end of the pipe. A local shell stands for ssh, a background sleep for the holder.
public sealed class SshRunnerTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public void Run_PipesHeldOpenAfterTheExit_ReturnsTheOutputRead()
    {
        (string output, _) = RunWithPipesHeld("echo 'line 1'; echo 'line 2'; exit 0");
        Assert.Equal("line 1\nline 2\n", output);
    }

    [Fact]
    public void Run_PipesHeldOpenAfterAFailure_ThrowsWithTheErrorRead()
    {
        (_, Exception? error) = RunWithPipesHeld("echo 'Error: the cause' >&2; exit 3");
        var failed = Assert.IsType<RemoteDeploymentException>(error);
        Assert.Contains("failed (exit 3): Error: the cause", failed.Message, StringComparison.Ordinal);
    }

    // A failure said only on stdout, after 300,000 characters: the message quoted all of it.
    [Fact]
    public void Run_FailureSaidOnlyAfterALongOutput_MessageQuotesItsEnd()
    {
        (_, Exception? error) = RunWithPipesHeld("head -c 300000 /dev/zero | tr '\\0' x; echo; echo 'Error: the cause'; exit 3");
        var failed = Assert.IsType<RemoteDeploymentException>(error);
        int before = 300_000 + "\nError: the cause".Length - OutputText.EndChars;
        Assert.Contains($"failed (exit 3): ({before} characters before) ...xxx", failed.Message, StringComparison.Ordinal);
        Assert.EndsWith("xxx\nError: the cause", failed.Message, StringComparison.Ordinal);
        Assert.True(failed.Message.Length < OutputText.EndChars + 200, $"{failed.Message.Length} characters in the message");
    }

    // The sleep started first keeps stdout and stderr open for 10 minutes after the shell exits.
    private static (string Output, Exception? Error) RunWithPipesHeld(string script)
    {
        string pidFile = Path.GetTempFileName();
        var runner = new SshRunner(new RemoteOptions { Destination = new SshDestination(null, "127.0.0.1", null), CommandTimeout = s_timeout });
        var start = new ProcessStartInfo("/bin/sh", ["-c", $"sleep 600 & echo $! > '{pidFile}'; {script}"])
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        try
        {
            Task<string> run = Task.Run(() => runner.Run(start, "running the test script"));
            Assert.True(((IAsyncResult)run).AsyncWaitHandle.WaitOne(s_timeout), "Run did not return: it waits for the end of a pipe the sleep keeps open.");
            return run.IsCompletedSuccessfully ? (run.Result, null) : ("", run.Exception!.InnerException);
        }
        finally
        {
            PidFile.KillAndDelete(pidFile, s_timeout);
        }
    }
}
