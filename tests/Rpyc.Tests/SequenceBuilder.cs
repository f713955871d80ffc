using System.Buffers;

namespace Rpyc.Tests;

/// <summary>One segment of a hand-built <see cref="ReadOnlySequence{T}"/>.</summary>
internal sealed class BufferSegment : ReadOnlySequenceSegment<byte>
{
    public BufferSegment(ReadOnlyMemory<byte> memory) => Memory = memory;

    public BufferSegment Append(ReadOnlyMemory<byte> memory)
    {
        var next = new BufferSegment(memory) { RunningIndex = RunningIndex + Memory.Length };
        Next = next;
        return next;
    }
}

/// <summary>
/// Fragmented inputs for reader tests: whole, split in two at every position, and one byte per
/// segment. Every segment gets its own array, so a reader cannot run past a segment's end unnoticed.
/// </summary>
internal static class SequenceBuilder
{
    public static ReadOnlySequence<byte> FromSegments(params byte[][] segments)
    {
        if (segments.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }
        var first = new BufferSegment(segments[0]);
        BufferSegment last = first;
        for (int i = 1; i < segments.Length; i++)
        {
            last = last.Append(segments[i]);
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Two segments, <c>data[..at]</c> and <c>data[at..]</c> (either may be empty).</summary>
    public static ReadOnlySequence<byte> Split(byte[] data, int at) => FromSegments(data[..at], data[at..]);

    public static ReadOnlySequence<byte> OneBytePerSegment(byte[] data) =>
        FromSegments(data.Select(b => new[] { b }).ToArray());

    /// <summary>Every shape the STYLE asks for, with a label for failure messages.</summary>
    public static IEnumerable<(string Shape, ReadOnlySequence<byte> Sequence)> AllShapes(byte[] data)
    {
        yield return ("whole", new ReadOnlySequence<byte>(data.ToArray()));
        for (int at = 0; at <= data.Length; at++)
        {
            yield return ($"split at {at}", Split(data, at));
        }
        yield return ("one byte per segment", OneBytePerSegment(data));
    }
}
