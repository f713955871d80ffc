namespace Rpyc.Bench.Tests;

// The pyclient_* targets' description and process accounting, without rpyc installed: a stand-in
// interpreter answers the version probe, and a child process stands in for the client's.
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public class PythonClientTargetTests(ITestOutputHelper output)
{
    [Fact]
    public void ClientDescription_PythonClientTarget_NamesRpycsPythonClientAndItsVersion()
    {
        string dir = Directory.CreateTempSubdirectory("rpycbench-fakepy-").FullName;
        try
        {
            string python = StandIn.Write(dir, "python3", "echo 'python 3.11.2'\necho 'rpyc 6.0.1'");
            var target = new PythonClientBenchTarget("pyclient_rpyc_threaded", "127.0.0.1", 18812, python);
            output.WriteLine(target.ClientDescription);
            Assert.StartsWith("rpyc 6.0.1 Python client (python 3.11.2, ", target.ClientDescription, StringComparison.Ordinal);
            Assert.Contains("stdin/stdout", target.ClientDescription, StringComparison.Ordinal);
            Assert.DoesNotContain("RpycConnection", target.ClientDescription, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // The client failing to connect with a 3,000,000-character line on stderr: the message carried
    // it whole, and could be written before the reason after it was read.
    [Fact]
    public void Connect_ClientFailsWithAVeryLongErrorLine_MessageBoundedAndNamesTheReason()
    {
        string dir = Directory.CreateTempSubdirectory("rpycbench-fakepy-").FullName;
        try
        {
            string python = StandIn.Write(dir, "python3",
                "if [ \"$1\" = -c ]; then exit 0; fi; head -c 3000000 /dev/zero | tr '\\0' x >&2; echo >&2; echo 'ConnectionRefusedError: [Errno 111] Connection refused' >&2; exit 1");
            var failed = Assert.Throws<IOException>(() => new PythonBenchClient(python, Path.Combine(dir, "rpyc_client.py"), "127.0.0.1", 1));
            output.WriteLine($"{failed.Message.Length} characters");
            string nl = Environment.NewLine;
            Assert.StartsWith($"The Python client did not connect to 127.0.0.1:1 (said end of output). Python stderr:{nl}xxx", failed.Message, StringComparison.Ordinal);
            Assert.EndsWith($"x ... ({3_000_000 - ErrorLines.MaxLineChars} more characters){nl}ConnectionRefusedError: [Errno 111] Connection refused", failed.Message, StringComparison.Ordinal);
            Assert.True(failed.Message.Length < ErrorLines.MaxLineChars + 300, $"{failed.Message.Length} characters in the message");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
