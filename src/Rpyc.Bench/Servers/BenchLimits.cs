namespace Rpyc.Bench;

/// <summary>The largest messages the benchmark's targets carry.</summary>
public static class BenchLimits
{
    /// <summary>The largest <c>--payload-sizes</c> entry: 64 MiB.</summary>
    public const int MaxPayloadBytes = 64 * 1024 * 1024;

    /// <summary>
    /// <see cref="RpycConnectOptions.MaxFrameLength"/> (and decompressed length) of the suite's RPyC
    /// servers and clients: a <see cref="MaxPayloadBytes"/> payload plus its call's framing and brine.
    /// Rpyc's default limit is exactly 64 MiB, so a 64 MiB upload's frame was refused and its
    /// connection closed.
    /// </summary>
    public const int MaxFrameLength = MaxPayloadBytes + (1024 * 1024);
}
