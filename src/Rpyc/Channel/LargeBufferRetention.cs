namespace Rpyc.Channel;

/// <summary>
/// When a buffer grown past its limit for large messages goes back: it stays while messages keep
/// using at least a quarter of it, and goes after <see cref="SmallMessagesBeforeShrink"/> messages
/// in a row that do not. Giving it back after every large message made each one allocate, page in
/// and fill a new buffer: 8 MiB uploads ran at 150 MiB/s (send buffer), 64 MiB transfers at
/// 0.1-0.2x raw TCP (receive segments). Used by the send buffers and <see cref="SegmentedBuffer"/>.
/// </summary>
internal struct LargeBufferRetention
{
    /// <summary>Messages in a row that use under a quarter of a large buffer before it goes.</summary>
    public const int SmallMessagesBeforeShrink = 4;

    private int _smallMessages;

    /// <summary>Counts one message; true when the buffer should be given back now.</summary>
    /// <param name="held">Bytes the buffer holds.</param>
    /// <param name="used">Bytes the last message used of it.</param>
    /// <param name="limit">Bytes always kept: a buffer of at most this size never goes.</param>
    public bool ShouldShrink(long held, long used, long limit)
    {
        if (held <= limit || used >= held / 4)
        {
            _smallMessages = 0;
            return false;
        }
        if (++_smallMessages < SmallMessagesBeforeShrink)
        {
            return false;
        }
        _smallMessages = 0;
        return true;
    }
}
