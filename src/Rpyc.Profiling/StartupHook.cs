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
    public static void Initialize()
    {
        if (string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("RPYC_PROFILE_REPORT")))
        {
            return;
        }
        try
        {
            Enable();
        }
        catch (Exception ex) when (ex is FileNotFoundException or FileLoadException or TypeLoadException)
        {
            // A program without the Rpyc library (the dotnet CLI itself, a Python launcher's child,
            // ...) inherits the hook: it has no connection to profile and must run as if untouched.
        }
    }

    // Not inlined: the Rpyc types it needs load when it is compiled, inside the try above.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void Enable() => Rpyc.Telemetry.ProcessProfiling.EnableFromEnvironment();
}
