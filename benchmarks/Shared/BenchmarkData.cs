namespace Rpyc.Benchmarks;

/// <summary>Inputs shared by the microbenchmarks and the figures command, so both measure the same bytes.</summary>
internal static class BenchmarkData
{
    public const int OneMiB = 1024 * 1024;

    /// <summary>
    /// The boxed arguments of <c>root.add(1, 2)</c> as a .NET client sends them (HANDLE_CALLATTR):
    /// <c>(2, ((3, ('__main__.DemoService', 1041446672, 140378413717392)), (1, 'add'), (1, (1, 2)), (1, ())))</c>.
    /// </summary>
    public static PyTuple CallAttrArgs() => new(
        2L,
        new PyTuple(
            new PyTuple(3L, new PyTuple("__main__.DemoService", 1041446672L, 140378413717392L)),
            new PyTuple(1L, "add"),
            new PyTuple(1L, new PyTuple(1L, 2L)),
            new PyTuple(1L, PyTuple.Empty)));

    /// <summary>Seeded random bytes: incompressible, the worst case for zlib.</summary>
    public static byte[] RandomBytes(int length, int seed = 42)
    {
        byte[] data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>bytes(range(256)) repeated, as the demo server's download_fast makes: very compressible.</summary>
    public static byte[] RepeatingBytes(int length)
    {
        byte[] data = new byte[length];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)i;
        }
        return data;
    }
}
