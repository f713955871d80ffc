using System.Collections.Concurrent;
using System.Reflection;

namespace Rpyc.Services;

/// <summary>
/// The members of one .NET type a peer may reach, by wire name, computed once per type:
/// exposed members (by attribute or <c>exposed_</c> prefix) and, for <c>AllowPublicAttrs</c>,
/// public members by their own name and its snake_case form.
/// </summary>
internal sealed class TypeExposure
{
    private static readonly ConcurrentDictionary<Type, TypeExposure> s_cache = new();

    private TypeExposure(Type type)
    {
        const BindingFlags Flags = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.FlattenHierarchy;
        var exposed = new Dictionary<string, List<MemberInfo>>(StringComparer.Ordinal);
        var publicMembers = new Dictionary<string, List<MemberInfo>>(StringComparer.Ordinal);
        foreach (MemberInfo member in type.GetMembers(Flags))
        {
            if (member is not (MethodInfo or PropertyInfo or FieldInfo) || IsSpecial(member))
            {
                continue;
            }
            ExposedAttribute? attribute = member.GetCustomAttribute<ExposedAttribute>(inherit: true);
            if (attribute is not null)
            {
                string wire = attribute.Name ?? NameMapping.ToSnakeCase(member.Name);
                AddTo(exposed, wire, member);
                AddTo(exposed, NameMapping.ExposedPrefix + wire, member);
            }
            else if (member.Name.StartsWith(NameMapping.ExposedPrefix, StringComparison.Ordinal))
            {
                AddTo(exposed, member.Name, member);
                AddTo(exposed, member.Name[NameMapping.ExposedPrefix.Length..], member);
            }
            if (IsPublic(member) && member.DeclaringType != typeof(object))
            {
                AddTo(publicMembers, member.Name, member);
                string snake = NameMapping.ToSnakeCase(member.Name);
                if (snake != member.Name)
                {
                    AddTo(publicMembers, snake, member);
                }
            }
        }
        Exposed = exposed.ToDictionary(kv => kv.Key, kv => new MemberGroup(kv.Value.ToArray()), StringComparer.Ordinal);
        Public = publicMembers.ToDictionary(kv => kv.Key, kv => new MemberGroup(kv.Value.ToArray()), StringComparer.Ordinal);
    }

    public static TypeExposure For(Type type) => s_cache.GetOrAdd(type, static t => new TypeExposure(t));

    public IReadOnlyDictionary<string, MemberGroup> Exposed { get; }

    public IReadOnlyDictionary<string, MemberGroup> Public { get; }

    private static void AddTo(Dictionary<string, List<MemberInfo>> map, string name, MemberInfo member)
    {
        if (!map.TryGetValue(name, out List<MemberInfo>? list))
        {
            map[name] = list = [];
        }
        if (!list.Contains(member))
        {
            list.Add(member);
        }
    }

    private static bool IsSpecial(MemberInfo member) => member is MethodInfo { IsSpecialName: true } || member.Name.Contains('<', StringComparison.Ordinal);

    private static bool IsPublic(MemberInfo member) => member switch
    {
        MethodInfo m => m.IsPublic,
        PropertyInfo p => p.GetMethod?.IsPublic == true,
        FieldInfo f => f.IsPublic,
        _ => false,
    };
}

/// <summary>The members one wire name reaches: a property or field, or a method's overloads.</summary>
internal sealed class MemberGroup(MemberInfo[] members)
{
    public MemberInfo First { get; } = members[0];

    /// <summary>
    /// The overloads when the name is a method (kept as an array: requests bind against it every
    /// time), a derived type's before its base's, each type's in the order reflection lists them
    /// (declaration order, on CoreCLR and NativeAOT alike): the tie-break between equally good
    /// overloads (OverloadRank). The sort is stable; not by MetadataToken, which NativeAOT does not
    /// have (it threw there, and every ForkingServer worker published so died at start).
    /// </summary>
    public MethodInfo[] Methods { get; } = members.OfType<MethodInfo>()
        .OrderByDescending(m => Depth(m.DeclaringType))
        .ToArray();

    private static int Depth(Type? type)
    {
        int depth = 0;
        for (; type is not null; type = type.BaseType)
        {
            depth++;
        }
        return depth;
    }

    private MethodPlan[]? _plans;

    /// <summary>
    /// The overloads' plans, made on first call: kept here, a call binds without looking its method
    /// up in <see cref="MethodPlan"/>'s table (hashing a MethodInfo per request). Two threads
    /// racing to make them make equal arrays of the same plans.
    /// </summary>
    public MethodPlan[] Plans => _plans ??= Array.ConvertAll(Methods, MethodPlan.For);
}
