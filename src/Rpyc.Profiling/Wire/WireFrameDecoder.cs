using System.Buffers;
using Rpyc.Brine;
using Rpyc.Channel;
using Rpyc.Protocol;

namespace Rpyc.Profiling.Wire;

/// <summary>One decoded message and the wire length of the frame it came in (header and trailer included).</summary>
internal readonly record struct WireMessage(MessageKind Kind, long Seq, object? Args, long FrameBytes);

/// <summary>
/// Splits one direction of a relayed connection into frames and decodes their envelopes, with the
/// connection's own parsers (FrameReader, Envelope): bytes in, messages out, never a socket. The
/// envelope (5.x or 6.x) is detected from the first frame. A malformed frame stops the decoding of
/// this direction (the relay still forwards every byte) and is kept as <see cref="Error"/>.
/// </summary>
internal sealed class WireFrameDecoder
{
    private const int InitialCapacity = 16 * 1024;

    /// <summary>The most a decoder keeps between frames: past it, the buffer a larger frame needed is let go.</summary>
    public const int RetainedCapacity = 1024 * 1024;

    private byte[] _buffer = new byte[InitialCapacity];
    private int _count;

    public RpycProtocolVersion? Version { get; private set; }

    public string? Error { get; private set; }

    /// <summary>Bytes not decoded: those after a malformed frame.</summary>
    public long UndecodedBytes { get; private set; }

    /// <summary>Bytes of an incomplete frame waiting for the rest.</summary>
    public int Pending => _count;

    /// <summary>The bytes the decoder holds on to.</summary>
    public int Capacity => _buffer.Length;

    public void Feed(ReadOnlySpan<byte> data, List<WireMessage> output)
    {
        if (Error is not null)
        {
            UndecodedBytes += data.Length;
            return;
        }
        Append(data);
        int consumed = 0;
        try
        {
            while (true)
            {
                var rest = new ReadOnlySequence<byte>(_buffer, consumed, _count - consumed);
                long before = rest.Length;
                if (!FrameReader.TryReadFrame(ref rest, ChannelLimits.Default, out ReadOnlySequence<byte> payload))
                {
                    break;
                }
                long frameBytes = before - rest.Length;
                Version ??= Envelope.Detect(payload)
                    ?? throw ProtocolErrors.Message($"the first message starts with 0x{payload.FirstSpan[0]:x2}, neither a 5.x (0x12) nor a 6.x (0x01..0x03) envelope");
                Message message = Envelope.Read(payload, Version.Value, BrineLimits.DefaultMaxDepth);
                output.Add(new WireMessage(message.Kind, message.Seq, message.Args, frameBytes));
                consumed += (int)frameBytes;
            }
        }
        catch (RpycProtocolException ex)
        {
            Error = ex.Message;
            UndecodedBytes += _count - consumed;
            _count = 0;
            return;
        }
        if (consumed > 0)
        {
            _count -= consumed;
            // A relay runs for hours: one large frame must not pin its size for the connection's life.
            byte[] target = _buffer.Length > RetainedCapacity && _count <= InitialCapacity ? new byte[InitialCapacity] : _buffer;
            Buffer.BlockCopy(_buffer, consumed, target, 0, _count);
            _buffer = target;
        }
    }

    /// <summary>The connection ended: its record stays in the profile, its buffer goes.</summary>
    public void Release()
    {
        _buffer = [];
        _count = 0;
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        if (_count + data.Length > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(_buffer.Length * 2, _count + data.Length));
        }
        data.CopyTo(_buffer.AsSpan(_count));
        _count += data.Length;
    }
}
