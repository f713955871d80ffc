using Rpyc.Figures.Statistics;

namespace Rpyc.Figures.Reports;

/// <summary>
/// One run: every scenario measured back to back. <paramref name="LoadAverageAtStart"/>: the 1-minute load average
/// when the run began (it includes the tail of this command's own previous run). <paramref name="OthersCores"/>: the
/// CPU other programs used during the run, in cores (see <see cref="CpuSample"/>), NaN when not measured.
/// </summary>
internal sealed record RunResult(int Index, IReadOnlyList<ScenarioResult> Scenarios, double LoadAverageAtStart = double.NaN, double OthersCores = double.NaN);

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
                    values[field] = field is Fields.Failures or Fields.WarmupUnsettled
                        ? same.Sum(s => s[field])
                        : LatencyStats.Median(same.Select(s => s[field]));
                }
                median.Add(first with { Values = values });
            }
        }
        return new FiguresReport(machine, options, runs, median);
    }
}
