using System.Diagnostics.CodeAnalysis;
using Rpyc.Bench;
using Rpyc.Servers;

namespace Rpyc.Bench.Worker;

internal static class Program
{
    // NativeAOT keeps the reflection metadata only of what is named: BenchService's own members come
    // with ForkingWorker.Run<TService>; the objects it returns by reference are reached by name
    // (getattr), so they are kept here (the decision scenarios 'record', 'chain' and 'list').
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, typeof(ScenarioRecord))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, typeof(ScenarioChain))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, typeof(ScenarioChainChild))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.All, typeof(List<long>))]
    private static int Main(string[] args) => ForkingWorker.Run<BenchService>(args);
}
