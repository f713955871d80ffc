namespace Rpyc.Bench.Tests;

// Tests that start server processes run one at a time: on a 2-core machine parallel servers would
// starve each other, and the mid-run kill test must only ever see its own server.
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServerProcesses
{
    public const string Name = "server processes";
}
