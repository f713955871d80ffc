namespace Rpyc;

/// <summary>
/// Base class of services: the root object a peer reaches with <c>conn.root</c>. Members marked
/// <see cref="ExposedAttribute"/>, or named with the <c>exposed_</c> prefix, are reachable;
/// nothing else is, as with Python's default <c>protocol_config</c>.
/// </summary>
/// <example>
/// <code>
/// public sealed class CalculatorService : RpycService
/// {
///     [Exposed] public long Add(long a, long b) =&gt; a + b;   // wire name "add"
/// }
/// </code>
/// </example>
public class RpycService
{
    /// <summary>Called when a connection using this service opens (Python's <c>on_connect</c>).</summary>
    /// <param name="connection">The new connection.</param>
    public virtual void OnConnect(RpycConnection connection)
    {
    }

    /// <summary>Called once when that connection closes (Python's <c>on_disconnect</c>).</summary>
    /// <param name="connection">The closing connection.</param>
    public virtual void OnDisconnect(RpycConnection connection)
    {
    }

    /// <summary>The service's aliases, upper-cased: the class name without a trailing <c>Service</c> (service.py).</summary>
    public virtual IReadOnlyList<string> Aliases
    {
        get
        {
            string name = GetType().Name.ToUpperInvariant();
            return [name.EndsWith("SERVICE", StringComparison.Ordinal) && name.Length > 7 ? name[..^7] : name];
        }
    }

    /// <summary>Python's <c>exposed_get_service_name</c>: the first alias.</summary>
    [Exposed("get_service_name")]
    public string GetServiceName() => Aliases[0];

    /// <summary>Python's <c>exposed_get_service_aliases</c>.</summary>
    [Exposed("get_service_aliases")]
    public PyTuple GetServiceAliases() => PyTuple.From(Aliases);
}

/// <summary>
/// Makes a method, property or field reachable by the peer. The wire name is the member name in
/// snake_case (<c>GetName</c> → <c>get_name</c>) unless one is given.
/// </summary>
/// <param name="name">The wire name, or <c>null</c> for the snake_case form of the member name.</param>
[AttributeUsage(AttributeTargets.Method | AttributeTargets.Property | AttributeTargets.Field, Inherited = true)]
public sealed class ExposedAttribute(string? name = null) : Attribute
{
    /// <summary>The wire name given, or <c>null</c>.</summary>
    public string? Name { get; } = name;
}
