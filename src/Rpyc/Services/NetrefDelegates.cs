using System.Collections.Concurrent;
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

    // One compiled factory per delegate type. Compiling an expression tree per bound argument cost
    // about 200 µs (and a dynamic method to collect) on every request that passed a callback,
    // ten times the round trip it was made for (issue 11: map_callback).
    private static readonly ConcurrentDictionary<Type, Func<Netref, Delegate>> s_factories = new();

    public static Delegate Create(Netref target, Type delegateType) =>
        s_factories.GetOrAdd(delegateType, static type => CompileFactory(type))(target);

    // target => (p0, p1, …) => (TResult)ConvertResult(Call(target, new object[] { p0, p1, … }), typeof(TResult))
    private static Func<Netref, Delegate> CompileFactory(Type delegateType)
    {
        MethodInfo invoke = delegateType.GetMethod("Invoke")!;
        ParameterExpression target = Expression.Parameter(typeof(Netref), "target");
        ParameterExpression[] parameters = invoke.GetParameters().Select(p => Expression.Parameter(p.ParameterType, p.Name)).ToArray();
        Expression call = Expression.Call(
            s_call,
            target,
            Expression.NewArrayInit(typeof(object), parameters.Select(p => Expression.Convert(p, typeof(object)))));
        Expression body = invoke.ReturnType == typeof(void)
            ? call
            : Expression.Convert(Expression.Call(s_convert, call, Expression.Constant(invoke.ReturnType, typeof(Type))), invoke.ReturnType);
        LambdaExpression inner = Expression.Lambda(delegateType, body, parameters);
        return Expression.Lambda<Func<Netref, Delegate>>(Expression.Convert(inner, typeof(Delegate)), target).Compile();
    }

    private static object? Call(Netref target, object?[] args) => target.Call(args);

    private static object? ConvertResult(object? value, Type type) =>
        type == typeof(object) ? value
        : ValueBinder.TryConvert(value, type, out object? converted) ? converted
        : throw new InvalidCastException($"The callback returned {PyValue.Repr(value)}, which is not a {type.Name}.");
}
