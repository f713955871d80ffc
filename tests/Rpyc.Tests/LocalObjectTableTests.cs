using Rpyc.Netrefs;
using Rpyc.Protocol;

namespace Rpyc.Tests;

/// <summary>
/// The table finds an object by its instance id, which it hands out once each, but answers only
/// the whole id pack it gave: a peer naming the right instance with another name or class gets
/// nothing, as Python's table keyed by the whole pack answers.
/// </summary>
public class LocalObjectTableTests
{
    [Fact]
    public void Get_TheIdPackGiven_ReturnsTheObject()
    {
        var table = new LocalObjectTable();
        object first = new();
        object second = new();

        IdPack firstId = table.Add(first, out bool exported);
        IdPack secondId = table.Add(second, out _);

        Assert.True(exported);
        Assert.NotEqual(firstId.InstanceId, secondId.InstanceId);
        Assert.Same(first, table.Get(firstId));
        Assert.Same(second, table.Get(secondId));
    }

    [Fact]
    public void Get_RightInstanceOtherNameOrClass_NotFound()
    {
        var table = new LocalObjectTable();
        IdPack id = table.Add(new object(), out _);

        Assert.Throws<KeyNotFoundException>(() => table.Get(id with { NamePack = "builtins.other" }));
        Assert.Throws<KeyNotFoundException>(() => table.Get(id with { ClassId = id.ClassId + 1 }));
        Assert.Throws<KeyNotFoundException>(() => table.Get(id with { InstanceId = id.InstanceId + 1 }));
    }

    [Fact]
    public void Release_EveryReference_ThenNotFound()
    {
        var table = new LocalObjectTable();
        object value = new();
        IdPack id = table.Add(value, out _);
        Assert.Equal(id, table.Add(value, out bool exportedAgain));
        Assert.False(exportedAgain);

        Assert.Null(table.Release(value, 1));
        Assert.Same(value, table.Get(id));
        Assert.Equal(id, table.Release(value, 1));
        Assert.Throws<KeyNotFoundException>(() => table.Get(id));
        Assert.Equal(0, table.Count);
    }

    [Fact]
    public void Removals_CountOnlyObjectsLeavingTheTable()
    {
        var table = new LocalObjectTable();
        object value = new();
        table.Add(value, out _);
        table.Add(value, out _);
        long before = table.Removals;

        table.Add(new object(), out _);
        table.Release(value, 1);
        Assert.Equal(before, table.Removals);
        table.Release(value, 1);
        Assert.Equal(before + 1, table.Removals);
        table.Clear();
        Assert.Equal(before + 2, table.Removals);
    }
}
