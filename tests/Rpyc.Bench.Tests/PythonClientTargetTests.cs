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
}
