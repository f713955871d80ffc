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

    // One lookup for every .NET child process: the library's, which its worker processes use too.
    public static string DotnetHost() => ForkingServer.DotnetHostPath;
}
