namespace Rpyc.Bench;

// Finds rpycbench.dll (which serves .NET targets) and the dotnet host that runs it.
internal static class ServerProgramLocator
{
    public const string ProgramFile = "rpycbench.dll";

    public static string Find(string? configured)
    {
        string?[] candidates =
        [
            configured,
            Environment.GetEnvironmentVariable("RPYCBENCH_SERVER"),
            Path.Combine(AppContext.BaseDirectory, ProgramFile),
            Path.Combine(Path.GetDirectoryName(typeof(ServerProgramLocator).Assembly.Location) ?? ".", ProgramFile),
        ];
        return candidates.FirstOrDefault(c => !string.IsNullOrEmpty(c) && File.Exists(c))
            ?? throw new ServerStartException(
                $"{ProgramFile} (the Rpyc.Bench.Cli project, which serves the .NET targets in their own process) was not found beside the application. " +
                "Reference Rpyc.Bench.Cli, set ServerHostOptions.ServerProgram or RPYCBENCH_SERVER, or set ServerHostOptions.InProcess.");
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
        string runtimeDir = Path.GetFullPath(Path.Combine(System.Runtime.InteropServices.RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        string candidate = Path.Combine(runtimeDir, "dotnet");
        return File.Exists(candidate) ? candidate : "dotnet";
    }
}
