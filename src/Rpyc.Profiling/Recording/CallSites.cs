using System.Diagnostics;
using System.Reflection;

namespace Rpyc.Telemetry;

// The user's frame that made a request: the first one outside the RPyC libraries, the dynamic
// binder (Microsoft.CSharp, System.Linq.Expressions call sites) and the BCL (LINQ over a Netref).
internal static class CallSites
{
    private static readonly Assembly s_rpyc = typeof(RpycConnection).Assembly;
    private static readonly Assembly s_profiling = typeof(CallSites).Assembly;
    private static readonly Assembly s_coreLib = typeof(object).Assembly;

    public static (string? Site, IReadOnlyList<string>? Stack) Capture(bool wholeStack)
    {
        var trace = new StackTrace(2, fNeedFileInfo: true);
        string? site = null;
        List<string>? stack = wholeStack ? [] : null;
        foreach (StackFrame frame in trace.GetFrames())
        {
            MethodBase? method = frame.GetMethod();
            if (method?.DeclaringType is not { } type || IsLibrary(type.Assembly))
            {
                continue;
            }
            string where = Format(frame, method, type);
            site ??= where;
            if (stack is null)
            {
                break;
            }
            stack.Add(where);
        }
        return (site, stack);
    }

    private static bool IsLibrary(Assembly assembly)
    {
        if (assembly == s_rpyc || assembly == s_profiling || assembly == s_coreLib || assembly.IsDynamic)
        {
            return true;
        }
        string? name = assembly.GetName().Name;
        return name is not null && (name.StartsWith("System.", StringComparison.Ordinal) || name.StartsWith("Microsoft.CSharp", StringComparison.Ordinal) || name == "System");
    }

    private static string Format(StackFrame frame, MethodBase method, Type type)
    {
        // Lambdas and iterators live in compiler-generated nested types: name the declaring type.
        Type shown = type;
        while (shown.DeclaringType is not null && shown.Name.StartsWith('<'))
        {
            shown = shown.DeclaringType;
        }
        string name = $"{TypeNames.Readable(shown)}.{method.Name}";
        string? file = frame.GetFileName();
        int line = frame.GetFileLineNumber();
        return file is null || line == 0 ? name : $"{Path.GetFileName(file)}:{line} ({name})";
    }
}
