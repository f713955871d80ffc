using Rpyc.Figures.Statistics;

namespace Rpyc.Figures.Reports;

/// <summary>One run: every scenario measured back to back against one Python server.</summary>
internal sealed record RunResult(int Index, IReadOnlyList<ScenarioResult> Scenarios);

/// <summary>Everything the figures command measured; the medians are computed once, here.</summary>
internal sealed record FiguresReport(MachineInfo Machine, FiguresOptions Options, IReadOnlyList<RunResult> Runs, IReadOnlyList<ScenarioResult> Median)
{
    public int TotalFailures => Runs.Sum(r => r.Scenarios.Sum(s => s.Values.TryGetValue(Fields.Failures, out double f) ? (int)f : 0));

    public static FiguresReport Create(MachineInfo machine, FiguresOptions options, IReadOnlyList<RunResult> runs)
    {
        var median = new List<ScenarioResult>();
        if (runs.Count > 0)
        {
            foreach (ScenarioResult first in runs[0].Scenarios)
            {
                ScenarioResult[] same = runs.Select(r => r.Scenarios.FirstOrDefault(s => s.Key == first.Key)).OfType<ScenarioResult>().ToArray();
                var values = new Dictionary<string, double>();
                foreach (string field in first.Values.Keys)
                {
                    values[field] = field == Fields.Failures
                        ? same.Sum(s => s[field])
                        : LatencyStats.Median(same.Select(s => s[field]));
                }
                median.Add(first with { Values = values });
            }
        }
        return new FiguresReport(machine, options, runs, median);
    }
}
