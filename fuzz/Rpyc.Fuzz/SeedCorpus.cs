using System.Security.Cryptography;
using System.Text.Json;

namespace Rpyc.Fuzz;

/// <summary>
/// Builds the seed inputs from the golden vectors the repository vendors (tests/vectors, made by
/// the Python reference): brine dumps, channel frames and recorded sessions. Nothing is checked in
/// twice, and a vector added there seeds the fuzzer on the next run.
/// </summary>
internal static class SeedCorpus
{
    // afl-fuzz calibrates every seed; small and few keeps the start-up short.
    private const int MaxSeedLength = 2048;
    private const int MaxSeedsPerTarget = 48;

    public static int Write(string outputDirectory, string vectorsDirectory)
    {
        var seeds = new Dictionary<string, List<byte[]>>(StringComparer.Ordinal)
        {
            ["brine"] = [],
            ["frame"] = [],
            ["dispatch"] = [],
        };
        using (JsonDocument brine = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(vectorsDirectory, "brine.json"))))
        {
            foreach (string section in new[] { "dump", "load_only", "load_errors" })
            {
                foreach (JsonElement row in brine.RootElement.GetProperty(section).EnumerateArray())
                {
                    if (row.TryGetProperty("hex", out JsonElement hex))
                    {
                        seeds["brine"].Add(Convert.FromHexString(hex.GetString()!));
                    }
                }
            }
            foreach (JsonElement row in brine.RootElement.GetProperty("channel_frames").EnumerateArray())
            {
                // The large rows give their payload by formula and hash only.
                if (row.TryGetProperty("frame_hex", out JsonElement hex))
                {
                    seeds["frame"].Add(Convert.FromHexString(hex.GetString()!));
                }
            }
        }
        foreach (string session in Directory.GetFiles(vectorsDirectory, "session-*.jsonl").Order(StringComparer.Ordinal))
        {
            foreach (string line in File.ReadLines(session))
            {
                using JsonDocument record = JsonDocument.Parse(line);
                byte[] frame = Convert.FromHexString(record.RootElement.GetProperty("raw_hex").GetString()!);
                seeds["frame"].Add(frame);
                // Header: uint32 length, uint8 compressed; then the payload and the '\n' trailer.
                if (frame.Length > 6 && frame[4] == 0)
                {
                    seeds["dispatch"].Add(frame[5..^1]);
                }
            }
        }
        int written = 0;
        foreach ((string target, List<byte[]> inputs) in seeds)
        {
            string directory = Path.Combine(outputDirectory, target);
            Directory.CreateDirectory(directory);
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (byte[] input in inputs)
            {
                string name = Convert.ToHexStringLower(SHA256.HashData(input))[..16];
                if (input.Length > 0 && input.Length <= MaxSeedLength && seen.Count < MaxSeedsPerTarget && seen.Add(name))
                {
                    File.WriteAllBytes(Path.Combine(directory, name), input);
                    written++;
                }
            }
        }
        return written;
    }
}
