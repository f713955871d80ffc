using System.Diagnostics;
using System.Security.Cryptography;

namespace Rpyc.Bench;

// The build copied to the remote host: 'dotnet publish' of the CLI (which brings rpycbench-host,
// rpyc-worker and the Python peers' scripts), framework-dependent or self-contained for the remote's
// RID, cached under artifacts/remote-publish and reused while this tool's assemblies are unchanged.
internal static class RemotePublisher
{
    private const string CliProject = "src/Rpyc.Bench.Cli/Rpyc.Bench.Cli.csproj";
    private const string StampFile = ".rpycbench-publish-stamp";
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan StreamEndTimeout = TimeSpan.FromSeconds(5);

    // The assemblies whose bytes identify the build (deterministic builds: same source, same bytes).
    private static readonly string[] s_identity = ["rpycbench.dll", "rpycbench-host.dll", "rpyc-worker.dll", "Rpyc.Bench.dll", "Rpyc.dll"];

    public static string? SourceRoot()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, CliProject)))
            {
                return dir.FullName;
            }
        }
        return null;
    }

    // Returns the folder to copy and a description of it for the report.
    public static (string Folder, string Description) Publish(RemoteOptions options, bool selfContained, string rid, Action<string> log, CancellationToken cancellationToken) =>
        Publish(options, selfContained, rid, log, "dotnet", cancellationToken);

    // The same with the dotnet executable named (a script standing for it in the tests).
    internal static (string Folder, string Description) Publish(RemoteOptions options, bool selfContained, string rid, Action<string> log, string dotnet, CancellationToken cancellationToken)
    {
        string? root = SourceRoot();
        if (root is null)
        {
            if (selfContained)
            {
                throw new RemoteDeploymentException($"A self-contained build for {rid} is published from the source tree (src/Rpyc.Bench.Cli), which was not found above {AppContext.BaseDirectory}; the remote host needs the .NET {Environment.Version.Major} and ASP.NET Core runtimes for the installed tool to be copied instead.");
            }
            // An installed tool's folder is its framework-dependent build, nothing else beside it.
            return (AppContext.BaseDirectory, "framework-dependent (this tool's own folder)");
        }
        string cache = options.PublishCache ?? Path.Combine(root, "artifacts", "remote-publish");
        string folder = Path.Combine(cache, selfContained ? $"self-contained-{rid}" : "framework-dependent");
        string stamp = Stamp();
        string stampPath = Path.Combine(folder, StampFile);
        if (File.Exists(stampPath) && File.ReadAllText(stampPath) == stamp)
        {
            log($"using the cached {(selfContained ? "self-contained " + rid : "framework-dependent")} build in {folder}");
            return (folder, Describe(selfContained, rid));
        }
        log($"publishing a {(selfContained ? "self-contained " + rid : "framework-dependent")} build to {folder} (once; cached for the next runs)");
        string staging = folder + ".tmp";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }
        var start = new ProcessStartInfo(dotnet)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        string[] args = selfContained
            // The CLI references two Exe projects (host, worker): they go along in the CLI's mode.
            ? ["publish", Path.Combine(root, CliProject), "-c", "Release", "-r", rid, "--self-contained", "true", "-p:ValidateExecutableReferencesMatchSelfContained=false", "-o", staging, "-nologo", "-v", "q"]
            : ["publish", Path.Combine(root, CliProject), "-c", "Release", "-o", staging, "-nologo", "-v", "q"];
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        using Process process = Process.Start(start) ?? throw new RemoteDeploymentException("dotnet publish did not start.");
        // Both pipes drained to their end while it runs, each keeping a bounded text: a build that
        // fails loudly writes thousands of error lines (on standard output), of which the message
        // shows the first and the last.
        ErrorLines stdout = ErrorLines.AttachOutput(process);
        ErrorLines stderr = ErrorLines.Attach(process);
        if (!SshRunner.WaitForExit(process, PublishTimeout, cancellationToken))
        {
            SshRunner.Kill(process);
            throw new RemoteDeploymentException(cancellationToken.IsCancellationRequested ? "dotnet publish: interrupted." : "dotnet publish took more than 10 minutes.");
        }
        if (process.ExitCode != 0)
        {
            // A process it left running (a build server) may hold the pipes open: what was read by
            // a short while after the exit is all the message gets.
            ErrorLines.WaitForExit(StreamEndTimeout, stdout, stderr);
            string output = (stdout.Join("\n") + "\n" + stderr.Join("\n")).Trim();
            throw new RemoteDeploymentException($"dotnet publish of {CliProject} failed (exit {process.ExitCode}): {output}");
        }
        File.WriteAllText(Path.Combine(staging, StampFile), stamp);
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
        Directory.Move(staging, folder);
        return (folder, Describe(selfContained, rid));
    }

    private static string Describe(bool selfContained, string rid) => selfContained
        ? $"self-contained {rid} (dotnet publish --self-contained; the remote needs no .NET)"
        : $"framework-dependent (dotnet publish; run by the remote's dotnet, .NET {Environment.Version.Major})";

    private static string Stamp()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (string name in s_identity)
        {
            string path = Path.Combine(AppContext.BaseDirectory, name);
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(name));
            if (File.Exists(path))
            {
                hash.AppendData(File.ReadAllBytes(path));
            }
        }
        return Convert.ToHexString(hash.GetHashAndReset());
    }
}
