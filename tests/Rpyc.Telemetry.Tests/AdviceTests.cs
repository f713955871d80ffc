namespace Rpyc.Telemetry.Tests;

/// <summary>Detection of the costly patterns, each with a one-line advice.</summary>
[Collection(DotnetServerCollection.Name)]
public sealed class AdviceTests(DotnetServerFixture server, ITestOutputHelper output) : IDisposable
{
    private readonly RpycTelemetry _telemetry = new();
    private RpycConnection? _connection;

    private Netref Root => (_connection ??= RpycProfiler.CreateProfiledConnection("127.0.0.1", server.Port, _telemetry)).RootNetref;

    public void Dispose() => _connection?.Dispose();

    private IReadOnlyList<Advice> Advice()
    {
        IReadOnlyList<Advice> advice = _telemetry.GetAdvice();
        foreach (Advice item in advice)
        {
            output.WriteLine($"{item.Kind}: {item.Message}");
            Assert.DoesNotContain('\n', item.Message);
        }
        return advice;
    }

    [Fact]
    public void RemoteSequenceLoop_IndexingOneListItemByItem_AdvisesFetchByValue()
    {
        using var list = (Netref)Root.CallMethod("get_range", 4L)!;
        for (long i = 0; i < 4; i++)
        {
            Assert.Equal(i, list.GetItem(i));
        }
        Advice loop = Assert.Single(Advice(), a => a.Kind == AdviceKind.RemoteSequenceLoop);
        Assert.Equal(4, loop.Occurrences);
        Assert.Contains("4 round trips (__getitem__)", loop.Message, StringComparison.Ordinal);
        Assert.Contains("fetch the sequence by value", loop.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RemoteSequenceLoop_ShortLoop_BelowTheThreshold()
    {
        using var list = (Netref)Root.CallMethod("get_range", 1L)!;
        Assert.Single(list);
        // __iter__, then 2 x __next__ (one item and StopIteration): fewer than 3.
        Assert.DoesNotContain(Advice(), a => a.Kind == AdviceKind.RemoteSequenceLoop);
    }

    [Fact]
    public void RepeatedGetAttr_SameNameSameObject_AdvisesCaching()
    {
        for (int i = 0; i < 3; i++)
        {
            using var node = (Netref)Root.GetAttr("tree")!;
        }
        Advice repeated = Assert.Single(Advice(), a => a.Kind == AdviceKind.RepeatedGetAttr);
        Assert.Equal(3, repeated.Occurrences);
        Assert.Equal("TelemetryTestService.tree", repeated.Subject);
        Assert.Contains("3 getattr of 'tree'", repeated.Message, StringComparison.Ordinal);
        Assert.Contains("cache", repeated.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AttributeChain_FourGetAttrsEachOnThePreviousResult_AdvisesOneServerCall()
    {
        dynamic root = Root;
        long value = root.tree.child.child.value;
        Assert.Equal(1L, value);
        Advice chain = Assert.Single(Advice(), a => a.Kind == AdviceKind.AttributeChain);
        Assert.Equal("TelemetryTestService.tree.child.child.value", chain.Subject);
        Assert.Equal(4, chain.Occurrences);
        Assert.Contains("batch the call", chain.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AttributeChain_TwoGetAttrs_NotAChain()
    {
        using var tree = (Netref)Root.GetAttr("tree")!;
        Assert.Equal(3L, tree.GetAttr("value"));
        Assert.DoesNotContain(Advice(), a => a.Kind == AdviceKind.AttributeChain);
    }

    [Fact]
    public void AttributeChain_GetAttrsOnUnrelatedObjects_NotAChain()
    {
        using var a = (Netref)Root.CallMethod("get_node")!;
        using var b = (Netref)Root.CallMethod("get_node")!;
        using var c = (Netref)Root.CallMethod("get_node")!;
        Assert.Equal(3L, a.GetAttr("value"));
        Assert.Equal(3L, b.GetAttr("value"));
        Assert.Equal(3L, c.GetAttr("value"));
        Assert.DoesNotContain(Advice(), x => x.Kind == AdviceKind.AttributeChain);
    }

    [Fact]
    public void RepeatedCalls_TenCallsOfOneMethod_AdvisesBatching()
    {
        for (long i = 0; i < 10; i++)
        {
            Root.CallMethod("add", i, 1L);
        }
        for (long i = 0; i < 9; i++)
        {
            Root.CallMethod("echo", i);
        }
        Advice batch = Assert.Single(Advice(), a => a.Kind == AdviceKind.RepeatedCalls);
        Assert.Equal("TelemetryTestService.add", batch.Subject);
        Assert.Equal(10, batch.Occurrences);
        Assert.Contains("batch the call", batch.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnreleasedNetrefs_ProxiesKeptAlive_AdvisesDisposeButNeverForTheRoot()
    {
        var first = (Netref)Root.CallMethod("get_node")!;
        var second = (Netref)Root.CallMethod("get_node")!;
        Advice leak = Assert.Single(Advice(), a => a.Kind == AdviceKind.UnreleasedNetrefs);
        Assert.Equal(2, leak.Occurrences);
        Assert.Equal("Rpyc.Telemetry.Tests.Node", leak.Subject);
        Assert.StartsWith("2 netrefs of Rpyc.Telemetry.Tests.Node never released: dispose them", leak.Message, StringComparison.Ordinal);

        first.Dispose();
        second.Dispose();
        Assert.DoesNotContain(Advice(), a => a.Kind == AdviceKind.UnreleasedNetrefs);
    }

    [Fact]
    public void UnreleasedNetrefs_SeveralTypes_OneLine()
    {
        var node = (Netref)Root.CallMethod("get_node")!;
        var list = (Netref)Root.CallMethod("get_list")!;
        Advice leak = Assert.Single(Advice(), a => a.Kind == AdviceKind.UnreleasedNetrefs);
        Assert.Equal(2, leak.Occurrences);
        Assert.Matches(@"^2 netrefs \(1 \w+, 1 \w+\) never released: dispose them", leak.Message);
        GC.KeepAlive(node);
        GC.KeepAlive(list);
    }

    [Fact]
    public void NoPattern_PlainDistinctCalls_NoAdvice()
    {
        Root.CallMethod("ping");
        Root.CallMethod("add", 1L, 2L);
        Assert.Empty(Advice());
        Assert.Contains("(no costly patterns detected)", _telemetry.FormatAdviceReport(), StringComparison.Ordinal);
    }
}
