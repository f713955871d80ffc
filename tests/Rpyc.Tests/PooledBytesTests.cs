using System.Buffers;
using Rpyc.Brine;
using Rpyc.Transport;

namespace Rpyc.Tests;

// Large bytes values lent from the pool: replies when the client asks (PooledBytesThreshold), call
// arguments always, invisible to receivers that did not ask for a lease.
public sealed class PooledBytesTests
{
    private const int Large = RpycConnection.RequestLendThreshold + 1234;

    public static TheoryData<RpycProtocolVersion> Versions => new() { RpycProtocolVersion.V5, RpycProtocolVersion.V6 };

    private static byte[] Pattern(int length, int seed)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Theory, MemberData(nameof(Versions))]
    public void Reply_OverThreshold_ArrivesLentAndDisposable(RpycProtocolVersion version)
    {
        using var pair = new LendingPair(new BytesService(), version, clientThreshold: 1000);
        Netref root = pair.Client.RootNetref;
        var lease = Assert.IsType<PooledBytes>(root.CallMethod("make", 5000L, 7L));
        Assert.Equal(Pattern(5000, 7), lease.ToArray());
        Assert.Equal(5000, lease.Memory.Length);
        lease.Dispose();
        Assert.True(lease.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => lease.Span.Length);
        lease.Dispose();
        // Under the threshold, and always under 256 bytes (TAG_STR_L1): arrays as before.
        Assert.Equal(Pattern(999, 1), Assert.IsType<byte[]>(root.CallMethod("make", 999L, 1L)));
        Assert.Equal(Pattern(200, 2), Assert.IsType<byte[]>(root.CallMethod("make", 200L, 2L)));
    }

    [Theory, MemberData(nameof(Versions))]
    public void Reply_NoThreshold_ArrivesAsByteArray(RpycProtocolVersion version)
    {
        using var pair = new LendingPair(new BytesService(), version, clientThreshold: 0);
        Assert.Equal(Pattern(Large, 3), Assert.IsType<byte[]>(pair.Client.RootNetref.CallMethod("make", (long)Large, 3L)));
    }

    [Theory, MemberData(nameof(Versions))]
    public void Reply_NestedInTuple_EachLargeItemLent(RpycProtocolVersion version)
    {
        using var pair = new LendingPair(new BytesService(), version, clientThreshold: 1000);
        var tuple = Assert.IsType<PyTuple>(pair.Client.RootNetref.CallMethod("pair", 3000L));
        using var first = Assert.IsType<PooledBytes>(tuple[0]);
        Assert.Equal(Pattern(3000, 0), first.ToArray());
        Assert.Equal(Pattern(10, 1), Assert.IsType<byte[]>(tuple[1]));
    }

    [Theory, MemberData(nameof(Versions))]
    public void Lease_SentBack_TravelsAsBytes(RpycProtocolVersion version)
    {
        using var pair = new LendingPair(new BytesService(), version, clientThreshold: 1000);
        Netref root = pair.Client.RootNetref;
        using var lease = Assert.IsType<PooledBytes>(root.CallMethod("make", (long)Large, 4L));
        Assert.Equal(Checksum(Pattern(Large, 4)), root.CallMethod("checksum_memory", lease));
        using var echoed = Assert.IsType<PooledBytes>(root.CallMethod("echo", lease));
        Assert.Equal(lease.ToArray(), echoed.ToArray());
    }

    [Theory, MemberData(nameof(Versions))]
    public void Argument_Large_BindsToEveryParameterType(RpycProtocolVersion version)
    {
        var service = new BytesService();
        using var pair = new LendingPair(service, version, clientThreshold: 0);
        Netref root = pair.Client.RootNetref;
        byte[] data = Pattern(Large, 5);
        long sum = Checksum(data);
        Assert.Equal(sum, root.CallMethod("checksum_memory", data));
        Assert.Equal(sum, root.CallMethod("checksum_array", data));
        Assert.Equal(sum, root.CallMethod("checksum_object", data));
        Assert.Equal(sum, root.CallMethod("checksum_segment", data));
        Assert.Equal(sum, root.CallMethod("checksum_nested", new PyTuple(data, 1L)));
        // Every receiver that did not ask for a lease got a byte[] it may keep.
        Assert.All(service.Seen, t => Assert.Equal(typeof(byte[]), t));
        // Small arguments bind to the lending types too.
        Assert.Equal(Checksum([1, 2, 3]), root.CallMethod("checksum_memory", new byte[] { 1, 2, 3 }));
        Assert.Equal(Checksum([1, 2, 3]), root.CallMethod("keep", new byte[] { 1, 2, 3 }));
    }

    [Theory, MemberData(nameof(Versions))]
    public void Argument_TakenAsPooledBytes_StaysValidAfterTheCall(RpycProtocolVersion version)
    {
        var service = new BytesService();
        using var pair = new LendingPair(service, version, clientThreshold: 0);
        Netref root = pair.Client.RootNetref;
        byte[] first = Pattern(Large, 6);
        Assert.Equal(Checksum(first), root.CallMethod("keep", first));
        // More large requests reuse the pool; the kept lease must not be among what they reuse.
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(Checksum(Pattern(Large, 60 + i)), root.CallMethod("checksum_memory", Pattern(Large, 60 + i)));
        }
        PooledBytes kept = Assert.Single(service.Kept);
        Assert.False(kept.IsDisposed);
        Assert.Equal(first, kept.ToArray());
        kept.Dispose();
    }

    [Theory, MemberData(nameof(Versions))]
    public void Argument_LargeInFrozenSetOrSlice_KeptByService_StaysValid(RpycProtocolVersion version)
    {
        var service = new BytesService();
        using var pair = new LendingPair(service, version, clientThreshold: 0);
        Netref root = pair.Client.RootNetref;
        byte[] inSet = Pattern(Large, 20);
        byte[] inSlice = Pattern(Large, 21);
        root.CallMethod("store", new PyFrozenSet(inSet, 1L));
        root.CallMethod("store", new PySlice(1L, new PyTuple(inSlice), null));
        // More large requests reuse the pool: a lease left in what the service kept would be reused.
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(Checksum(Pattern(Large, 70 + i)), root.CallMethod("checksum_memory", Pattern(Large, 70 + i)));
        }
        var set = Assert.IsType<PyFrozenSet>(service.StoredValues[0]);
        Assert.IsType<byte[]>(set.First(item => item is not long));
        Assert.True(set.Contains(inSet));
        // Sending the kept values back must work: a disposed lease in them closed the connection.
        var setBack = Assert.IsType<PyFrozenSet>(root.CallMethod("stored", 0L));
        Assert.True(setBack.Contains(inSet));
        var sliceBack = Assert.IsType<PySlice>(root.CallMethod("stored", 1L));
        Assert.Equal(new PySlice(1L, new PyTuple(inSlice), null), sliceBack);
    }

    [Theory, MemberData(nameof(Versions))]
    public void Reply_DisposedLease_PeerGetsErrorConnectionStaysUsable(RpycProtocolVersion version)
    {
        using var pair = new LendingPair(new BytesService(), version, clientThreshold: 0);
        Netref root = pair.Client.RootNetref;
        var ex = Assert.Throws<RpycRemoteException>(() => root.CallMethod("return_disposed", Pattern(Large, 22)));
        Assert.Contains("disposed", (string)ex.RemoteArgs[0]!, StringComparison.Ordinal);
        Assert.Equal(Checksum([1, 2]), root.CallMethod("checksum_memory", new byte[] { 1, 2 }));
    }

    [Fact]
    public void Reader_WithLender_LendsOnlyFromThreshold_AcrossSegments()
    {
        byte[] big = Pattern(5000, 8);
        byte[] encoded = Brine.Brine.Dump(new PyTuple(big, Pattern(300, 9), new byte[] { 1 }));
        var lender = new BytesLender { Threshold = 1000 };
        foreach (ReadOnlySequence<byte> input in new[] { new ReadOnlySequence<byte>(encoded), SequenceBuilder.Split(encoded, encoded.Length / 2), SequenceBuilder.OneBytePerSegment(encoded) })
        {
            var reader = new BrineReader(input, BrineLimits.Default, lender);
            var value = Assert.IsType<PyTuple>(reader.Read());
            List<PooledBytes> leases = Assert.IsType<List<PooledBytes>>(lender.Take());
            PooledBytes lease = Assert.Single(leases);
            Assert.Same(lease, value[0]);
            Assert.Equal(big, lease.ToArray());
            Assert.IsType<byte[]>(value[1]);
            BytesLender.Release(leases);
            Assert.True(lease.IsDisposed);
            Assert.Null(lender.Take());
        }
    }

    [Fact]
    public void Settle_ReplacesLeasesAtAnyDepth_KeepsOtherValues()
    {
        byte[] exact = Pattern(4096, 10);
        var lease = PooledBytes.CopyOf(new ReadOnlySequence<byte>(exact));
        var odd = PooledBytes.CopyOf(new ReadOnlySequence<byte>(Pattern(3000, 11)));
        var value = new PyTuple(1L, new PyTuple(lease, "s"), odd);
        var settled = Assert.IsType<PyTuple>(BytesLender.Settle(value));
        Assert.Equal(new PyTuple(1L, new PyTuple(exact, "s"), Pattern(3000, 11)), settled);
        var plain = new PyTuple(1L, new PyTuple("x"));
        Assert.Same(plain, BytesLender.Settle(plain));
        // Frozensets and slices hold bytes too, and tuples inside them.
        var inSet = PooledBytes.CopyOf(new ReadOnlySequence<byte>(Pattern(3000, 12)));
        var inSlice = PooledBytes.CopyOf(new ReadOnlySequence<byte>(Pattern(3000, 13)));
        var containers = new PyTuple(new PyFrozenSet(inSet, 2L), new PySlice(null, new PyTuple(inSlice), 1L));
        var settledContainers = Assert.IsType<PyTuple>(BytesLender.Settle(containers));
        Assert.Equal(new PyTuple(new PyFrozenSet(Pattern(3000, 12), 2L), new PySlice(null, new PyTuple(Pattern(3000, 13)), 1L)), settledContainers);
        Assert.DoesNotContain(((PyFrozenSet)settledContainers[0]!).AsEnumerable(), item => item is PooledBytes);
        var slice = new PySlice(1L, null, "s");
        Assert.Same(slice, BytesLender.Settle(slice));
        inSet.Dispose();
        inSlice.Dispose();
        // Top-level arguments keep their leases for the binder; nested ones are settled.
        PyTuple nested = BytesLender.SettleNested(value);
        Assert.Same(odd, nested[2]);
        Assert.IsType<byte[]>(((PyTuple)nested[1]!)[0]);
        // An array detached from the pool is not given back to it.
        lease.Dispose();
        Assert.Equal(exact, (byte[])((PyTuple)settled[1]!)[0]!);
        odd.Dispose();
    }

    private static long Checksum(ReadOnlySpan<byte> data)
    {
        long sum = data.Length;
        for (int i = 0; i < data.Length; i++)
        {
            sum = (sum * 31) + data[i];
        }
        return sum;
    }

    private sealed class BytesService : RpycService
    {
        public List<Type> Seen { get; } = [];

        public List<PooledBytes> Kept { get; } = [];

        [Exposed] public static byte[] Make(long n, long seed) => Pattern((int)n, (int)seed);

        [Exposed] public static PyTuple Pair(long n) => new(Pattern((int)n, 0), Pattern(10, 1));

        [Exposed] public static object? Echo(object? value) => value;

        [Exposed] public static long ChecksumMemory(ReadOnlyMemory<byte> data) => Checksum(data.Span);

        [Exposed]
        public long ChecksumArray(byte[] data)
        {
            Seen.Add(data.GetType());
            return Checksum(data);
        }

        [Exposed]
        public long ChecksumObject(object data)
        {
            Seen.Add(data.GetType());
            return Checksum((byte[])data);
        }

        [Exposed] public static long ChecksumSegment(ArraySegment<byte> data) => Checksum(data);

        [Exposed]
        public long ChecksumNested(PyTuple items)
        {
            Seen.Add(items[0]!.GetType());
            return Checksum((byte[])items[0]!);
        }

        public List<object?> StoredValues { get; } = [];

        [Exposed] public void Store(object? value) => StoredValues.Add(value);

        [Exposed] public object? Stored(long index) => StoredValues[(int)index];

        [Exposed]
        public static PooledBytes ReturnDisposed(PooledBytes data)
        {
            data.Dispose();
            return data;
        }

        [Exposed]
        public long Keep(PooledBytes data)
        {
            Kept.Add(data);
            return Checksum(data.Span);
        }
    }

    // ConnectionPair with a client that lends replies from a threshold.
    private sealed class LendingPair : IDisposable
    {
        private readonly Thread _serverThread;

        public LendingPair(RpycService service, RpycProtocolVersion version, int clientThreshold)
        {
            (MemoryTransport a, MemoryTransport b) = MemoryTransport.CreatePair();
            Server = new RpycConnection(a, RpycConnectOptions.Default, service, version: null);
            Client = new RpycConnection(b, new RpycConnectOptions { ProtocolVersion = version, SyncRequestTimeout = TimeSpan.FromSeconds(10), PooledBytesThreshold = clientThreshold }, null, version);
            _serverThread = new Thread(() =>
            {
                try
                {
                    Server.ServeAll();
                }
                catch (RpycException)
                {
                }
            })
            { IsBackground = true };
            _serverThread.Start();
        }

        public RpycConnection Server { get; }

        public RpycConnection Client { get; }

        public void Dispose()
        {
            Client.Dispose();
            Server.Dispose();
            _serverThread.Join(TimeSpan.FromSeconds(5));
        }
    }
}
