namespace Rpyc.Bench.Tests;

// The check that Locust is importable, before a run starts its master, runs the configured python, a
// shell script here: it must end within its time limit even when a process it left running holds its
// pipes, drain a long output instead of blocking the child on a full pipe, and say why it failed.
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LocustRunTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly string _directory = Directory.CreateTempSubdirectory("rpycbench-locust-check-").FullName;

    public LocustRunTests() => File.WriteAllText(Path.Combine(_directory, "locust_rpycbench.py"), "");

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Run_CheckPipesHeldOpenAfterAFailure_ThrowsWithTheLastErrorLine()
    {
        string pidFile = Path.Combine(_directory, "sleep.pid");
        try
        {
            // The sleep started first keeps both pipes open for 10 minutes after the script exits.
            string python = Interpreter($"sleep 600 & echo $! > '{pidFile}'; echo 'Traceback (most recent call last):' >&2; echo \"ModuleNotFoundError: No module named 'locust'\" >&2; exit 1");
            var missing = Assert.Throws<LocustRunException>(() => Within(python));
            Assert.Equal($"Locust is not importable by {python} (ModuleNotFoundError: No module named 'locust'). Install it with: {LocustRun.InstallCommand}", missing.Message);
        }
        finally
        {
            PidFile.KillAndDelete(pidFile, s_timeout);
        }
    }

    // 200,000 lines (about 4 MB) on stdout, then the reason on stderr: an unread stdout filled its
    // pipe and held the script in its write, before it ever wrote the reason or exited.
    [Fact]
    public void Run_CheckWithLongOutputThenAFailure_ThrowsWithTheLastErrorLine()
    {
        string python = Interpreter("seq 1 200000 | sed 's/^/locust output line /'; echo \"ModuleNotFoundError: No module named 'rpyc'\" >&2; echo >&2; exit 1");
        var missing = Assert.Throws<LocustRunException>(() => Within(python));
        Assert.Contains($"by {python} (ModuleNotFoundError: No module named 'rpyc'). Install", missing.Message, StringComparison.Ordinal);
    }

    // The check passes despite its long output; the master (the same script, given -m locust) then
    // fails at once without a result, which says the run went past the check.
    [Fact]
    public void Run_CheckWithLongOutputThatPasses_GoesOnToTheMaster()
    {
        string python = Interpreter("if [ \"$1\" = -c ]; then seq 1 200000 | sed 's/^/import output line /'; seq 1 200000 >&2; exit 0; fi; exit 3");
        var failed = Assert.Throws<LocustRunException>(() => Within(python));
        Assert.StartsWith("Locust's master exited (3) without a result.", failed.Message, StringComparison.Ordinal);
    }

    // The reason on one line of 3,000,000 characters: it was in the message whole.
    [Fact]
    public void Run_CheckFailsWithAVeryLongErrorLine_MessageKeepsItsStart()
    {
        string python = Interpreter("printf 'ModuleNotFoundError: ' >&2; head -c 3000000 /dev/zero | tr '\\0' x >&2; exit 1");
        var missing = Assert.Throws<LocustRunException>(() => Within(python));
        int more = "ModuleNotFoundError: ".Length + 3_000_000 - ErrorLines.MaxLineChars;
        Assert.Contains($"by {python} (ModuleNotFoundError: xxx", missing.Message, StringComparison.Ordinal);
        Assert.Contains($"xxx ... ({more} more characters)). Install", missing.Message, StringComparison.Ordinal);
        Assert.True(missing.Message.Length < ErrorLines.MaxLineChars + 500, $"{missing.Message.Length} characters in the message");
    }

    // The master failing after 300 lines of output and a 3,000,000-character line: the message
    // quoted the last 20 lines read, however long, and could end before the reason came.
    [Fact]
    public void Run_MasterFailsWithLongOutput_MessageBoundedAndEndsWithTheReason()
    {
        string python = Interpreter("if [ \"$1\" = -c ]; then exit 0; fi; seq 1 300 | sed 's/^/locust log /'; head -c 3000000 /dev/zero | tr '\\0' x >&2; echo >&2; echo 'OSError: [Errno 98] Address already in use' >&2; exit 3");
        var failed = Assert.Throws<LocustRunException>(() => Within(python));
        Assert.StartsWith("Locust's master exited (3) without a result. Its output: xxx", failed.Message, StringComparison.Ordinal);
        Assert.Contains($"xxx ... ({3_000_000 - ErrorLines.MaxLineChars} more characters){Environment.NewLine}OSError: [Errno 98] Address already in use{Environment.NewLine}locust log 1{Environment.NewLine}", failed.Message, StringComparison.Ordinal);
        Assert.EndsWith($"{Environment.NewLine}locust log 300", failed.Message, StringComparison.Ordinal);
        Assert.True(failed.Message.Length < ErrorLines.MaxLineChars + 2_000, $"{failed.Message.Length} characters in the message");
    }

    // A script that ignores its arguments (-c CODE) stands for the interpreter.
    private string Interpreter(string script) => StandIn.Write(_directory, "python3", script);

    private void Within(string python)
    {
        var run = new LocustRun(new LocustOptions { LocalWorkers = 0, PythonPath = python, ScriptDirectory = _directory });
        StandIn.Within(() => run.Run("rpyc", "127.0.0.1", 1), s_timeout, "The run did not return: it waits for the end of a pipe that stays open, or on a child blocked by a full pipe.");
    }
}
