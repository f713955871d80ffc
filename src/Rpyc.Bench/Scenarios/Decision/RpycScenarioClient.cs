namespace Rpyc.Bench;

// The RPyC side of the decision scenarios, written as a Python user writes them (netrefs,
// attribute chains, iteration, callbacks) and by value; netrefs are released (a one-way DEL)
// when done, as Python's garbage collector would.
internal sealed class RpycScenarioClient : ScenarioClient
{
    private readonly RpycBenchClient _client;

    private static readonly long s_recordSum = ScenarioData.RecordValues.Sum();
    private static readonly long s_listSum = ScenarioData.ListValues(DecisionScenario.ListItems).Sum();
    private readonly byte[] _payload = Payload.Create(DecisionScenario.UploadBytes);
    private readonly Func<long, object?> _callback;
    private Netref? _root;
    private long _x;
    private long _callbacks;

    public RpycScenarioClient(RpycBenchClient client)
    {
        _client = client;
        _callback = i =>
        {
            Interlocked.Increment(ref _callbacks);
            return ScenarioData.Callback(i);
        };
    }

    private Netref Root => _root ??= _client.Connection.RootNetref;

    // Our requests, plus the peer's calls into our callback: each is a round trip someone waited for.
    // (The peer's one-way releases are not.)
    public override long RoundTrips => _client.Connection.Counters.SyncRequests + Interlocked.Read(ref _callbacks);

    public override long Bytes => _client.Connection.Counters.BytesSent + _client.Connection.Counters.BytesReceived;

    public override void Run(DecisionScenario variant)
    {
        switch (variant.Key)
        {
            case "record":
            {
                using Netref record = AsNetref(Root.CallMethod("get_record"), "get_record");
                long sum = 0;
                foreach (string field in ScenarioData.RecordFields)
                {
                    sum += Long(record.GetAttr(field), field);
                }
                Check(sum == s_recordSum, $"record fields summed to {sum}, expected {s_recordSum}");
                break;
            }
            case "record_by_value":
                Check(Sum(Root.CallMethod("get_record_tuple")) == s_recordSum, "get_record_tuple returned wrong values");
                break;
            case "list":
            {
                using Netref list = AsNetref(Root.CallMethod("get_list", DecisionScenario.ListItems), "get_list");
                long sum = 0;
                int count = 0;
                foreach (object? item in list)
                {
                    sum += Long(item, "list item");
                    count++;
                }
                Check(count == DecisionScenario.ListItems && sum == s_listSum, $"iterated {count} items summing to {sum}");
                break;
            }
            case "list_by_value":
                Check(Sum(Root.CallMethod("get_list_tuple", DecisionScenario.ListItems)) == s_listSum, "get_list_tuple returned wrong values");
                break;
            case "chain":
            {
                long x = ++_x;
                using Netref service = AsNetref(Root.GetAttr("service"), "service");
                using Netref child = AsNetref(service.GetAttr("child"), "service.child");
                long y = Long(child.CallMethod("method", x), "method");
                Check(y == ScenarioData.Chain(x), $"service.child.method({x}) returned {y}");
                break;
            }
            case "chain_by_value":
            {
                long x = ++_x;
                long y = Long(Root.CallMethod("chain_method", x), "chain_method");
                Check(y == ScenarioData.Chain(x), $"chain_method({x}) returned {y}");
                break;
            }
            case "callback":
            {
                object? reply = Root.CallMethod("map_callback", _callback, DecisionScenario.CallbackItems);
                var items = (reply as IEnumerable<object?>)?.Select(v => Long(v, "callback result")).ToArray() ?? [];
                Check(items.Length == DecisionScenario.CallbackItems && items.Select((v, i) => v == ScenarioData.Callback(i)).All(ok => ok),
                    $"map_callback returned {items.Length} wrong items");
                break;
            }
            case "upload":
                Check(Long(Root.CallMethod("upload", _payload), "upload") == _payload.Length, "upload returned a wrong length");
                break;
            default:
                throw new ArgumentException($"Unknown RPyC scenario '{variant.Key}'.", nameof(variant));
        }
    }

    private static Netref AsNetref(object? value, string what) =>
        value as Netref ?? throw new InvalidReplyException($"{what} returned {value?.GetType().Name ?? "None"}, expected a remote object");

    private static long Long(object? value, string what) => value switch
    {
        long l => l,
        int i => i,
        _ => throw new InvalidReplyException($"{what} returned {value?.GetType().Name ?? "None"}, expected an int"),
    };

    private static long Sum(object? tuple) =>
        tuple is IEnumerable<object?> items ? items.Sum(v => Long(v, "item")) : throw new InvalidReplyException("expected a tuple");

    protected override void Dispose(bool disposing) => _client.Dispose();
}
