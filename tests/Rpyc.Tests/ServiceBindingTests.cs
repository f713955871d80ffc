namespace Rpyc.Tests;

// How a call's wire values reach a service's .NET parameters: overload choice, narrowing
// conversions that must not lose or invent values, and Python's attribute and error rules.
public sealed class ServiceBindingTests
{
    public static TheoryData<RpycProtocolVersion> Versions => new() { RpycProtocolVersion.V5, RpycProtocolVersion.V6 };

    [Theory, MemberData(nameof(Versions))]
    public void ExposedNext_ObjectHasNoSpecialNext_ExposedMethodAnswers(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new BindingService(), version);
        Netref root = pair.Client.RootNetref;
        Assert.Equal(42L, root.CallMethod("next"));
        using var next = (Netref)root.GetAttr("next")!;
        Assert.Equal(42L, next.Call());
        // Special methods the object has still win over an exposed name (protocol.py _check_attr).
        Assert.NotEqual("exposed", root.CallMethod("__str__"));
    }

    [Theory, MemberData(nameof(Versions))]
    public void KeyError_MissingKey_ArgsHoldTheKeyItself(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new BindingService(), version);
        using var strings = (Netref)pair.Client.RootNetref.CallMethod("get_dict")!;
        var ex = Assert.Throws<RpycRemoteException>(() => strings.GetItem("zz"));
        Assert.Equal("builtins.KeyError", ex.RemoteTypeName);
        Assert.Equal(new PyTuple("zz"), ex.RemoteArgs);
        using var numbers = (Netref)pair.Client.RootNetref.CallMethod("get_numbers")!;
        Assert.Equal(new PyTuple(5L), Assert.Throws<RpycRemoteException>(() => numbers.GetItem(5L)).RemoteArgs);
    }

    private sealed class BindingService : RpycService
    {
        [Exposed("__str__")] public static string ExposedStr() => "exposed";

        [Exposed] public static long Next() => 42;

        [Exposed] public static Dictionary<string, long> GetDict() => new() { ["a"] = 1 };

        [Exposed] public static Dictionary<long, long> GetNumbers() => new() { [1] = 1 };
    }
}
