namespace Rpyc.Brine;

internal static class BrineLimits
{
    // Real messages nest about 6 deep, and Python's own recursion limit stops near a few hundred.
    public const int DefaultMaxDepth = 256;
}
