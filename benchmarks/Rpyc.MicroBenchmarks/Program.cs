using BenchmarkDotNet.Running;

namespace Rpyc.MicroBenchmarks;

public static class Program
{
    // dotnet run -c Release --project benchmarks/Rpyc.MicroBenchmarks -- --filter '*Brine*'
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
