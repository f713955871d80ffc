namespace Rpyc.Telemetry;

/// <summary>The costly RPyC usage patterns <see cref="RpycTelemetry.GetAdvice"/> recognizes.</summary>
public enum AdviceKind
{
    /// <summary>One round trip per item over one remote sequence (<c>__next__</c> / <c>__getitem__</c> on one proxy): fetch it by value.</summary>
    RemoteSequenceLoop,

    /// <summary>The same attribute read again and again from one object: cache it.</summary>
    RepeatedGetAttr,

    /// <summary><c>a.b.c.d</c>: each getattr on the object the previous one returned, one round trip each: do it on the server.</summary>
    AttributeChain,

    /// <summary>The same remote method called many times: batch the call.</summary>
    RepeatedCalls,

    /// <summary>Proxies never released: the peer keeps their objects alive.</summary>
    UnreleasedNetrefs,
}

/// <summary>One finding of <see cref="RpycTelemetry.GetAdvice"/>: a pattern, how often it cost a round trip, and what to do instead.</summary>
public sealed class Advice
{
    internal Advice(AdviceKind kind, string subject, long occurrences, string message)
    {
        Kind = kind;
        Subject = subject;
        Occurrences = occurrences;
        Message = message;
    }

    /// <summary>The pattern.</summary>
    public AdviceKind Kind { get; }

    /// <summary>What it is about: the object, attribute, chain or type.</summary>
    public string Subject { get; }

    /// <summary>The round trips (or live proxies, for <see cref="AdviceKind.UnreleasedNetrefs"/>) involved.</summary>
    public long Occurrences { get; }

    /// <summary>One line: what was seen and what to do instead.</summary>
    public string Message { get; }

    /// <summary>The <see cref="Message"/>.</summary>
    public override string ToString() => Message;
}
