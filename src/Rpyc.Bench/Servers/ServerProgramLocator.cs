namespace Rpyc.Bench;

// Finds the program that serves .NET targets in a child process (rpycbench-host.dll, beside the
// application as rpyc-worker.dll is beside ForkingServer's) and the dotnet host that runs it.
internal static class ServerProgramLocator
{
    public const string ProgramFile = "rpycbench-host.dll";

    public static string Find(string? configured)
    {
        string?[] candidates =
        [
            configured,
            Environment.GetEnvironmentVariable("RPYCBENCH_SERVER"),
            Path.Combine(AppContext.BaseDirectory, ProgramFile),
            Path.Combine(Path.GetDirectoryName(typeof(ServerProgramLocator).Assembly.Location) ?? ".", ProgramFile),
        ];
        if (!string.IsNullOrEmpty(configured) && !File.Exists(configured))
        {
            throw new ServerStartException($"The server program {configured} (ServerHostOptions.ServerProgram) does not exist.");
        }
        return candidates.FirstOrDefault(c => !string.IsNullOrEmpty(c) && File.Exists(c))
            ?? throw new ServerStartException(
                $"{ProgramFile} (the Rpyc.Bench.Host project, which serves the .NET targets in their own process) was not found beside the application ({AppContext.BaseDirectory}). " +
                "Reference src/Rpyc.Bench.Host, set ServerHostOptions.ServerProgram or RPYCBENCH_SERVER, or set ServerHostOptions.InProcess.");
    }

    // The arguments of 'dotnet' before the target's: exec [--runtimeconfig X] PROGRAM serve.
    public static IReadOnlyList<string> ExecArguments(string? configured)
    {
        string program = Find(configured);
        var args = new List<string> { "exec" };
        // An Exe referenced by a project lands beside it without its runtimeconfig on some SDKs: run
        // it on the frameworks this process runs on (Kestrel needs Microsoft.AspNetCore.App).
        if (!File.Exists(Path.ChangeExtension(program, ".runtimeconfig.json")))
        {
            args.Add("--runtimeconfig");
            args.Add(WriteRuntimeConfig());
        }
        args.Add(program);
        // Both programs take 'serve TARGET …': the host for the CLI's rpycbench.dll configured in its place.
        args.Add("serve");
        return args;
    }

    // One lookup for every .NET child process: the library's, which its worker processes use too.
    public static string DotnetHost() => ForkingServer.DotnetHostPath;

    private static string WriteRuntimeConfig()
    {
        Version v = Environment.Version;
        string version = $"{v.Major}.{v.Minor}";
        string path = Path.Combine(Path.GetTempPath(), $"rpycbench-host-{version}.runtimeconfig.json");
        if (!File.Exists(path))
        {
            string temp = path + "." + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
            File.WriteAllText(temp, "{\"runtimeOptions\":{\"tfm\":\"net" + version + "\",\"frameworks\":["
                + "{\"name\":\"Microsoft.NETCore.App\",\"version\":\"" + version + ".0\"},"
                + "{\"name\":\"Microsoft.AspNetCore.App\",\"version\":\"" + version + ".0\"}]}}");
            File.Move(temp, path, overwrite: true);
        }
        return path;
    }
}
