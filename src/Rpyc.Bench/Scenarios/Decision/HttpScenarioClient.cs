using System.Text.Json;

namespace Rpyc.Bench;

// The REST side of the decision scenarios: one request per operation, whatever the work.
internal sealed class HttpScenarioClient(BenchClient client, IHttpGetClient http) : ScenarioClient
{
    private static readonly long s_recordSum = ScenarioData.RecordValues.Sum();
    private static readonly long s_listSum = ScenarioData.ListValues(DecisionScenario.ListItems).Sum();
    private readonly byte[] _payload = Payload.Create(DecisionScenario.UploadBytes);
    private long _x;

    public override long RoundTrips => client.RoundTrips;

    public override long Bytes => http.Bytes;

    public override void Run(DecisionScenario variant)
    {
        switch (variant.Key)
        {
            case "record":
            {
                using JsonDocument doc = JsonDocument.Parse(http.Get("/record"));
                long sum = ScenarioData.RecordFields.Sum(f => doc.RootElement.GetProperty(f).GetInt64());
                Check(sum == s_recordSum, $"/record fields summed to {sum}");
                break;
            }
            case "list":
            {
                using JsonDocument doc = JsonDocument.Parse(http.Get($"/list?n={DecisionScenario.ListItems}"));
                Check(doc.RootElement.GetArrayLength() == DecisionScenario.ListItems && doc.RootElement.EnumerateArray().Sum(e => e.GetInt64()) == s_listSum, "/list returned wrong items");
                break;
            }
            case "chain":
            {
                long x = ++_x;
                string text = System.Text.Encoding.ASCII.GetString(http.Get($"/chain?x={x}"));
                Check(long.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out long y) && y == ScenarioData.Chain(x), $"/chain?x={x} returned '{text}'");
                break;
            }
            case "callback":
            {
                using JsonDocument doc = JsonDocument.Parse(http.Get($"/map?n={DecisionScenario.CallbackItems}"));
                Check(doc.RootElement.GetArrayLength() == DecisionScenario.CallbackItems
                    && doc.RootElement.EnumerateArray().Select((e, i) => e.GetInt64() == ScenarioData.Callback(i)).All(ok => ok), "/map returned wrong items");
                break;
            }
            case "upload":
                client.Upload(_payload);
                break;
            default:
                throw new ArgumentException($"Unknown HTTP scenario '{variant.Key}'.", nameof(variant));
        }
    }

    protected override void Dispose(bool disposing) => client.Dispose();
}
