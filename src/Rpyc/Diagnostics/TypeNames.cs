namespace Rpyc.Telemetry;

// Readable names of local .NET types for telemetry: Func<long, long> rather than Func`2.
internal static class TypeNames
{
    public static string Readable(Type type)
    {
        if (type.IsArray)
        {
            return Readable(type.GetElementType()!) + "[]";
        }
        if (Type.GetTypeCode(type) is var code and not TypeCode.Object and not TypeCode.DBNull and not TypeCode.Empty)
        {
            return code switch
            {
                TypeCode.Boolean => "bool",
                TypeCode.Byte => "byte",
                TypeCode.SByte => "sbyte",
                TypeCode.Int16 => "short",
                TypeCode.UInt16 => "ushort",
                TypeCode.Int32 => "int",
                TypeCode.UInt32 => "uint",
                TypeCode.Int64 => "long",
                TypeCode.UInt64 => "ulong",
                TypeCode.Single => "float",
                TypeCode.Double => "double",
                TypeCode.Decimal => "decimal",
                TypeCode.Char => "char",
                TypeCode.String => "string",
                _ => type.Name,
            };
        }
        if (type == typeof(object))
        {
            return "object";
        }
        if (!type.IsGenericType)
        {
            return type.Name;
        }
        string name = type.Name;
        int tick = name.IndexOf('`', StringComparison.Ordinal);
        return (tick < 0 ? name : name[..tick]) + "<" + string.Join(", ", type.GetGenericArguments().Select(Readable)) + ">";
    }
}
