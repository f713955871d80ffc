namespace Rpyc.Bench;

/// <summary>A snapshot of a <see cref="DelayRelay"/>'s counters and measured accuracy.</summary>
/// <param name="Profile">The network the relay plays.</param>
/// <param name="Connections">Client connections accepted.</param>
/// <param name="ActiveConnections">Connections still open.</param>
/// <param name="FailedConnections">Client connections reset because the server could not be reached.</param>
/// <param name="Resets">Connections ended by a reset (either side) rather than two FINs.</param>
/// <param name="BytesClientToServer">Bytes delivered to the server.</param>
/// <param name="BytesServerToClient">Bytes delivered to the client.</param>
/// <param name="ChunksDelivered">Data chunks delivered, both directions.</param>
/// <param name="CpuSeconds">CPU seconds of the relay's threads (NaN off Linux).</param>
/// <param name="Lateness">
/// Per delivered chunk, the delivery time minus the due time, in seconds: the relay's own error.
/// Its p50 and p99 are the accuracy figure.
/// </param>
/// <param name="SpinMargin">The writers' spin before each delivery, as it stands (see <see cref="DelayRelayOptions.SpinMargin"/>).</param>
/// <param name="DelayCompensation">Taken off each one-way delay for the relay's own path cost (see <see cref="DelayRelay.DelayCompensation"/>).</param>
public sealed record RelayStatistics(
    NetworkProfile Profile,
    long Connections,
    long ActiveConnections,
    long FailedConnections,
    long Resets,
    long BytesClientToServer,
    long BytesServerToClient,
    long ChunksDelivered,
    double CpuSeconds,
    Statistics Lateness,
    TimeSpan SpinMargin,
    TimeSpan DelayCompensation = default);
