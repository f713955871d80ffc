namespace Rpyc.Bench;

/// <summary>What one decision-scenario variant measured on one target.</summary>
public sealed class ScenarioResult
{
    /// <summary>The report key, e.g. <c>record</c> or <c>record_by_value</c>.</summary>
    public required string Key { get; init; }

    /// <summary>The work: <c>record</c>, <c>list</c>, <c>chain</c>, <c>callback</c>, <c>upload</c>.</summary>
    public required string Scenario { get; init; }

    /// <summary>How the work is done on this protocol.</summary>
    public required string Style { get; init; }

    /// <summary>Operations that completed and validated.</summary>
    public required long Successes { get; init; }

    /// <summary>Operations that failed.</summary>
    public required long Failures { get; init; }

    /// <summary>Wall time of the measured phase, in seconds.</summary>
    public required double Seconds { get; init; }

    /// <summary>Time per operation, in seconds.</summary>
    public required Statistics Latency { get; init; }

    /// <summary>Network round trips per operation, counted by the protocol (RPyC: the connection's counters; HTTP: requests).</summary>
    public double? RoundTripsPerOp { get; init; }

    /// <summary>Bytes on the wire per operation, both directions, framing and headers included.</summary>
    public double? BytesPerOp { get; init; }

    /// <summary>
    /// Through a network profile: the model's time per operation,
    /// <c>t(loopback) + round trips × (RTT − loopback ping) + bytes / rate</c>, from this target's
    /// own loopback measurement in the same run; <c>null</c> at loopback.
    /// </summary>
    public double? PredictedSeconds { get; init; }

    /// <summary>
    /// The measured p50 over <see cref="PredictedSeconds"/>, or <c>null</c> without a prediction or
    /// a measurement: 1 is the model exactly, 3 a measurement three times the model's time.
    /// </summary>
    public double? ModelRatio => PredictedSeconds is double p && p > 0 && Latency.Count > 0 ? Latency.P50 / p : null;

    /// <summary>
    /// Whether the measurement parts from the model by more than <see cref="NetworkModel.DeviationFactor"/>
    /// either way: something besides round trips and bytes (Nagle and delayed ACKs, a new connection per
    /// request, a busy machine) is at play, and the figure needs a look before it drives a decision.
    /// </summary>
    public bool BeyondModel => ModelRatio is double r && (r > NetworkModel.DeviationFactor || r < 1 / NetworkModel.DeviationFactor);

    /// <summary>The first failure's message, or <c>null</c>.</summary>
    public string? FirstError { get; init; }
}
