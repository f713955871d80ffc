using System.Linq.Expressions;
using System.Reflection;

namespace Rpyc.Services;

/// <summary>
/// Turns a proxy for a peer's callable into a .NET delegate, so a service method can take a
/// Python callback as <c>Func&lt;long, long&gt;</c> instead of <c>dynamic</c>.
/// </summary>
internal static class NetrefDelegates
{
    private static readonly MethodInfo s_call = typeof(NetrefDelegates).GetMethod(nameof(Call), BindingFlags.NonPublic | BindingFlags.Static)!;
    private static readonly MethodInfo s_convert = typeof(NetrefDelegates).GetMethod(nameof(ConvertResult), BindingFlags.NonPublic | BindingFlags.Static)!;

    public static Delegate Create(Netref target, Type delegateType)
    {
        MethodInfo invoke = delegateType.GetMethod("Invoke")!;
        ParameterExpression[] parameters = invoke.GetParameters().Select(p => Expression.Parameter(p.ParameterType, p.Name)).ToArray();
        Expression call = Expression.Call(
            s_call,
            Expression.Constant(target),
            Expression.NewArrayInit(typeof(object), parameters.Select(p => Expression.Convert(p, typeof(object)))));
        Expression body = invoke.ReturnType == typeof(void)
            ? call
            : Expression.Convert(Expression.Call(s_convert, call, Expression.Constant(invoke.ReturnType, typeof(Type))), invoke.ReturnType);
        return Expression.Lambda(delegateType, body, parameters).Compile();
    }

    private static object? Call(Netref target, object?[] args) => target.Call(args);

    private static object? ConvertResult(object? value, Type type) =>
        ValueBinder.TryConvert(value, type, out object? converted)
            ? converted
            : throw new InvalidCastException($"The callback returned {PyValue.Repr(value)}, which is not a {type.Name}.");
}
