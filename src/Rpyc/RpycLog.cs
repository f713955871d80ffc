namespace Rpyc;

/// <summary>
/// Where the library reports what it cannot throw to a caller: connections closed for malformed
/// input, failures in hooks. Defaults to standard error; set <see cref="Sink"/> to redirect.
/// </summary>
public static class RpycLog
{
    /// <summary>Receives each warning line; <c>null</c> silences them.</summary>
    public static Action<string>? Sink { get; set; } = static line => Console.Error.WriteLine(line);

    internal static void Warn(string message) => Sink?.Invoke($"rpyc: {message}");
}
