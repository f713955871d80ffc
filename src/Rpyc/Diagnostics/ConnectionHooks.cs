namespace Rpyc.Telemetry;

/// <summary>
/// What the connection calls out to, for tools that live outside the protocol library:
/// Rpyc.Profiling's process-wide profiling (opt-in, by environment variable) sets
/// <see cref="Created"/>. Unset, a new connection pays one null check.
/// </summary>
internal static class ConnectionHooks
{
    /// <summary>Called by every connection's constructor, before its service's <c>on_connect</c>.</summary>
    public static volatile Action<RpycConnection>? Created;
}
