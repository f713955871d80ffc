using System.Globalization;

namespace Rpyc.Bench;

/// <summary>Parses binary transfer sizes: bytes, or with K/KiB, M/MiB, G/GiB (1024-based).</summary>
public static class BinarySizes
{
    /// <summary>The largest file: 16 GiB.</summary>
    public const long Max = 16L << 30;

    /// <summary>Parses one size, e.g. <c>64K</c>, <c>100M</c>, <c>1G</c>.</summary>
    /// <param name="text">The size.</param>
    /// <param name="bytes">The size in bytes.</param>
    /// <returns><c>false</c> when malformed, below 1 byte or above <see cref="Max"/>.</returns>
    public static bool TryParse(string text, out long bytes)
    {
        bytes = 0;
        string item = (text ?? "").Trim();
        string digits = new(item.TakeWhile(char.IsDigit).ToArray());
        long scale = item[digits.Length..].Trim().ToUpperInvariant() switch
        {
            "" or "B" => 1,
            "K" or "KB" or "KIB" => 1L << 10,
            "M" or "MB" or "MIB" => 1L << 20,
            "G" or "GB" or "GIB" => 1L << 30,
            _ => 0,
        };
        if (scale == 0 || !long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n < 1 || n > Max / scale)
        {
            return false;
        }
        bytes = n * scale;
        return true;
    }

    /// <summary>Parses a comma-separated list of sizes.</summary>
    /// <param name="list">e.g. <c>1M,100M,1G</c>.</param>
    /// <param name="sizes">The sizes in bytes, in order, without repeats.</param>
    /// <param name="error">Why the list is bad, or <c>null</c>.</param>
    /// <returns>Whether every size parsed and there is at least one.</returns>
    public static bool TryParseList(string list, out List<long> sizes, out string? error)
    {
        sizes = [];
        error = null;
        foreach (string item in (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!TryParse(item, out long bytes))
            {
                error = $"Bad binary file size '{item}': use bytes or K/KiB, M/MiB, G/GiB, from 1 B to 16 GiB.";
                return false;
            }
            if (!sizes.Contains(bytes))
            {
                sizes.Add(bytes);
            }
        }
        if (sizes.Count == 0)
        {
            error = "--binary-file-sizes is empty.";
            return false;
        }
        return true;
    }
}
