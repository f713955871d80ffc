using System.Globalization;

namespace Rpyc.Tests;

// How a call's wire values reach a service's .NET parameters: overload choice, narrowing
// conversions that must not lose or invent values, and Python's attribute and error rules.
public sealed class ServiceBindingTests
{
    public static TheoryData<RpycProtocolVersion> Versions => new() { RpycProtocolVersion.V5, RpycProtocolVersion.V6 };

    [Theory, MemberData(nameof(Versions))]
    public void Overload_PythonInt_PrefersExactLongOverEarlierDouble(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new BindingService(), version);
        Netref root = pair.Client.RootNetref;
        Assert.Equal("long:9007199254740993", root.CallMethod("ov", 9007199254740993L));
        Assert.Equal("double:0.5", root.CallMethod("ov", 0.5));
        Assert.Equal("str:x", root.CallMethod("loose", "x"));
        Assert.Equal("long:3", root.CallMethod("loose", 3L));
        // Keyword arguments rank as positional ones do.
        Assert.Equal("long:7", root.CallMethod("ov", [], [new KeyValuePair<string, object?>("x", 7L)]));
    }

    [Theory, MemberData(nameof(Versions))]
    public void Overload_EqualMatches_FirstDeclaredWins(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new BindingService(), version);
        // An int needs a conversion to both int and double: the declaration order decides.
        Assert.Equal("int:5", pair.Client.RootNetref.CallMethod("tie", 5L));
    }

    [Theory, MemberData(nameof(Versions))]
    public void SingleParameter_FiniteBeyondFloatRange_RaisesTypeError(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new BindingService(), version);
        Netref root = pair.Client.RootNetref;
        Assert.Equal("1.5", root.CallMethod("single", 1.5));
        Assert.Equal(float.PositiveInfinity.ToString("R", CultureInfo.InvariantCulture), root.CallMethod("single", double.PositiveInfinity));
        Assert.Equal("builtins.TypeError", Assert.Throws<RpycRemoteException>(() => root.CallMethod("single", 1e300)).RemoteTypeName);
        Assert.Equal("builtins.TypeError", Assert.Throws<RpycRemoteException>(() => root.CallMethod("single", System.Numerics.BigInteger.Pow(2, 200))).RemoteTypeName);
    }

    [Theory, MemberData(nameof(Versions))]
    public void DecimalParameter_FloatDigitsFit_BindsShortestRoundTrip(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new BindingService(), version);
        Netref root = pair.Client.RootNetref;
        Assert.Equal("0.30000000000000004", root.CallMethod("dec", 0.1 + 0.2));
        Assert.Equal("0.1", root.CallMethod("dec", 0.1));
        Assert.Equal("10000000000000000000000000000", root.CallMethod("dec", 1e28));
        Assert.Equal("12", root.CallMethod("dec", 12L));
        // An exact double overload is preferred to the conversion.
        Assert.Equal("double", root.CallMethod("dec_or_double", 0.1));
    }

    [Theory, MemberData(nameof(Versions))]
    public void DecimalParameter_FloatDecimalCannotHold_NextOverloadOrTypeError(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new BindingService(), version);
        Netref root = pair.Client.RootNetref;
        Assert.Equal("decimal:0.5", root.CallMethod("dec_or_float", 0.5));
        Assert.Equal("float:NaN", root.CallMethod("dec_or_float", double.NaN));
        Assert.Equal("float:1E-30", root.CallMethod("dec_or_float", 1e-30));
        foreach (double value in new[] { double.NaN, double.NegativeInfinity, 1e29, 1e-30 })
        {
            var ex = Assert.Throws<RpycRemoteException>(() => root.CallMethod("dec", value));
            Assert.Equal("builtins.TypeError", ex.RemoteTypeName);
        }
    }

    [Theory, MemberData(nameof(Versions))]
    public void EnumParameter_BeyondUnderlyingType_RaisesTypeError(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new BindingService(), version);
        Netref root = pair.Client.RootNetref;
        Assert.Equal("B/2", root.CallMethod("en", 2L));
        Assert.Equal("builtins.TypeError", Assert.Throws<RpycRemoteException>(() => root.CallMethod("en", 257L)).RemoteTypeName);
    }

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
    public void ReprCalledAsMethod_AnswersAsTheReprRequest(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new BindingService(), version);
        Netref root = pair.Client.RootNetref;
        string expected = $"<{typeof(BindingService).FullName} object>";
        Assert.Equal(expected, root.Repr());
        Assert.Equal(expected, root.CallMethod("__repr__"));
        using var strings = (Netref)root.CallMethod("get_dict")!;
        Assert.Equal(strings.Repr(), strings.CallMethod("__repr__"));
        Assert.Equal(strings.Str(), strings.CallMethod("__str__"));
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

    // A connection keeps the methods its last CALLATTR resolved to (CallSiteCache): calls that
    // alternate between types with a method of the same name must each reach their own type's.
    [Theory, MemberData(nameof(Versions))]
    public void SameNameOnDifferentTypes_Alternating_EachReachesItsOwn(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new BindingService(), version);
        Netref root = pair.Client.RootNetref;
        using var other = (Netref)root.CallMethod("get_other")!;
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal("service", root.CallMethod("whoami"));
            Assert.Equal("service", root.CallMethod("whoami"));
            Assert.Equal("other", other.CallMethod("whoami"));
            Assert.Equal("other", other.CallMethod("whoami"));
        }
        Assert.Equal("long:3", root.CallMethod("ov", 3L));
        Assert.Equal("double:2.5", root.CallMethod("ov", 2.5));
    }

    public sealed class OtherType
    {
        [Exposed] public static string Whoami() => "other";
    }

    public enum SmallEnum : byte
    {
        A = 1,
        B = 2,
    }

    private sealed class BindingService : RpycService
    {
        [Exposed] public static string Ov(double x) => "double:" + x.ToString("R", CultureInfo.InvariantCulture);

        [Exposed] public static string Ov(long x) => "long:" + x;

        [Exposed] public static string Loose(object x) => "object:" + x;

        [Exposed] public static string Loose(string x) => "str:" + x;

        [Exposed] public static string Loose(long x) => "long:" + x;

        [Exposed] public static string Tie(int x) => "int:" + x;

        [Exposed] public static string Tie(double x) => "double:" + x;

        [Exposed] public static string Single(float x) => x.ToString("R", CultureInfo.InvariantCulture);

        [Exposed] public static string Dec(decimal d) => d.ToString(CultureInfo.InvariantCulture);

        [Exposed] public static string DecOrDouble(decimal d) => d.ToString(CultureInfo.InvariantCulture);

        [Exposed] public static string DecOrDouble(double d) => "double";

        // Both need a conversion from a float: declaration order puts decimal first.
        [Exposed] public static string DecOrFloat(decimal d) => "decimal:" + d.ToString(CultureInfo.InvariantCulture);

        [Exposed] public static string DecOrFloat(float f) => "float:" + f.ToString("R", CultureInfo.InvariantCulture);

        [Exposed("__str__")] public static string ExposedStr() => "exposed";

        [Exposed] public static string En(SmallEnum e) => e + "/" + (byte)e;

        [Exposed] public static long Next() => 42;

        [Exposed] public static Dictionary<string, long> GetDict() => new() { ["a"] = 1 };

        [Exposed] public static Dictionary<long, long> GetNumbers() => new() { [1] = 1 };

        [Exposed] public static string Whoami() => "service";

        [Exposed] public static OtherType GetOther() => new();
    }
}
