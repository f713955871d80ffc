namespace Rpyc.Protocol;

/// <summary>
/// One outstanding synchronous request. Completed by whichever thread reads its reply; the
/// waiting thread is woken through the connection's monitor.
/// </summary>
internal sealed class PendingReply(long seq, HandlerId handler)
{
    public long Seq { get; } = seq;

    public HandlerId Handler { get; } = handler;

    // Written after Value or Error with release semantics and read with acquire semantics, so the
    // waiter may look without the monitor once it has read the reply itself (WaitFor) and still
    // see the value or error that came with it, on a weak memory model too.
    private volatile bool _completed;

    public bool IsCompleted => _completed;

    public object? Value { get; private set; }

    public Exception? Error { get; private set; }

    // Telemetry: set by the reading thread before Complete/Fail.
    public long ReplyBytes { get; set; }

    public bool CreatedNetref { get; set; }

    // Called with the connection's monitor held.
    public void Complete(object? value)
    {
        Value = value;
        _completed = true;
    }

    public void Fail(Exception error)
    {
        Error = error;
        _completed = true;
    }
}
