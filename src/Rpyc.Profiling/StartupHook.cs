/// <summary>
/// The .NET startup hook of Rpyc.Profiling (<c>DOTNET_STARTUP_HOOKS=/path/to/Rpyc.Profiling.dll</c>):
/// profiles every RPyC connection of an unmodified program when <c>RPYC_PROFILE_REPORT</c> names
/// the report file. <c>rpycbench profile run -- COMMAND</c> sets both.
/// </summary>
#pragma warning disable CA1050 // The runtime looks the hook up by this exact name, outside any namespace.
public static class StartupHook
#pragma warning restore CA1050
{
    /// <summary>Called by the runtime before the program's <c>Main</c>.</summary>
    public static void Initialize() => Rpyc.Telemetry.ProcessProfiling.EnableFromEnvironment();
}
