using System.Globalization;

namespace Rpyc.Bench;

// The console tables of --test-binary-transfer: throughput per size, mode and way, then the peak
// memory of both processes for each. A cell is "refused" where a limit kept a whole transfer from
// being tried (the JSON has the reason), "failed" where a transfer failed or its SHA-256 did not
// match, "-" where the target has no such mode (generators are RPyC's).
internal static class BinaryTransferTables
{
    public static IEnumerable<SummaryTable> Build(IReadOnlyList<TargetReport> all)
    {
        TargetReport[] t = all.Where(r => r.BinaryTransfer is not null).ToArray();
        if (t.Length == 0)
        {
            yield break;
        }
        BinaryTransferResult first = t[0].BinaryTransfer!;
        long[] sizes = t.SelectMany(r => r.BinaryTransfer!.Sizes.Select(s => s.Size)).Distinct().ToArray();
        var speed = new List<IReadOnlyList<string>>();
        var memory = new List<IReadOnlyList<string>>();
        foreach (long size in sizes)
        {
            foreach (string mode in BinaryTransferModes.All)
            {
                foreach (bool upload in new[] { true, false })
                {
                    string label = $"{SummaryTables.SizeLabel(size)} {mode} {(upload ? "up" : "down")}";
                    speed.Add([label, .. t.Select(r => Speed(Find(r, size, mode, upload)))]);
                    memory.Add([label, .. t.Select(r => Memory(Find(r, size, mode, upload)))]);
                }
            }
        }
        string[] columns = ["transfer", .. t.Select(r => r.Name)];
        yield return new SummaryTable(
            $"Binary transfers (MiB/s): {SummaryTables.SizeLabel(first.ChunkSize)} chunks, {first.Iterations} iterations", columns, speed);
        yield return new SummaryTable("Binary transfers: peak RSS client / server (MiB)", columns, memory);
    }

    private static BinaryWayResult? Find(TargetReport r, long size, string mode, bool upload) =>
        r.BinaryTransfer!.Sizes.FirstOrDefault(s => s.Size == size)?.Modes.FirstOrDefault(m => m.Mode == mode) is { } m
            ? upload ? m.Upload : m.Download
            : null;

    private static string Speed(BinaryWayResult? way) => way switch
    {
        null => "-",
        { Status: BinaryWayStatus.Refused } => "refused",
        { Status: BinaryWayStatus.Failed } => "failed",
        _ => (way.BytesPerSecond / (1024 * 1024)).ToString(way.BytesPerSecond >= 100 * 1024 * 1024 ? "F0" : "F1", CultureInfo.InvariantCulture),
    };

    private static string Memory(BinaryWayResult? way) => way is null or { Status: BinaryWayStatus.Refused }
        ? "-"
        : $"{Mib(way.ClientRssPeak)} / {Mib(way.ServerRssPeak)}";

    private static string Mib(long? bytes) => bytes is long b ? (b / (1024.0 * 1024)).ToString("F0", CultureInfo.InvariantCulture) : "-";
}
