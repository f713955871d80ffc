using Rpyc.Brine;
using Rpyc.Protocol;
using Rpyc.Servers;

namespace Rpyc.Tests.Servers;

/// <summary>
/// The per-connection brine limits: validated when set, the defaults are <see cref="BrineLimits.Default"/>,
/// they reach a ForkingServer's workers, and a message is read within its connection's limits.
/// </summary>
public sealed class WorkerBrineLimitsTests
{
    [Fact]
    public void FormatThenParse_KeepsBrineLimits()
    {
        var options = new RpycConnectOptions { MaxBrineDepth = 12, MaxIntDigits = 77, MaxBrineItems = 999 };

        RpycConnectOptions o = ForkingWorker.WorkerArguments.Parse(
            ForkingWorker.WorkerArguments.Format("@c", typeof(RpycService), options)).Options;

        Assert.Equal((12, 77, 999), (o.MaxBrineDepth, o.MaxIntDigits, o.MaxBrineItems));
        Assert.Equal(new BrineLimits { MaxDepth = 12, MaxIntDigits = 77, MaxItems = 999 }, o.BrineLimits);
    }

    [Fact]
    public void Defaults_AreTheProcessDefaults()
    {
        var options = new RpycConnectOptions();

        Assert.Same(BrineLimits.Default, options.BrineLimits);
        Assert.Equal(BrineLimits.DefaultMaxIntDigits, options.MaxIntDigits);
        Assert.Equal(BrineLimits.DefaultMaxItems, options.MaxBrineItems);
        Assert.Equal(BrineLimits.DefaultMaxDepth - 1, options.BrineArgsLimits.MaxDepth);
    }

    [Fact]
    public void OutOfRange_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RpycConnectOptions { MaxIntDigits = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new RpycConnectOptions { MaxBrineItems = 0 });
    }

    [Theory]
    [InlineData(RpycProtocolVersion.V5)]
    [InlineData(RpycProtocolVersion.V6)]
    public void Read_IntPastConnectionLimit_Throws_DefaultAccepts(RpycProtocolVersion version)
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>();
        Envelope.Write(output, version, MessageKind.Request, 3, new PyTuple(1L, new PyTuple(System.Numerics.BigInteger.Pow(10, 30))));
        var payload = new System.Buffers.ReadOnlySequence<byte>(output.WrittenMemory);
        var small = new RpycConnectOptions { MaxIntDigits = 20 };

        Assert.Equal(3, Envelope.Read(payload, version, RpycConnectOptions.Default.BrineLimits, RpycConnectOptions.Default.BrineArgsLimits).Seq);
        var ex = Assert.Throws<RpycProtocolException>(() => Envelope.Read(payload, version, small.BrineLimits, small.BrineArgsLimits));
        Assert.Contains("MaxIntDigits", ex.Message, StringComparison.Ordinal);
    }
}
