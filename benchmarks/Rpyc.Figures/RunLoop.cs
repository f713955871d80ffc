using Rpyc.Figures.Reports;
using Rpyc.Figures.Scenarios;

namespace Rpyc.Figures;

/// <summary>The loop every mode shares: machine header, N runs each printed as it ends, one report.</summary>
internal static class RunLoop
{
    public static FiguresReport Run(FiguresOptions options, TextWriter log, Func<int, RunResult> runOnce)
    {
        (string python, string rpyc) = PythonClientScenarios.Versions(options);
        MachineInfo machine = MachineInfo.Collect(python, rpyc);
        log.Write(TableReporter.RenderMachine(machine, options));
        var runs = new List<RunResult>();
        for (int i = 1; i <= options.Runs; i++)
        {
            RunResult run = runOnce(i);
            runs.Add(run);
            log.Write(TableReporter.RenderRun(run, options.Runs));
            log.Flush();
        }
        return FiguresReport.Create(machine, options, runs);
    }
}
