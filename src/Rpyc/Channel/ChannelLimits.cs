namespace Rpyc.Channel;

/// <summary>Bounds applied to every frame a peer sends; the peer is untrusted.</summary>
internal readonly record struct ChannelLimits(int MaxFrameLength, int MaxDecompressedLength, int MaxBrineDepth)
{
    public static ChannelLimits Default { get; } = new(
        RpycConnectOptions.DefaultMaxFrameLength,
        RpycConnectOptions.DefaultMaxDecompressedLength,
        RpycConnectOptions.DefaultMaxBrineDepth);
}
