namespace Rpyc.Bench;

/// <summary>
/// Runs decision scenarios on one connection and validates every reply. Round trips and bytes
/// come from the protocol's own counters (the RPyC connection's exact counts; one request per
/// HTTP call), so that a report's round trips per operation are counted, not assumed.
/// </summary>
public abstract class ScenarioClient : IDisposable
{
    /// <summary>Round trips so far.</summary>
    public abstract long RoundTrips { get; }

    /// <summary>Bytes sent and received so far (headers and framing included).</summary>
    public abstract long Bytes { get; }

    /// <summary>Runs one operation of a variant; throws <see cref="InvalidReplyException"/> on a wrong answer.</summary>
    /// <param name="variant">The variant, of this client's protocol.</param>
    public abstract void Run(DecisionScenario variant);

    /// <summary>A scenario client over a connected benchmark client (it takes ownership).</summary>
    /// <param name="client">The benchmark client.</param>
    /// <returns>The scenario client.</returns>
    /// <exception cref="NotSupportedException">A client that serves no scenario.</exception>
    public static ScenarioClient For(BenchClient client) => client switch
    {
        IGuardedClient guarded => new GuardedScenarioClient(For(guarded.Inner), guarded, client),
        RpycBenchClient rpyc => new RpycScenarioClient(rpyc),
        IHttpGetClient http => new HttpScenarioClient(client, http),
        _ => new UploadOnlyScenarioClient(client),
    };

    /// <inheritdoc />
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases the connection.</summary>
    /// <param name="disposing">From <see cref="Dispose()"/>.</param>
    protected abstract void Dispose(bool disposing);

    internal static void Check(bool ok, string message)
    {
        if (!ok)
        {
            throw new InvalidReplyException(message);
        }
    }
}

/// <summary>An HTTP benchmark client that can GET any path and counts its bytes.</summary>
internal interface IHttpGetClient
{
    /// <summary>GETs a path and returns the body of a 200 reply.</summary>
    public byte[] Get(string pathAndQuery);

    /// <summary>Request and response bytes so far, headers included.</summary>
    public long Bytes { get; }
}

// The raw TCP floor serves one scenario: upload.
internal sealed class UploadOnlyScenarioClient(BenchClient client) : ScenarioClient
{
    private readonly byte[] _payload = Payload.Create(DecisionScenario.UploadBytes);

    public override long RoundTrips => client.RoundTrips;

    public override long Bytes => client.RoundTrips * (DecisionScenario.UploadBytes + 8L);

    public override void Run(DecisionScenario variant)
    {
        Check(variant.Scenario == "upload", $"{variant.Key} is not served over {variant.Protocol}");
        client.Upload(_payload);
    }

    protected override void Dispose(bool disposing) => client.Dispose();
}

// A scenario client whose operations the suite's phase guard watches, as it watches every request.
internal sealed class GuardedScenarioClient(ScenarioClient inner, IGuardedClient guard, BenchClient owner) : ScenarioClient
{
    public override long RoundTrips => inner.RoundTrips;

    public override long Bytes => inner.Bytes;

    public override void Run(DecisionScenario variant)
    {
        guard.Enter();
        try
        {
            inner.Run(variant);
        }
        finally
        {
            guard.Exit();
        }
    }

    // The guarded client owns the connection: disposing it closes the inner one once.
    protected override void Dispose(bool disposing) => owner.Dispose();
}
