using System.Buffers;
using Rpyc.Channel;

namespace Rpyc.Tests;

/// <summary>
/// Inputs that scripts/fuzz.sh found failing, kept as they were found (each is also a seed under
/// fuzz/Rpyc.Fuzz/corpus/TARGET/).
/// </summary>
public class FuzzRegressionTests
{
    // corpus/frame/zlib-exception: a compressed frame whose deflate stream zlib rejects with
    // ZLibException (an IOException), which escaped as a transport failure.
    private const string ZlibExceptionFrame =
        "0000012f0178206360646266616563e7e02c2aacaaaea9adab6f121611151397909492969195935750545256515553d7d0d4d2d6d1d5e63730343236313533b7b0b4b2b6b1b5b37770747276717573f7f0f4f2f6f1f5f30f080c0a0e090d0b8f888c8a8e898d8b4f484c4a4e494d4bcfc8cccacec9cdcb2f28e4e2e1e5e3171014686c6a6e696d6befe8eceaeee9edeb9f3071d2e42953a74d9f3173d6ec3973e7cd5fb070d1e2254b972d5fb172d5ea356bd7addfb071d3e62d5bb76ddfb173d7eebd7bf7ed3f70f0d0e123478f1d3f71f2d4e93367cf9dbf70ff7fe52b57af5dbf71f3d6ed3b77efdd7ff0f0d1e3274f9f3d7ff1f2d5eb376fdfbdfff0f1d3e72f5fbf7dfff1f317c3a8d747637d34c18fe6f5d1626eb4841faddc46ebf55bb76ddfb173d7ee3d7bf7ed3f70f0d0e123478f1d3f71f2d4e93367cf9dd126cd686b6ec83464016d28b4790a";

    [Fact]
    public void TryReadFrame_DeflateStreamZlibRejects_ThrowsProtocolException()
    {
        var buffer = new ReadOnlySequence<byte>(Convert.FromHexString(ZlibExceptionFrame));

        var ex = Assert.Throws<RpycProtocolException>(() => FrameReader.TryReadFrame(ref buffer, ChannelLimits.Default, out _));

        Assert.Contains("not a valid zlib stream", ex.Message, StringComparison.Ordinal);
    }
}
