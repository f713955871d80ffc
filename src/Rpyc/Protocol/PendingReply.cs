namespace Rpyc.Protocol;

/// <summary>
/// One outstanding synchronous request. Completed by whichever thread reads its reply; the
/// waiting thread is woken through the connection's monitor.
/// </summary>
internal sealed class PendingReply(long seq, HandlerId handler)
{
    public long Seq { get; } = seq;

    public HandlerId Handler { get; } = handler;

    public bool IsCompleted { get; private set; }

    public object? Value { get; private set; }

    public Exception? Error { get; private set; }

    // Telemetry: set by the reading thread before Complete/Fail.
    public long ReplyBytes { get; set; }

    public bool CreatedNetref { get; set; }

    // Called with the connection's monitor held.
    public void Complete(object? value)
    {
        Value = value;
        IsCompleted = true;
    }

    public void Fail(Exception error)
    {
        Error = error;
        IsCompleted = true;
    }
}
