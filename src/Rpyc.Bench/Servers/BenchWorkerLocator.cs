namespace Rpyc.Bench;

// The worker program of the rpyc_forking target: the NativeAOT rpyc-bench-worker (src/Rpyc.Bench.Worker)
// when it was published beside the application, else ForkingServer's default, the JIT rpyc-worker.dll.
// RPYCBENCH_FORKING_WORKER=jit forces the default, any other value names the worker program.
internal static class BenchWorkerLocator
{
    public const string Folder = "aot-worker";
    public const string ProgramFile = "rpyc-bench-worker";

    public static string? Find()
    {
        string? chosen = Environment.GetEnvironmentVariable("RPYCBENCH_FORKING_WORKER");
        if (string.Equals(chosen, "jit", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        if (!string.IsNullOrEmpty(chosen))
        {
            return File.Exists(chosen) ? chosen : throw new ServerStartException($"The ForkingServer worker {chosen} (RPYCBENCH_FORKING_WORKER) does not exist.");
        }
        string published = Path.Combine(AppContext.BaseDirectory, Folder, ProgramFile);
        // Published from the same tree as this build (bench.sh publishes it after building the CLI),
        // so it speaks the server's hand-off (its command line, SCM_RIGHTS).
        return File.Exists(published) ? published : null;
    }
}
