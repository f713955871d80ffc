using System.Diagnostics;

namespace Rpyc.Profiling.Wire;

/// <summary>Which peer sent a request: the client (the program that connected to the relay) or the server.</summary>
public enum WireDirection
{
    /// <summary>A request of the client, answered by the server.</summary>
    ClientToServer,

    /// <summary>A request of the server to the client (a callback), answered by the client.</summary>
    ServerToClient,
}

/// <summary>One request seen on the wire, with its reply when it came: a round trip, or a one-way message (DEL, CLOSE).</summary>
public sealed class WireCall
{
    internal WireCall(int id, int connectionId, WireDirection direction, long seq, string handler, long startTimestamp)
    {
        Id = id;
        ConnectionId = connectionId;
        Direction = direction;
        Seq = seq;
        Handler = handler;
        StartTimestamp = startTimestamp;
    }

    /// <summary>The call's number across the relay, from 1, in the order requests were seen.</summary>
    public int Id { get; }

    /// <summary>The relayed connection it was seen on, from 1.</summary>
    public int ConnectionId { get; }

    /// <summary>Who sent the request.</summary>
    public WireDirection Direction { get; }

    /// <summary>The request's sequence number on its connection.</summary>
    public long Seq { get; }

    /// <summary>The handler in rpyc's lower-case form (<c>getattr</c>, <c>callattr</c>, <c>del</c>...).</summary>
    public string Handler { get; }

    /// <summary>The type name of the object the request is about (from its id_pack), or <c>null</c>.</summary>
    public string? Target { get; internal set; }

    /// <summary>
    /// The attribute of a getattr/setattr/delattr, the method of a callattr, or for a <c>call</c> the
    /// attribute whose getattr returned the called object (how Python netrefs call methods); else <c>null</c>.
    /// </summary>
    public string? Name { get; internal set; }

    /// <summary>Whether this is a one-way message (DEL, CLOSE): rpyc sends them without waiting for the reply.</summary>
    public bool IsOneWay { get; internal set; }

    /// <summary>The request this one is nested in (a callback within a pending call), or 0.</summary>
    public int ParentId { get; internal set; }

    /// <summary>Nesting depth: 1 for a top-level request.</summary>
    public int Depth { get; internal set; } = 1;

    /// <summary>The request's frame length, header and trailer included.</summary>
    public long RequestBytes { get; internal set; }

    /// <summary>The reply's frame length, or 0 while none came.</summary>
    public long ReplyBytes { get; internal set; }

    /// <summary><see cref="Stopwatch"/> ticks when the relay received the request's last byte.</summary>
    public long StartTimestamp { get; }

    /// <summary><see cref="Stopwatch"/> ticks when the relay received the reply's last byte, or 0.</summary>
    public long EndTimestamp { get; internal set; }

    /// <summary>Whether the reply came.</summary>
    public bool IsCompleted => EndTimestamp != 0;

    /// <summary>From the request to its reply as the relay saw them (the relay's own time is in <see cref="RelayTime"/>).</summary>
    public TimeSpan Duration => IsCompleted ? Stopwatch.GetElapsedTime(StartTimestamp, EndTimestamp) : TimeSpan.Zero;

    /// <summary>The time the relay spent forwarding the request's and the reply's last bytes: what it added to this round trip.</summary>
    public TimeSpan RelayTime { get; internal set; }

    /// <summary>The remote exception type (and first argument) when the reply was an exception, else <c>null</c>.</summary>
    public string? Error { get; internal set; }

    /// <summary>The type name of the netref the reply created, if it created one.</summary>
    public string? ReturnedNetref { get; internal set; }

    /// <summary>Bytes carried by the request's or reply's <c>bytes</c>/<c>str</c> values (transfers), for the report.</summary>
    public long PayloadBytes { get; internal set; }

    internal Rpyc.Protocol.IdPack? TargetId { get; set; }

    internal Rpyc.Protocol.IdPack? ReturnedId { get; set; }

    internal long RequestForwardTicks { get; set; }

    // For a call of a proxy a getattr returned: the type the attribute was read from.
    internal string? NameOwner { get; set; }

    /// <summary>What it was, readably: <c>list.__iter__</c>, <c>Service.add()</c>, <c>getroot</c>.</summary>
    public string DisplayName
    {
        get
        {
            string? type = ShortType(Target);
            return Handler switch
            {
                "getattr" or "setattr" or "delattr" or "callattr" => $"{type ?? "?"}.{Name}",
                "call" when Name is not null => $"{ShortType(NameOwner) ?? "?"}.{Name}()",
                "call" => $"{type ?? "?"}()",
                _ when type is null => Handler,
                _ => $"{Handler}({type})",
            };
        }
    }

    internal static string? ShortType(string? typeName) => typeName is null ? null : typeName[(typeName.LastIndexOf('.') + 1)..];

    internal WireCall Snapshot() => (WireCall)MemberwiseClone();

    /// <summary>The display name, handler and duration.</summary>
    public override string ToString() => $"{DisplayName} ({Handler}) [{(IsCompleted ? Duration.TotalMilliseconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture) + " ms" : "...")}]";
}
