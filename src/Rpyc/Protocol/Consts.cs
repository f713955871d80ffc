namespace Rpyc.Protocol;

// rpyc/core/consts.py MSG_*
internal enum MessageKind : byte
{
    Request = 1,
    Reply = 2,
    Exception = 3,
}

// rpyc/core/consts.py HANDLE_*
internal enum HandlerId
{
    Ping = 1,
    Close = 2,
    GetRoot = 3,
    GetAttr = 4,
    DelAttr = 5,
    SetAttr = 6,
    Call = 7,
    CallAttr = 8,
    Repr = 9,
    Str = 10,
    Cmp = 11,
    Hash = 12,
    Dir = 13,
    Pickle = 14,
    Del = 15,
    Inspect = 16,
    BuffIter = 17,
    OldSlicing = 18,
    CtxExit = 19,
    InstanceCheck = 20,
}

// rpyc/core/consts.py LABEL_*; LOCAL/REMOTE are seen from the receiver.
internal static class BoxLabel
{
    public const long Value = 1;
    public const long Tuple = 2;
    public const long LocalRef = 3;
    public const long RemoteRef = 4;

    // Boxed once: every boxed argument and reply starts with one of these.
    public static readonly object ValueBoxed = Value;
    public static readonly object TupleBoxed = Tuple;
    public static readonly object LocalRefBoxed = LocalRef;
    public static readonly object RemoteRefBoxed = RemoteRef;
}

// rpyc/core/consts.py EXC_STOP_ITERATION: StopIteration travels as this bare int.
internal static class ExceptionCodes
{
    public const long StopIteration = 1;
}
