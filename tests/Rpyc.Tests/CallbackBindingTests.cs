namespace Rpyc.Tests;

// A peer's callable bound to a delegate parameter: the factory is compiled once per delegate type,
// so each bound delegate must still call its own netref.
public sealed class CallbackBindingTests
{
    public static TheoryData<RpycProtocolVersion> Versions => new() { RpycProtocolVersion.V5, RpycProtocolVersion.V6 };

    [Theory, MemberData(nameof(Versions))]
    public void Bind_TwoCallablesOfOneDelegateType_EachCallsItsOwnTarget(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new CallbackService(), version);
        Netref root = pair.Client.RootNetref;
        Func<long, long> times10 = x => x * 10;
        Func<long, long> plus1 = x => x + 1;
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(10L * i, root.CallMethod("apply", times10, (long)i));
            Assert.Equal(i + 1L, root.CallMethod("apply", plus1, (long)i));
        }
        Assert.Equal(new PyTuple(0L, 3L, 6L), root.CallMethod("map", (Func<long, object?>)(x => 3 * x), 3L));
    }

    [Theory, MemberData(nameof(Versions))]
    public void Bind_ActionAndWrongResultType_CallsAndReportsTheMismatch(RpycProtocolVersion version)
    {
        using var pair = new ConnectionPair(new CallbackService(), version);
        Netref root = pair.Client.RootNetref;
        var seen = new List<long>();
        Assert.Equal(3L, root.CallMethod("each", (Action<long>)seen.Add, 3L));
        Assert.Equal([0L, 1L, 2L], seen);
        // The callable returns a str where the service asked for a long: the service's call fails
        // with the conversion error, which comes back to us as a remote exception.
        RpycRemoteException error = Assert.Throws<RpycRemoteException>(() => root.CallMethod("apply", (Func<long, string>)(x => "no"), 1L));
        Assert.Contains("not a Int64", error.Message, StringComparison.Ordinal);
    }

    private sealed class CallbackService : RpycService
    {
        [Exposed] public static long Apply(Func<long, long> fn, long x) => fn(x);

        [Exposed]
        public static PyTuple Map(Func<long, object?> fn, long n)
        {
            var items = new object?[n];
            for (int i = 0; i < n; i++)
            {
                items[i] = fn(i);
            }
            return PyTuple.Wrap(items);
        }

        [Exposed]
        public static long Each(Action<long> fn, long n)
        {
            for (long i = 0; i < n; i++)
            {
                fn(i);
            }
            return n;
        }
    }
}
