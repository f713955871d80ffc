namespace Rpyc;

/// <summary>Base type of every exception this library raises for RPyC-level failures.</summary>
public abstract class RpycException : Exception
{
    private protected RpycException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>Connecting failed, or the connection can no longer be used.</summary>
public class RpycConnectionException : RpycException
{
    internal RpycConnectionException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The connection is closed; <see cref="Exception.InnerException"/> holds the reason when there was one.</summary>
public sealed class RpycConnectionClosedException : RpycConnectionException
{
    internal RpycConnectionClosedException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>The peer sent a malformed frame, brine value or message; the connection is closed.</summary>
public sealed class RpycProtocolException : RpycException
{
    internal RpycProtocolException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }
}

/// <summary>A synchronous request got no reply within the timeout. The connection stays usable; a late reply is dropped.</summary>
public sealed class RpycTimeoutException : RpycException
{
    internal RpycTimeoutException(string message)
        : base(message)
    {
    }
}

/// <summary>
/// The peer raised an exception while serving a request. The connection stays usable.
/// </summary>
public sealed class RpycRemoteException : RpycException
{
    /// <summary>Creates a remote exception; services may throw it to send a chosen Python exception type.</summary>
    /// <param name="remoteTypeName">The Python type as <c>module.Class</c>, e.g. <c>builtins.ValueError</c>.</param>
    /// <param name="remoteArgs">The exception's <c>args</c>.</param>
    /// <param name="remoteTraceback">The formatted remote traceback, if any.</param>
    public RpycRemoteException(string remoteTypeName, PyTuple? remoteArgs = null, string? remoteTraceback = null)
        : base(FormatMessage(remoteTypeName, remoteArgs, remoteTraceback))
    {
        RemoteTypeName = remoteTypeName;
        RemoteArgs = remoteArgs ?? PyTuple.Empty;
        RemoteTraceback = remoteTraceback ?? "";
    }

    /// <summary>The Python exception type as <c>module.Class</c>, e.g. <c>builtins.ValueError</c>.</summary>
    public string RemoteTypeName { get; }

    /// <summary>The exception's <c>args</c> as sent (non-brine arguments arrive as their repr).</summary>
    public PyTuple RemoteArgs { get; }

    /// <summary>The remote traceback text, or an empty string when the peer sent none.</summary>
    public string RemoteTraceback { get; }

    /// <summary>Extra public attributes the peer sent with the exception, by name.</summary>
    public IReadOnlyDictionary<string, object?> RemoteAttributes { get; init; } = new Dictionary<string, object?>();

    /// <summary>The type name without its module, e.g. <c>ValueError</c>.</summary>
    public string RemoteTypeShortName => RemoteTypeName[(RemoteTypeName.LastIndexOf('.') + 1)..];

    private static string FormatMessage(string type, PyTuple? args, string? traceback)
    {
        string text = args switch
        {
            null or { Count: 0 } => "",
            { Count: 1 } => PyValue.Str(args[0]),
            _ => PyValue.Repr(args),
        };
        string message = text.Length == 0 ? type : $"{type}: {text}";
        return string.IsNullOrEmpty(traceback) ? message : $"{message}\n\n========= Remote Traceback (1) =========\n{traceback}";
    }
}
