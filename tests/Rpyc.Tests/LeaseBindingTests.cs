using System.Buffers;
using System.Reflection;
using Rpyc.Services;

namespace Rpyc.Tests;

/// <summary>
/// A lent bytes argument that one overload took and then failed to bind on a later parameter
/// goes back to the connection (and so to the pool), instead of staying taken by a call that
/// never ran.
/// </summary>
public sealed class LeaseBindingTests
{
    private const long TooLargeForInt = 1L << 40;

    [Fact]
    public void OverloadTookTheLeaseThenFailed_NextOverloadBorrows_LeaseNotHandedOff()
    {
        // 5000 bytes: the pool's array is larger, so only a hand-off could keep it from the pool.
        using PooledBytes lease = PooledBytes.CopyOf(new ReadOnlySequence<byte>(new byte[5000]));

        object? result = ValueBinder.Invoke(Plans(nameof(Overloads.Take)), new Overloads(), new PyTuple(lease, TooLargeForInt), PyTuple.Empty, "take");

        Assert.Equal("memory:5000", result);
        Assert.False(lease.HandedOff);
    }

    [Fact]
    public void OverloadTookTheArrayThenFailed_NextOverloadBorrows_ArrayStillReturnsToThePool()
    {
        // 4096 bytes: the pool's array has exactly that size, so byte[] binding takes it out of the pool.
        using PooledBytes lease = PooledBytes.CopyOf(new ReadOnlySequence<byte>(new byte[4096]));

        object? result = ValueBinder.Invoke(Plans(nameof(Overloads.Array)), new Overloads(), new PyTuple(lease, TooLargeForInt), PyTuple.Empty, "array");

        Assert.Equal("memory:4096", result);
        Assert.True(lease.ReturnsToPool);
    }

    [Fact]
    public void OverloadTakesTheArray_ArrayLeavesThePool()
    {
        using PooledBytes lease = PooledBytes.CopyOf(new ReadOnlySequence<byte>(new byte[4096]));

        object? result = ValueBinder.Invoke(Plans(nameof(Overloads.Array)), new Overloads(), new PyTuple(lease, 7L), PyTuple.Empty, "array");

        Assert.Equal("array:4096", result);
        Assert.False(lease.ReturnsToPool);
    }

    // Declaration order breaks the tie (an int converted either way), so the first overload is tried first.
    private static MethodPlan[] Plans(string name) =>
        typeof(Overloads).GetMethods(BindingFlags.Public | BindingFlags.Instance).Where(m => m.Name == name).OrderBy(m => m.GetParameters()[1].ParameterType == typeof(double)).Select(MethodPlan.For).ToArray();

    private sealed class Overloads
    {
        public string Take(PooledBytes data, int n) => "lease:" + data.Length + n;

        public string Take(ReadOnlyMemory<byte> data, double n) => "memory:" + data.Length;

        public string Array(byte[] data, int n) => "array:" + data.Length;

        public string Array(ReadOnlyMemory<byte> data, double n) => "memory:" + data.Length;
    }
}
