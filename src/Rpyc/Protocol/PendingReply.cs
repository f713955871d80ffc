namespace Rpyc.Protocol;

/// <summary>
/// One outstanding synchronous request. Completed by whichever thread reads its reply; the
/// waiting thread is woken through the connection's monitor. Reused by the connection's next
/// request once its waiter has taken the result (<see cref="Reset"/>, <see cref="Clear"/>).
/// </summary>
internal sealed class PendingReply
{
    public long Seq { get; private set; }

    public HandlerId Handler { get; private set; }

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

    // Under the connection's monitor, before the request is entered in its pending table.
    public void Reset(long seq, HandlerId handler)
    {
        Seq = seq;
        Handler = handler;
        Value = null;
        Error = null;
        ReplyBytes = 0;
        CreatedNetref = false;
        _completed = false;
    }

    // By the waiter, done with it: a spare keeps no reply alive.
    public void Clear()
    {
        Value = null;
        Error = null;
    }

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
