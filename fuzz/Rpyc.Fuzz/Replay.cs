namespace Rpyc.Fuzz;

/// <summary>Runs saved inputs once each, printing what a crashing one throws, with its bytes in hex.</summary>
internal static class Replay
{
    public static int Run(Action<byte[]> target, IEnumerable<string> files)
    {
        int crashes = 0;
        foreach (string file in files)
        {
            byte[] input = File.ReadAllBytes(file);
            try
            {
                target(input);
            }
            catch (Exception ex)
            {
                crashes++;
                Console.WriteLine($"CRASH {file} ({input.Length} bytes)");
                Console.WriteLine($"  input: {Convert.ToHexStringLower(input)}");
                Console.WriteLine($"  {ex.GetType().FullName}: {ex.Message}");
                Console.WriteLine(ex.StackTrace);
            }
        }
        return crashes == 0 ? 0 : 1;
    }
}
