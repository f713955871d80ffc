namespace Rpyc.Bench.Cli.Commands;

internal static class ExitCodes
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;
    public const int Interrupted = 130;

    // 128 + SIGTERM, as a shell reports a process ended by it.
    public const int Terminated = 143;
}
