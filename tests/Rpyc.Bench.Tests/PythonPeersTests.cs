namespace Rpyc.Bench.Tests;

// The interpreter probes (versions for the run's metadata, the import check before a Python peer
// starts) run the configured python, a shell script here: they must end within their time limit even
// when a process it left running holds its pipes, and keep what they use of a long output.
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class PythonPeersTests : IDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    private readonly string _directory = Directory.CreateTempSubdirectory("rpycbench-peers-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Versions_PipesHeldOpenAfterTheExit_ReturnsTheVersionsPrinted()
    {
        string pidFile = Path.Combine(_directory, "sleep.pid");
        try
        {
            // The sleep started first keeps both pipes open for 10 minutes after the script exits.
            string python = Interpreter($"sleep 600 & echo $! > '{pidFile}'; echo 'python 3.11.2'; echo 'rpyc 6.0.1'");
            IReadOnlyDictionary<string, string> versions = Within(() => PythonPeers.Versions(python));
            Assert.Equal(new Dictionary<string, string> { ["python"] = "3.11.2", ["rpyc"] = "6.0.1" }, versions);
        }
        finally
        {
            PidFile.KillAndDelete(pidFile, s_timeout);
        }
    }

    [Fact]
    public void EnsureAvailable_PipesHeldOpenAfterAFailure_ThrowsWithTheLastErrorLine()
    {
        string pidFile = Path.Combine(_directory, "sleep.pid");
        try
        {
            string python = Interpreter($"sleep 600 & echo $! > '{pidFile}'; echo 'Traceback (most recent call last):' >&2; echo \"ModuleNotFoundError: No module named 'rpyc'\" >&2; exit 1");
            var missing = Assert.Throws<PythonPeerMissingException>(() => Within(() => { PythonPeers.EnsureAvailable(python, needFlask: false); return 0; }));
            Assert.Contains($"need {python} with rpyc (ModuleNotFoundError: No module named 'rpyc'). Install", missing.Message, StringComparison.Ordinal);
        }
        finally
        {
            PidFile.KillAndDelete(pidFile, s_timeout);
        }
    }

    [Fact]
    public void EnsureAvailable_LongErrorOutput_ThrowsWithTheLastErrorLine()
    {
        string python = Interpreter("i=1; while [ $i -le 20000 ]; do echo \"  File \\\"site.py\\\", line $i\" >&2; i=$((i+1)); done; echo \"ModuleNotFoundError: No module named 'flask'\" >&2; echo >&2; exit 1");
        var missing = Assert.Throws<PythonPeerMissingException>(() => Within(() => { PythonPeers.EnsureAvailable(python, needFlask: true); return 0; }));
        Assert.Contains("with rpyc, flask (ModuleNotFoundError: No module named 'flask'). Install", missing.Message, StringComparison.Ordinal);
    }

    // A script that ignores its arguments (-c CODE) stands for the interpreter.
    private string Interpreter(string script) => StandIn.Write(_directory, "python3", script);

    private static T Within<T>(Func<T> probe) =>
        StandIn.Within(probe, s_timeout, "The probe did not return: it waits for the end of a pipe that stays open.");
}
