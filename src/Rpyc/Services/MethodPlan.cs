using System.Collections.Concurrent;
using System.Reflection;

namespace Rpyc.Services;

/// <summary>
/// What binding and invoking one method needs, computed once per method: every request binds
/// again, and <see cref="MethodBase.GetParameters"/>, attribute lookups and
/// <see cref="MethodBase.Invoke(object?, object?[])"/> would each cost more than the call itself.
/// </summary>
internal sealed class MethodPlan
{
    private static readonly ConcurrentDictionary<MethodInfo, MethodPlan> s_plans = new();

    private readonly MethodInvoker _invoker;

    private MethodPlan(MethodInfo method)
    {
        Method = method;
        Parameters = method.GetParameters();
        HasParamArray = Parameters.Length > 0 && Parameters[^1].IsDefined(typeof(ParamArrayAttribute));
        ReturnsAwaitable = IsAwaitable(method.ReturnType);
        _invoker = MethodInvoker.Create(method);
    }

    public static MethodPlan For(MethodInfo method) => s_plans.GetOrAdd(method, static m => new MethodPlan(m));

    public MethodInfo Method { get; }

    public ParameterInfo[] Parameters { get; }

    /// <summary>Whether the last parameter is <c>params</c>.</summary>
    public bool HasParamArray { get; }

    /// <summary>Whether the result may be a task to await (declared Task/ValueTask, or object that may hold one).</summary>
    public bool ReturnsAwaitable { get; }

    /// <summary>Invokes with bound arguments; exceptions thrown by the method propagate unwrapped.</summary>
    public object? Invoke(object? target, Span<object?> arguments) =>
        _invoker.Invoke(Method.IsStatic ? null : target, arguments);

    private static bool IsAwaitable(Type type) =>
        type == typeof(object) || typeof(Task).IsAssignableFrom(type) || type == typeof(ValueTask)
        || (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(ValueTask<>));
}
