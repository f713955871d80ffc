using System.Buffers;

namespace Rpyc.Channel;

/// <summary>
/// The receive buffer of one connection: fills from a transport and hands out whole frame payloads.
/// Only the thread holding the connection's reader role touches it.
/// </summary>
internal sealed class FrameSource(Transport.Transport transport, ChannelLimits limits) : IDisposable
{
    private const int DefaultSize = 64 * 1024;
    private const int ShrinkAbove = 8 * 1024 * 1024;
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(DefaultSize);
    private int _start;
    private int _end;

    /// <summary>Wire length of the last frame returned (header and trailer included).</summary>
    public long LastFrameLength { get; private set; }

    /// <summary>Bytes of an incomplete frame still buffered (non-zero at end of stream means a truncated frame).</summary>
    public int Buffered => _end - _start;

    public enum Result
    {
        Frame,
        Timeout,
        EndOfStream,
    }

    /// <summary>
    /// Reads until one whole frame is buffered. The payload is valid until the next call.
    /// Bytes of an incomplete frame stay buffered when the wait times out.
    /// </summary>
    public Result ReadFrame(TimeSpan timeout, out ReadOnlySequence<byte> payload)
    {
        long deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            var buffered = new ReadOnlySequence<byte>(_buffer, _start, _end - _start);
            ReadOnlySequence<byte> rest = buffered;
            if (FrameReader.TryReadFrame(ref rest, limits, out payload))
            {
                LastFrameLength = buffered.Length - rest.Length;
                _start = _end - (int)rest.Length;
                return Result.Frame;
            }
            EnsureRoom(buffered);
            TimeSpan wait = Timeout.InfiniteTimeSpan;
            if (timeout != Timeout.InfiniteTimeSpan)
            {
                long left = deadline - Environment.TickCount64;
                if (left <= 0)
                {
                    return Result.Timeout;
                }
                wait = TimeSpan.FromMilliseconds(left);
            }
            int n = transport.Receive(_buffer.AsSpan(_end), wait);
            if (n < 0)
            {
                return Result.Timeout;
            }
            if (n == 0)
            {
                payload = default;
                return Result.EndOfStream;
            }
            _end += n;
        }
    }

    // Room for the whole frame when its header is known (so a large frame is read with few syscalls),
    // else for at least the header; buffered bytes move to the front first.
    private void EnsureRoom(ReadOnlySequence<byte> buffered)
    {
        long needed = FrameReader.TryReadHeader(buffered, limits, out int bodyLength, out _)
            ? FrameWriter.HeaderLength + (long)bodyLength + 1
            : FrameWriter.HeaderLength;
        int have = _end - _start;
        if (have == 0)
        {
            _start = _end = 0;
            if (_buffer.Length > ShrinkAbove && needed <= DefaultSize)
            {
                // One large reply must not pin its buffer for the connection's life.
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = ArrayPool<byte>.Shared.Rent(DefaultSize);
            }
        }
        if (_start > 0 && (_buffer.Length - _end < 4096 || _buffer.Length - _start < needed))
        {
            _buffer.AsSpan(_start, have).CopyTo(_buffer);
            _start = 0;
            _end = have;
        }
        if (_buffer.Length - _start < needed)
        {
            byte[] bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(needed, Array.MaxLength));
            _buffer.AsSpan(_start, have).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = bigger;
            _start = 0;
            _end = have;
        }
        if (_end == _buffer.Length)
        {
            // Defensive: the loop above always leaves room, but never spin on a full buffer.
            throw new InvalidOperationException("Receive buffer full.");
        }
    }

    public void Dispose()
    {
        byte[] buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
