using System.Diagnostics;

namespace Rpyc.Servers;

/// <summary>Finds the <c>rpyc-worker</c> program and the <c>dotnet</c> host that runs it.</summary>
internal static class WorkerLauncher
{
    private const string WorkerFile = "rpyc-worker.dll";

    // A .dll runs on the dotnet host; any other file is a program of its own (an apphost, a
    // NativeAOT-published worker, or the application running itself as its worker).
    public static ProcessStartInfo StartInfo(string? configuredPath)
    {
        string worker = configuredPath ?? FindWorker();
        if (!File.Exists(worker))
        {
            throw new FileNotFoundException($"The ForkingServer worker {worker} (ForkingServerOptions.WorkerPath) does not exist.", worker);
        }
        bool managed = worker.EndsWith(".dll", StringComparison.OrdinalIgnoreCase);
        var start = new ProcessStartInfo(managed ? DotnetHost() : Path.GetFullPath(worker))
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            RedirectStandardOutput = false,
        };
        if (managed)
        {
            start.ArgumentList.Add("exec");
            string runtimeConfig = Path.ChangeExtension(worker, ".runtimeconfig.json");
            if (!File.Exists(runtimeConfig))
            {
                runtimeConfig = WriteRuntimeConfig();
            }
            start.ArgumentList.Add("--runtimeconfig");
            start.ArgumentList.Add(runtimeConfig);
            start.ArgumentList.Add(worker);
        }
        return start;
    }

    private static string FindWorker()
    {
        string[] candidates =
        [
            Path.Combine(AppContext.BaseDirectory, WorkerFile),
            Path.Combine(Path.GetDirectoryName(typeof(WorkerLauncher).Assembly.Location) ?? ".", WorkerFile),
        ];
        return candidates.FirstOrDefault(File.Exists)
            ?? throw new FileNotFoundException($"The ForkingServer worker {WorkerFile} was not found beside the application; reference the Rpyc.Worker project or set ForkingServerOptions.WorkerPath.");
    }

    public static string DotnetHost()
    {
        string? path = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(path) && File.Exists(path))
        {
            return path;
        }
        string? process = Environment.ProcessPath;
        if (process is not null && Path.GetFileNameWithoutExtension(process) == "dotnet")
        {
            return process;
        }
        string? root = Environment.GetEnvironmentVariable("DOTNET_ROOT");
        if (!string.IsNullOrEmpty(root) && File.Exists(Path.Combine(root, "dotnet")))
        {
            return Path.Combine(root, "dotnet");
        }
        // The host of the runtime this process runs on: <root>/shared/Microsoft.NETCore.App/<version>/.
        string runtimeRoot = Path.GetFullPath(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        string candidate = Path.Combine(runtimeRoot, "dotnet");
        return File.Exists(candidate) ? candidate : "dotnet";
    }

    // A framework-dependent app needs a runtimeconfig; when the worker's own was not copied,
    // run it on the framework this process runs on.
    private static string WriteRuntimeConfig()
    {
        Version v = Environment.Version;
        string path = Path.Combine(Path.GetTempPath(), $"rpyc-worker-{v.Major}.{v.Minor}-2.runtimeconfig.json");
        if (!File.Exists(path))
        {
            string version = $"{v.Major}.{v.Minor}";
            // The settings of src/Rpyc.Worker's project file.
            File.WriteAllText(path, "{\"runtimeOptions\":{\"tfm\":\"net" + version + "\",\"framework\":{\"name\":\"Microsoft.NETCore.App\",\"version\":\"" + version
                + ".0\"},\"configProperties\":{\"System.Runtime.TieredPGO\":false,\"System.GC.Concurrent\":false,\"System.GC.Server\":false}}}");
        }
        return path;
    }
}
