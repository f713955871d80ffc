namespace Rpyc.Bench;

// One target's line on a chart: its runs of consecutive measured points, and the x values where it
// failed. A point without a value (the target failed there, or was not measured) ends a segment:
// a line drawn across it would show a value that was never measured.
internal sealed record SweepLine<TX>(string Target, IReadOnlyList<IReadOnlyList<(TX X, double Y)>> Segments, IReadOnlyList<TX> Failed)
{
    // The points in x order. A value that is null, not finite or not positive is none (a log axis
    // has no place for zero); Failed counts only at a point without a value.
    public static SweepLine<TX> Of(string target, IEnumerable<(TX X, double? Y, bool Failed)> points)
    {
        var segments = new List<IReadOnlyList<(TX X, double Y)>>();
        var failed = new List<TX>();
        var segment = new List<(TX X, double Y)>();
        foreach ((TX x, double? value, bool failedHere) in points)
        {
            if (value is double y && double.IsFinite(y) && y > 0)
            {
                segment.Add((x, y));
                continue;
            }
            if (segment.Count > 0)
            {
                segments.Add(segment);
                segment = [];
            }
            if (failedHere)
            {
                failed.Add(x);
            }
        }
        if (segment.Count > 0)
        {
            segments.Add(segment);
        }
        return new SweepLine<TX>(target, segments, failed);
    }
}
