namespace Rpyc.Bench;

/// <summary>
/// One way of doing a decision scenario's work on one protocol: the same work done the way each
/// protocol is used, so that their round trips, not their raw speed, are what differs.
/// </summary>
/// <param name="Key">The report key, e.g. <c>record</c> (the idiomatic style of the protocol) or <c>record_by_value</c>.</param>
/// <param name="Scenario">The work: <c>record</c>, <c>list</c>, <c>chain</c>, <c>callback</c>, <c>upload</c>.</param>
/// <param name="Protocol"><c>rpyc</c>, <c>http</c> or <c>tcp</c>.</param>
/// <param name="Style">How it is done, for reports.</param>
public sealed record DecisionScenario(string Key, string Scenario, string Protocol, string Style)
{
    /// <summary>Items of the <c>list</c> scenario.</summary>
    public const int ListItems = 100;

    /// <summary>Items (callbacks) of the <c>callback</c> scenario.</summary>
    public const int CallbackItems = 10;

    /// <summary>Bytes of the <c>upload</c> scenario: 1 MiB.</summary>
    public const int UploadBytes = 1024 * 1024;

    /// <summary>The scenarios' names, in report order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["record", "list", "chain", "callback", "upload"];

    /// <summary>Every variant, per protocol.</summary>
    public static IReadOnlyList<DecisionScenario> All { get; } =
    [
        new("record", "record", "rpyc", "netref: get_record(), then obj.a … obj.j, one getattr round trip each"),
        new("record_by_value", "record", "rpyc", "by value: get_record_tuple(), one call returning the ten values"),
        new("list", "list", "rpyc", $"iterate a remote list: for x in get_list({ListItems}), a __next__ round trip per item"),
        new("list_by_value", "list", "rpyc", $"by value: get_list_tuple({ListItems}), one call returning a tuple"),
        new("chain", "chain", "rpyc", "root.service.child.method(x) as Python users write it: getattr, getattr, call"),
        new("chain_by_value", "chain", "rpyc", "chain_method(x): one exposed call"),
        new("callback", "callback", "rpyc", $"map_callback(fn, {CallbackItems}): the server calls the client's fn once per item"),
        new("upload", "upload", "rpyc", "upload(1 MiB): one call"),
        new("record", "record", "http", "GET /record: one request, JSON object"),
        new("list", "list", "http", $"GET /list?n={ListItems}: one request, JSON array"),
        new("chain", "chain", "http", "GET /chain?x=: one request"),
        new("callback", "callback", "http", $"GET /map?n={CallbackItems}: one request, the server computes every item"),
        new("upload", "upload", "http", "POST /upload with 1 MiB: one request"),
        new("upload", "upload", "tcp", "one 1 MiB message"),
    ];

    /// <summary>The variants a protocol serves among <paramref name="scenarios"/>.</summary>
    /// <param name="protocol">The protocol.</param>
    /// <param name="scenarios">Scenario names.</param>
    /// <returns>The variants, in catalog order.</returns>
    public static IReadOnlyList<DecisionScenario> For(string protocol, IEnumerable<string> scenarios)
    {
        var wanted = scenarios.ToHashSet(StringComparer.Ordinal);
        return All.Where(v => v.Protocol == protocol && wanted.Contains(v.Scenario)).ToArray();
    }
}
