using Rpyc.Servers;

namespace Rpyc.Tests.Servers;

/// <summary>A ForkingServer's connection options reach its worker processes through their command line.</summary>
public sealed class WorkerArgumentsTests
{
    [Fact]
    public void FormatThenParse_KeepsEveryConnectionOption()
    {
        var options = new RpycConnectOptions
        {
            SyncRequestTimeout = TimeSpan.FromMilliseconds(1234),
            CompressionThreshold = 3000,
            MaxFrameLength = 1 << 20,
            MaxDecompressedLength = 2 << 20,
            MaxBrineDepth = 40,
            AllowPublicAttrs = true,
            AllowSetAttr = true,
            IncludeLocalTraceback = false,
            ReceiveSpin = TimeSpan.FromMicroseconds(75),
            NoDelay = false,
        };

        string[] args = ForkingWorker.WorkerArguments.Format("/tmp/control.sock", typeof(RpycService), options);
        ForkingWorker.WorkerArguments parsed = ForkingWorker.WorkerArguments.Parse(args);

        Assert.Equal("/tmp/control.sock", parsed.ControlPath);
        Assert.Equal(typeof(RpycService).FullName, parsed.TypeName);
        RpycConnectOptions o = parsed.Options;
        Assert.Equal(options.SyncRequestTimeout, o.SyncRequestTimeout);
        Assert.Equal(options.CompressionThreshold, o.CompressionThreshold);
        Assert.Equal(options.MaxFrameLength, o.MaxFrameLength);
        Assert.Equal(options.MaxDecompressedLength, o.MaxDecompressedLength);
        Assert.Equal(options.MaxBrineDepth, o.MaxBrineDepth);
        Assert.True(o.AllowPublicAttrs);
        Assert.True(o.AllowSetAttr);
        Assert.False(o.IncludeLocalTraceback);
        Assert.Equal(TimeSpan.FromMicroseconds(75), o.ReceiveSpin);
        Assert.False(o.NoDelay);
    }

    [Fact]
    public void FormatThenParse_Defaults_StayDefaults()
    {
        ForkingWorker.WorkerArguments parsed = ForkingWorker.WorkerArguments.Parse(
            ForkingWorker.WorkerArguments.Format("/tmp/c.sock", typeof(RpycService), RpycConnectOptions.Default));

        Assert.Equal(TimeSpan.Zero, parsed.Options.ReceiveSpin);
        Assert.True(parsed.Options.NoDelay);
        Assert.True(parsed.Options.IncludeLocalTraceback);
        Assert.False(parsed.Options.AllowPublicAttrs);
    }

    [Fact]
    public void IsWorkerCommandLine_ServersCommandLine_True()
    {
        Assert.True(ForkingWorker.IsWorkerCommandLine(ForkingWorker.WorkerArguments.Format("@c", typeof(RpycService), RpycConnectOptions.Default)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("--rpyc-worker")]
    [InlineData("serve --rpyc-worker 2")]
    public void IsWorkerCommandLine_OtherCommandLines_False(string commandLine)
    {
        string[] args = commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);

        Assert.False(ForkingWorker.IsWorkerCommandLine(args));
    }

    [Fact]
    public void RunGeneric_ServerNamesAnotherService_ExitsWithUsageCode()
    {
        string[] args = ForkingWorker.WorkerArguments.Format("@rpyc-test-no-server", typeof(OtherService), RpycConnectOptions.Default);

        Assert.Equal(2, ForkingWorker.Run<RpycService>(args));
    }

    [Fact]
    public void RunGeneric_MalformedCommandLine_ExitsWithUsageCode()
    {
        string[] args = ForkingWorker.WorkerArguments.Format("@rpyc-test-no-server", typeof(RpycService), RpycConnectOptions.Default);
        args[Array.IndexOf(args, "--timeout-ms") + 1] = "soon";

        Assert.Equal(2, ForkingWorker.Run<RpycService>(args));
        Assert.Equal(2, ForkingWorker.Run<RpycService>(["--rpyc-worker", "2"]));
    }

    [Theory]
    [InlineData("--rpyc-worker 1 --control @c")]
    [InlineData("--rpyc-worker 3 --control @c")]
    public void IsWorkerCommandLine_AnotherVersion_True_SoRunCanSayWhy(string commandLine)
    {
        Assert.True(ForkingWorker.IsWorkerCommandLine(commandLine.Split(' ')));
    }

    [Fact]
    public void Run_AServerOfAnotherWorkerProtocol_ExitsWithUsageCode()
    {
        // Its message is checked on the real worker process (ForkingWorkerProgramTests).
        string[] args = ForkingWorker.WorkerArguments.Format("@rpyc-test-no-server", typeof(RpycService), RpycConnectOptions.Default);
        args[1] = "1";

        Assert.Equal(2, ForkingWorker.Run<RpycService>(args));
        Assert.Equal(2, ForkingWorker.Run(args));
    }

    /// <summary>A service the worker under test was not compiled with.</summary>
    public sealed class OtherService : RpycService
    {
    }
}
