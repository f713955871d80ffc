using Rpyc.Figures.Hosting;
using Rpyc.Figures.Peers;
using Rpyc.Figures.Reports;

namespace Rpyc.Figures;

/// <summary>
/// dotnet run -c Release --project benchmarks/Rpyc.Figures -- [--servers] [--runs 3] [--calls 20000] [--out file.json]
/// Exit codes: 0 success, 1 failed run (a peer failed or a result was wrong), 2 bad usage.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        FiguresOptions options;
        try
        {
            options = FiguresOptions.Parse(args);
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine(ex.Message);
            Console.Error.WriteLine(FiguresOptions.Usage);
            return 2;
        }
        if (options.ShowHelp)
        {
            Console.WriteLine(FiguresOptions.Usage);
            return 0;
        }
        if (options.IsServeMode)
        {
            return ServeMode.Run(options.Mode, options.SpinMicros);
        }
        try
        {
            FiguresReport report = options.Mode switch
            {
                FiguresMode.Servers => new ServersRunner(options, Console.Out).Run(),
                FiguresMode.Breakdown => new BreakdownRunner(options, Console.Out).Run(),
                _ => new FiguresRunner(options, Console.Out).Run(),
            };
            Console.Write(TableReporter.RenderMedian(report));
            if (options.OutPath is not null)
            {
                File.WriteAllText(options.OutPath, JsonReporter.Render(report));
                Console.WriteLine($"Wrote {Path.GetFullPath(options.OutPath)}");
            }
            return report.TotalFailures == 0 ? 0 : 1;
        }
        catch (Exception ex) when (ex is FiguresException or RpycException or IOException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            Console.Error.WriteLine($"The figures run failed: {ex}");
            return 1;
        }
    }
}
