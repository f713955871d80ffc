// Application integration: the same RPyC call measured bare (baseline) and through the
// application's own code, so the difference is the application's overhead, not the protocol's.
using Rpyc;
using Rpyc.Bench;

int requests = args.Contains("--quick") ? 100 : 500;

using var server = new RpycServerHost();
using var conn = RpycConnection.Connect(server.Host, server.Port);
var app = new MyApplication(conn);
byte[] data = Payload.Create(1024);

ContextStatistics baseline = Measure("baseline (bare call)", () => conn.RootNetref.CallMethod("echo", data) is byte[] b && b.Length == data.Length);
ContextStatistics withApp = Measure("through the application", () => app.ProcessData(data).Length == data.Length);

double overhead = withApp.Latency.Mean - baseline.Latency.Mean;
Console.WriteLine($"baseline mean     {baseline.Latency.Mean * 1e6,10:F1} us");
Console.WriteLine($"application mean  {withApp.Latency.Mean * 1e6,10:F1} us");
Console.WriteLine($"overhead          {overhead * 1e6,10:F1} us ({overhead / baseline.Latency.Mean:P0} of the baseline)");
return baseline.Failures + withApp.Failures == 0 ? 0 : 1;

ContextStatistics Measure(string name, Func<bool> call)
{
    for (int i = 0; i < 50; i++)
    {
        call();
    }
    using var bench = new BenchmarkContext(name, "rpyc", "threaded");
    for (int i = 0; i < requests; i++)
    {
        using (bench.MeasureRequest())
        {
            bench.RecordRequest(call());
        }
    }
    return bench.ComputeStatistics();
}

// The application: validation and transformation around each remote call.
internal sealed class MyApplication(RpycConnection conn)
{
    public byte[] ProcessData(byte[] data)
    {
        string checksum = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(data));
        var reply = (byte[])conn.RootNetref.CallMethod("echo", data)!;
        if (Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(reply)) != checksum)
        {
            throw new InvalidOperationException("The echo was corrupted.");
        }
        return reply;
    }
}
