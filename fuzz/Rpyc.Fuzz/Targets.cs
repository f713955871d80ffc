using System.Buffers;
using System.Numerics;
using Rpyc.Channel;
using Rpyc.Transport;
using BrineCodec = Rpyc.Brine.Brine;

namespace Rpyc.Fuzz;

/// <summary>
/// The fuzz targets. Each takes one input and throws only on a bug: the documented
/// <see cref="RpycException"/> types are the expected answer to bad input and are caught here.
/// </summary>
internal static class Targets
{
    public static IReadOnlyDictionary<string, Action<byte[]>> All { get; } = new Dictionary<string, Action<byte[]>>(StringComparer.Ordinal)
    {
        ["brine"] = Brine,
        ["frame"] = Frame,
        ["dispatch"] = Dispatch,
    };

    // Small limits keep every execution short; the code paths are the same as with the defaults.
    // Built per call: instrumented code must not run before SharpFuzz maps the coverage memory.
    private static ChannelLimits Limits => new(MaxFrameLength: 1 << 20, MaxDecompressedLength: 1 << 20, MaxBrineDepth: 64);

    // Loads arbitrary bytes, whole and split in three segments (same answer required); a value that
    // loads must dump, load back identical and dump to the same bytes again.
    public static void Brine(byte[] input)
    {
        object? value;
        try
        {
            value = BrineCodec.Load(input);
        }
        catch (RpycProtocolException)
        {
            Expect.Throws<RpycProtocolException>(() => BrineCodec.Load(Segments.Split(input)), "the split input loaded although the whole one did not");
            return;
        }
        Expect.True(Same(value, BrineCodec.Load(Segments.Split(input))), "the split input loaded to a different value");
        byte[] dumped = BrineCodec.Dump(value);
        object? again = BrineCodec.Load(dumped);
        Expect.True(Same(value, again), $"Load(Dump(v)) differs from v = {PyValue.Repr(value)}");
        Expect.True(dumped.AsSpan().SequenceEqual(BrineCodec.Dump(again)), "dumping the reloaded value gave other bytes");
        // Not always equal: a NaN inside a frozenset equals only itself, as in Python.
        if (PyValue.Equal(value, again))
        {
            Expect.True(PyValue.Hash(value) == PyValue.Hash(again), "equal values hash differently");
        }
        _ = PyValue.Repr(value);
    }

    // Takes frames off arbitrary bytes, split in segments, until one is incomplete.
    public static void Frame(byte[] input)
    {
        ReadOnlySequence<byte> buffer = Segments.Split(input);
        ChannelLimits limits = Limits;
        try
        {
            for (int frames = 0; frames <= input.Length; frames++)
            {
                long before = buffer.Length;
                if (!FrameReader.TryReadFrame(ref buffer, limits, out ReadOnlySequence<byte> payload))
                {
                    Expect.True(buffer.Length == before, "a false TryReadFrame consumed bytes");
                    return;
                }
                Expect.True(buffer.Length < before, "a frame was read without consuming bytes");
                Expect.True(payload.Length <= limits.MaxDecompressedLength, "a payload is over the limit");
            }
            throw new InvalidOperationException("more frames than input bytes");
        }
        catch (RpycProtocolException)
        {
        }
    }

    // One fuzzed payload, framed, to a server connection over the in-memory transport; the server
    // serves it and is closed. The peer end never answers, so a handler that calls back times out.
    public static void Dispatch(byte[] input)
    {
        (MemoryTransport serverEnd, MemoryTransport peerEnd) = MemoryTransport.CreatePair();
        ChannelLimits limits = Limits;
        var options = new RpycConnectOptions
        {
            SyncRequestTimeout = TimeSpan.FromMilliseconds(20),
            MaxFrameLength = limits.MaxFrameLength,
            MaxDecompressedLength = limits.MaxDecompressedLength,
            MaxBrineDepth = limits.MaxBrineDepth,
        };
        var server = new RpycConnection(serverEnd, options, new FuzzService(), version: null);
        try
        {
            peerEnd.Send(FrameWriter.Encode(input, compressionThreshold: int.MaxValue));
            server.Serve(TimeSpan.FromSeconds(1));
        }
        catch (RpycException)
        {
        }
        finally
        {
            server.Dispose();
            peerEnd.Dispose();
        }
    }

    // Identical brine values: same types, floats by bits, frozensets in order (a reload keeps it).
    private static bool Same(object? a, object? b)
    {
        if (a is null || b is null)
        {
            return a is null && b is null;
        }
        if (a.GetType() != b.GetType())
        {
            return false;
        }
        switch (a)
        {
            case double d:
                return BitConverter.DoubleToInt64Bits(d) == BitConverter.DoubleToInt64Bits((double)b);
            case Complex c:
                var other = (Complex)b;
                return BitConverter.DoubleToInt64Bits(c.Real) == BitConverter.DoubleToInt64Bits(other.Real)
                    && BitConverter.DoubleToInt64Bits(c.Imaginary) == BitConverter.DoubleToInt64Bits(other.Imaginary);
            case byte[] bytes:
                return bytes.AsSpan().SequenceEqual((byte[])b);
            case PyTuple t:
                return SameItems(t, (PyTuple)b);
            case PyFrozenSet s:
                return SameItems(s, (PyFrozenSet)b);
            case PySlice s:
                var slice = (PySlice)b;
                return Same(s.Start, slice.Start) && Same(s.Stop, slice.Stop) && Same(s.Step, slice.Step);
            default:
                return a.Equals(b);
        }
    }

    private static bool SameItems(IReadOnlyCollection<object?> a, IReadOnlyCollection<object?> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }
        using IEnumerator<object?> other = b.GetEnumerator();
        foreach (object? item in a)
        {
            other.MoveNext();
            if (!Same(item, other.Current))
            {
                return false;
            }
        }
        return true;
    }
}

/// <summary>A service with the usual shapes of exposed members, for the dispatch target.</summary>
public sealed class FuzzService : RpycService
{
    /// <summary>Returns its argument.</summary>
    [Exposed] public object? Echo(object? value) => value;

    /// <summary>Adds two ints.</summary>
    [Exposed] public long Add(long a, long b = 10) => a + b;

    /// <summary>Always raises.</summary>
    [Exposed] public void Fail(string message) => throw new ArgumentException(message);

    /// <summary>A list, passed by reference.</summary>
    [Exposed] public List<object?> GetList() => [1L, "two", new byte[] { 3 }];
}

internal static class Expect
{
    public static void True(bool condition, string message)
    {
        if (!condition)
        {
            throw new InvalidOperationException("Fuzz invariant broken: " + message);
        }
    }

    public static void Throws<T>(Action action, string message)
        where T : Exception
    {
        try
        {
            action();
        }
        catch (T)
        {
            return;
        }
        throw new InvalidOperationException("Fuzz invariant broken: " + message);
    }
}

/// <summary>Cuts an input into a multi-segment sequence at points taken from its own bytes.</summary>
internal sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Split(byte[] input)
    {
        if (input.Length < 3)
        {
            return new ReadOnlySequence<byte>(input);
        }
        int first = input[0] % input.Length;
        int second = first + ((input[^1] % (input.Length - first)) / 2);
        var head = new Segments(input.AsMemory(0, first), 0);
        var middle = new Segments(input.AsMemory(first, second - first), first);
        var tail = new Segments(input.AsMemory(second), second);
        head.Next = middle;
        middle.Next = tail;
        return new ReadOnlySequence<byte>(head, 0, tail, tail.Memory.Length);
    }
}
