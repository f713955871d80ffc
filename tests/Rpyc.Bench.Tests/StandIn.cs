namespace Rpyc.Bench.Tests;

// A shell script standing for an executable that the code under test starts (python3, dotnet), and
// the bounded wait for code that may wait on such a script for ever (a pipe it leaves open).
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
internal static class StandIn
{
    // Writes `#!/bin/sh` and the script as an executable named 'name' in 'directory'; returns its path.
    public static string Write(string directory, string name, string script)
    {
        string path = Path.Combine(directory, name);
        File.WriteAllText(path, "#!/bin/sh\n" + script + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    // Runs 'work' on the thread pool and fails the test with 'failure' unless it returns within
    // 'timeout'; its result, or its exception, is then the caller's.
    public static T Within<T>(Func<T> work, TimeSpan timeout, string failure)
    {
        Task<T> run = Task.Run(work);
        Assert.True(((IAsyncResult)run).AsyncWaitHandle.WaitOne(timeout), failure);
        return run.GetAwaiter().GetResult();
    }
}
