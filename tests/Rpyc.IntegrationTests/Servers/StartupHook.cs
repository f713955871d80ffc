using Rpyc.IntegrationTests.Servers;

#pragma warning disable CA1050 // The runtime looks the startup hook up by this exact name, outside any namespace.

/// <summary>
/// Makes <c>rpyc-worker</c> (beside the tests, with its own runtimeconfig) the host of a plain
/// ThreadedServer in a child process, so <see cref="HeapLimitTests"/> can run a server under
/// <c>DOTNET_GCHeapHardLimit</c>: with <c>DOTNET_STARTUP_HOOKS</c> naming this assembly and
/// <see cref="HeapLimitServer.Variable"/> set, the server runs before the worker's Main and the
/// process exits when it stops. Without the variable it does nothing.
/// </summary>
internal static class StartupHook
{
    public static void Initialize()
    {
        if (Environment.GetEnvironmentVariable(HeapLimitServer.Variable) == "1")
        {
            Environment.Exit(HeapLimitServer.Run());
        }
        if (Environment.GetEnvironmentVariable(FaultyServer.Variable) is { Length: > 0 } kind)
        {
            Environment.Exit(FaultyServer.Run(kind));
        }
    }
}

#pragma warning restore CA1050
