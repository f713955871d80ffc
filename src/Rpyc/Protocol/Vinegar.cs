using System.Reflection;

namespace Rpyc.Protocol;

/// <summary>Exceptions on the wire (rpyc/core/vinegar.py): the 4-tuple, a legacy string, or the StopIteration shortcut.</summary>
internal static class Vinegar
{
    // Python receivers ignore a version string that is not "X.Y.Z"-shaped, so no spurious
    // "Remote is on RPyC X" warning is appended to their tracebacks.
    private const string VersionDenied = "<version denied>";

    // ((module, class), args, attrs, traceback)
    public static object Dump(Exception exception, bool includeTraceback)
    {
        if (exception is TargetInvocationException { InnerException: { } inner })
        {
            exception = inner;
        }
        if (exception is StopIterationException)
        {
            return ExceptionCodes.StopIteration;
        }
        (string module, string name) = PythonType(exception);
        PyTuple args = exception switch
        {
            RpycRemoteException remote => remote.RemoteArgs,
            RemoteKeyErrorException missing => new PyTuple(missing.Key),
            _ => new PyTuple(exception.Message),
        };
        var attrs = new PyTuple(new PyTuple("_remote_version", VersionDenied));
        string traceback = includeTraceback ? FormatTraceback(exception, module, name) : "<traceback denied>";
        return new PyTuple(new PyTuple(module, name), SanitizeArgs(args), attrs, traceback);
    }

    private static PyTuple SanitizeArgs(PyTuple args)
    {
        var items = new object?[args.Count];
        for (int i = 0; i < items.Length; i++)
        {
            // vinegar.py sends repr(arg) for arguments brine cannot carry.
            items[i] = Brine.Brine.IsDumpable(args[i]) ? args[i] : args[i]?.ToString();
        }
        return PyTuple.Wrap(items);
    }

    private static string FormatTraceback(Exception exception, string module, string name) =>
        $"Traceback (most recent call last, .NET):\n{exception.StackTrace}\n{(module == "builtins" ? name : module + "." + name)}: {exception.Message}\n";

    // The Python type a .NET exception is sent as. Built-ins matter: Python callers catch
    // AttributeError (hasattr), KeyError/IndexError (mapping and sequence protocols) and TypeError.
    private static (string Module, string Name) PythonType(Exception exception)
    {
        if (exception is RpycRemoteException remote)
        {
            int dot = remote.RemoteTypeName.LastIndexOf('.');
            return dot < 0 ? ("builtins", remote.RemoteTypeName) : (remote.RemoteTypeName[..dot], remote.RemoteTypeName[(dot + 1)..]);
        }
        string? builtin = exception switch
        {
            MissingMemberException or RemoteAttributeException => "AttributeError",
            KeyNotFoundException => "KeyError",
            IndexOutOfRangeException or ArgumentOutOfRangeException => "IndexError",
            ArgumentException or FormatException => "ValueError",
            InvalidCastException or RemoteTypeErrorException => "TypeError",
            NotImplementedException => "NotImplementedError",
            NotSupportedException => "NotImplementedError",
            DivideByZeroException => "ZeroDivisionError",
            OverflowException => "OverflowError",
            TimeoutException or RpycTimeoutException => "TimeoutError",
            OutOfMemoryException => "MemoryError",
            InvalidOperationException => "RuntimeError",
            _ => null,
        };
        if (builtin is not null)
        {
            return ("builtins", builtin);
        }
        Type type = exception.GetType();
        return (type.Namespace ?? "dotnet", type.Name);
    }

    public static Exception Load(object? payload)
    {
        switch (payload)
        {
            case long code when code == ExceptionCodes.StopIteration:
                return new RpycRemoteException("builtins.StopIteration");
            case string legacy:
                return new RpycRemoteException(legacy);
            case PyTuple { Count: >= 4 } t when t[0] is PyTuple { Count: 2 } type && type[0] is string module && type[1] is string name:
                var attributes = new Dictionary<string, object?>();
                if (t[2] is PyTuple attrs)
                {
                    foreach (object? pair in attrs)
                    {
                        if (pair is PyTuple { Count: 2 } kv && kv[0] is string key)
                        {
                            attributes[key] = kv[1];
                        }
                    }
                }
                return new RpycRemoteException($"{module}.{name}", t[1] as PyTuple ?? new PyTuple(t[1]), t[3] as string)
                {
                    RemoteAttributes = attributes,
                };
            default:
                throw ProtocolErrors.Message($"undecodable exception payload {PyValue.Repr(payload)}");
        }
    }
}

/// <summary>Thrown by local objects to end an iteration; sent as Python's StopIteration shortcut.</summary>
internal sealed class StopIterationException : Exception
{
    public static StopIterationException Instance { get; } = new();
}

/// <summary>A refused or missing attribute; sent as Python's AttributeError.</summary>
internal sealed class RemoteAttributeException(string message) : Exception(message);

/// <summary>
/// A missing key; sent as Python's KeyError with the key itself as its argument (a Python caller
/// reads <c>e.args[0]</c>), its message the key's repr as <c>str(KeyError(key))</c> is.
/// </summary>
internal sealed class RemoteKeyErrorException(object? key) : KeyNotFoundException(PyValue.Repr(key))
{
    public object? Key { get; } = key;
}

/// <summary>A call whose arguments do not fit the target; sent as Python's TypeError.</summary>
internal sealed class RemoteTypeErrorException(string message) : Exception(message);

/// <summary>Python's NotImplemented, returned by comparisons that do not apply.</summary>
internal static class NotImplementedValue
{
    public static PyNotImplemented Instance => PyNotImplemented.Instance;
}
