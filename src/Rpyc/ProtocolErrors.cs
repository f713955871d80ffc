namespace Rpyc;

// Throw helpers: keeps the message construction off the hot paths' inlined code.
internal static class ProtocolErrors
{
    public static RpycProtocolException Brine(string detail) => new($"Malformed brine value: {detail}.");

    public static RpycProtocolException Frame(string detail) => new($"Malformed frame: {detail}.");

    public static RpycProtocolException Message(string detail) => new($"Malformed message: {detail}.");

    // Not malformed input, but the same outcome: the connection closes with this reason logged.
    public static RpycProtocolException Budget(string detail) => new($"Memory budget exceeded: {detail}.");
}
