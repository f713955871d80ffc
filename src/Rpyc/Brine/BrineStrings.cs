namespace Rpyc.Brine;

// Short strings a peer sends again and again (method and attribute names, a service's name_pack)
// are made once and shared: decoding a CALLATTR request allocated 656 B, 120 of them two new
// strings ('ping' and the root's name_pack) on every call, and the server's garbage per call sets
// how often its gen-0 collections land in a ping (issue 11, goal 4).
//
// A direct-mapped table, not a dictionary that keeps the first strings it sees: a string goes to
// the slot of its hash and replaces whatever was there, so the table stays bounded (2,048 slots of
// at most 64 UTF-8 bytes each) and the names in use win it back from one-off values by being used,
// whatever a peer sent before. No locks: a slot is one reference, written and read atomically; two
// threads racing for a slot only cost one of them a string. The hash is .NET's randomized one, so a
// peer cannot aim its strings at the slots of another connection's names. Strings are immutable:
// sharing an instance changes nothing a caller can see but its identity.
internal static class BrineStrings
{
    public const int MaxLength = 64;
    private const int Slots = 2048;

    private static readonly string?[] s_slots = new string?[Slots];

    /// <summary>The string of ASCII bytes (at most <see cref="MaxLength"/>), or <c>null</c> when a byte is not ASCII.</summary>
    /// <remarks>
    /// The common case (Python names are ASCII) is found from the bytes themselves: no decoding on a
    /// hit. Its slot comes from a hash of the bytes, seeded per process as <see cref="HashCode"/> is,
    /// so an ASCII name and the same name found by <see cref="Get(ReadOnlySpan{char})"/> may sit in
    /// different slots: that costs a second copy at most, never a wrong string.
    /// </remarks>
    public static string? GetAscii(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
        {
            return string.Empty;
        }
        if (!System.Text.Ascii.IsValid(bytes))
        {
            return null;
        }
        var hash = default(HashCode);
        hash.AddBytes(bytes);
        int slot = hash.ToHashCode() & (Slots - 1);
        string? known = Volatile.Read(ref s_slots[slot]);
        if (known is not null && known.Length == bytes.Length && System.Text.Ascii.Equals(bytes, known))
        {
            return known;
        }
        string created = System.Text.Encoding.ASCII.GetString(bytes);
        Volatile.Write(ref s_slots[slot], created);
        return created;
    }

    public static string Get(ReadOnlySpan<char> chars)
    {
        if (chars.IsEmpty)
        {
            return string.Empty;
        }
        int slot = string.GetHashCode(chars) & (Slots - 1);
        string? known = Volatile.Read(ref s_slots[slot]);
        if (known is not null && chars.SequenceEqual(known))
        {
            return known;
        }
        string created = new(chars);
        Volatile.Write(ref s_slots[slot], created);
        return created;
    }
}
