namespace Rpyc.Bench;

/// <summary>
/// The model a decision rests on: an operation that takes <c>t</c> on loopback and makes
/// <c>n</c> round trips moving <c>b</c> bytes takes, on a network of round-trip time <c>r</c> and
/// rate <c>R</c>, about <c>t + n × (r − p) + b / R</c>, where <c>p</c> is the same target's loopback
/// ping (one round trip on loopback, which <c>t</c> already holds <c>n</c> of). Printed beside the
/// measured time, its deviation says how much else (windowing, Nagle, the relay) is at play.
/// </summary>
public static class NetworkModel
{
    /// <summary>
    /// How far a measurement may part from the model, either way, before reports flag it
    /// (<see cref="ScenarioResult.BeyondModel"/>): 2, a factor no round-trip count error explains.
    /// </summary>
    public const double DeviationFactor = 2;

    /// <summary>The predicted seconds per operation.</summary>
    /// <param name="network">The network.</param>
    /// <param name="loopbackSeconds">The operation's time on loopback.</param>
    /// <param name="loopbackPingSeconds">The target's loopback ping.</param>
    /// <param name="roundTrips">Round trips per operation.</param>
    /// <param name="bytes">Bytes per operation, both directions.</param>
    /// <returns>Seconds.</returns>
    public static double Predict(NetworkProfile network, double loopbackSeconds, double loopbackPingSeconds, double roundTrips, double bytes)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (network.IsLoopback)
        {
            return loopbackSeconds;
        }
        double perRoundTrip = Math.Max(0, network.RoundTrip.TotalSeconds - loopbackPingSeconds);
        double transfer = network.RateBitsPerSecond is long rate && rate > 0 ? bytes * 8 / rate : 0;
        return loopbackSeconds + (roundTrips * perRoundTrip) + transfer;
    }
}
