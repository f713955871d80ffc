namespace Rpyc.Brine;

// Tag bytes of rpyc/core/brine.py. In brine's naming "STR" is bytes and "UNICODE" is text.
internal static class BrineTag
{
    public const byte None = 0x00;
    public const byte EmptyStr = 0x01;
    public const byte EmptyTuple = 0x02;
    public const byte True = 0x03;
    public const byte False = 0x04;
    public const byte NotImplemented = 0x05;
    public const byte Ellipsis = 0x06;
    public const byte Unicode = 0x08;
    public const byte Str1 = 0x0A;
    public const byte Str2 = 0x0B;
    public const byte Str3 = 0x0C;
    public const byte Str4 = 0x0D;
    public const byte StrL1 = 0x0E;
    public const byte StrL4 = 0x0F;
    public const byte Tup1 = 0x10;
    public const byte Tup2 = 0x11;
    public const byte Tup3 = 0x12;
    public const byte Tup4 = 0x13;
    public const byte TupL1 = 0x14;
    public const byte TupL4 = 0x15;
    public const byte IntL1 = 0x16;
    public const byte IntL4 = 0x17;
    public const byte Float = 0x18;
    public const byte Slice = 0x19;
    public const byte FrozenSet = 0x1A;
    public const byte Complex = 0x1B;

    // Immediate ints: the byte is value + 0x50, covering -48..159 (bytes 0x20..0xEF).
    public const int ImmIntMin = -48;
    public const int ImmIntMax = 159;
    public const int ImmIntBias = 0x50;
    public const byte ImmIntFirst = 0x20;
    public const byte ImmIntLast = 0xEF;
}
