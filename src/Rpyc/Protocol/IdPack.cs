namespace Rpyc.Protocol;

/// <summary><c>(name_pack, class_id, instance_id)</c>: names an object in its owner's object table (lib/__init__.py get_id_pack).</summary>
internal readonly record struct IdPack(string NamePack, long ClassId, long InstanceId)
{
    public PyTuple ToTuple() => new(NamePack, ClassId, InstanceId);

    public static IdPack FromWire(object? value)
    {
        if (value is PyTuple { Count: 3 } t && t[0] is string name && t[1] is long cls && t[2] is long inst)
        {
            return new IdPack(name, cls, inst);
        }
        // Python sends name_pack as str; ids are memory addresses that always fit 64 bits.
        if (value is PyTuple { Count: 3 } b && b[0] is byte[] raw && b[1] is long c2 && b[2] is long i2)
        {
            return new IdPack(System.Text.Encoding.UTF8.GetString(raw), c2, i2);
        }
        throw ProtocolErrors.Message($"expected an id_pack (str, int, int), got {PyValue.Repr(value)}");
    }

    public override string ToString() => $"('{NamePack}', {ClassId}, {InstanceId})";
}
